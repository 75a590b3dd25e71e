//! `sleep`, bounded by the eval's deadline and cancellation (rhai's blocks
//! the thread for as long as asked, and panics on a huge float).

use std::time::Duration;

use rhai::{FLOAT, FuncRegistration, INT, Module};

use super::RhaiResultOf;

use crate::budget;

pub(super) fn register(module: &mut Module) {
    FuncRegistration::new("sleep")
        .with_purity(false)
        .with_volatility(true)
        .set_into_module(module, sleep);
    FuncRegistration::new("sleep")
        .with_purity(false)
        .with_volatility(true)
        .set_into_module(module, sleep_float);
}

fn sleep(seconds: INT) -> RhaiResultOf<()> {
    if seconds <= 0 {
        return Ok(());
    }
    budget::sleep(Duration::from_secs(seconds.unsigned_abs()))
}

fn sleep_float(seconds: FLOAT) -> RhaiResultOf<()> {
    if !seconds.is_normal() || seconds.is_sign_negative() {
        return Ok(());
    }
    budget::sleep(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
}
