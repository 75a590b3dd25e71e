//! `host.NAME(...)`: one call of a host function from a script.
//!
//! The arguments are converted like a script's result (the value table's
//! right column, [`convert::from_rhai`]), all of one call's against one
//! [`Budget`]; the registry does the rest ([`HostFunction::call`]: argument
//! types, panics, cancellation before and the deadline after), and the
//! result is converted like `ctx` ([`convert::value_to_rhai`]), against a
//! budget of its own. What can go wrong becomes either a catchable rhai
//! runtime error `NAME: MESSAGE` ([`raise`]) or a sticky stop of the eval
//! ([`budget::stop_with`]), which no `try`/`catch` swallows.
//!
//! # Memory
//!
//! With the accounting allocator, the eval's meter is paused while the call
//! runs ([`Paused`]): what the host function allocates and frees on its own
//! (a buffer, a client's scratch space) is the host's, not the script's.
//! When the pause ends, the meter counts what the script now holds that it
//! did not hold before — the converted result — and an eval that then holds
//! more than its limit is stopped at once.

use polyscript_core::alloc::MemoryMeter;
use polyscript_core::data::{Budget, DataError, DataErrorKind};
use polyscript_core::host::HostFunction;
use polyscript_core::{Guard, LimitKind, Value};
use rhai::{Dynamic, EvalAltResult, Position};

use super::MAX_ARGS;
use crate::{budget, convert, trampoline};

type RhaiResultOf<T> = Result<T, Box<EvalAltResult>>;

/// Calls `function` with `args` for the eval running on this thread.
pub(super) fn call(function: &HostFunction, args: &[Dynamic]) -> RhaiResultOf<Dynamic> {
    // SAFETY: used within this call only, which the eval outlives.
    let Some(guard) = (unsafe { budget::current_guard() }) else {
        return Err(raise(format!(
            "{}: host functions can only be called while an eval runs",
            function.name()
        )));
    };
    // A stopped eval runs no more host code (a callback may still be
    // unwinding through a built-in).
    if budget::is_tripped() {
        return Err(budget::terminated());
    }
    let outcome = trampoline::run(|| {
        let paused = Paused::start();
        let outcome = call_with(function, args, guard);
        drop(paused);
        outcome
    });
    // What the script holds now, the result included, is within its limit
    // (else this stops it).
    budget::check_memory()?;
    outcome
}

/// The call proper: conversions and the registry's call.
fn call_with(
    function: &HostFunction,
    args: &[Dynamic],
    guard: &Guard<'_>,
) -> RhaiResultOf<Dynamic> {
    let name = function.name();
    // No `Vec` per call: at most `MAX_ARGS` values, `Null`s cost nothing.
    let mut values: [Value; MAX_ARGS] = Default::default();
    let mut budget = Budget::for_limits(guard.limits());
    for (index, (slot, arg)) in values.iter_mut().zip(args).enumerate() {
        *slot = convert::from_rhai(arg, &mut budget).map_err(|e| {
            let what = format!("argument {}", index + 1);
            data_failure(name, &what, &what, e, guard)
        })?;
    }
    let result = function.call(&values[..args.len()], guard);
    drop(values);
    let value = match result {
        Ok(value) => value,
        Err(e) if e.is_interrupt() => return Err(budget::stop_with(e.into_error(guard))),
        Err(e) => return Err(raise(e.message().to_owned())),
    };
    convert::value_to_rhai(&value, &mut Budget::for_limits(guard.limits()))
        .map_err(|e| data_failure(name, "its result", "result", e, guard))
}

/// A catchable runtime error with `message` (rhai adds the call's
/// position).
fn raise(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message), Position::NONE).into()
}

/// For data that did not fit the eval's budget (`what`: "argument 2", "its
/// result"; `root`: the start of the path): more than the memory limit
/// stops the eval, anything else is the script's to catch.
fn data_failure(
    name: &str,
    what: &str,
    root: &str,
    e: DataError,
    guard: &Guard<'_>,
) -> Box<EvalAltResult> {
    match e.kind() {
        DataErrorKind::TooLarge { limit } => budget::stop_with(guard.limit_error(
            LimitKind::Memory,
            format!(
                "host function {name}: converting {what} needs more than {limit} bytes \
                 (stopped at {})",
                e.path(root)
            ),
        )),
        kind => raise(format!("{name}: {what}{}: {kind}", e.path(""))),
    }
}

/// The eval's memory meter, paused (see the module docs): a meter without
/// a limit nested in the eval's. Dropping it restores the eval's meter,
/// which then counts whatever the thread holds beyond the eval's baseline.
/// Nothing when the eval is not metered.
struct Paused(#[allow(dead_code)] Option<MemoryMeter>);

impl Paused {
    fn start() -> Self {
        Paused(
            budget::metered()
                .then(|| MemoryMeter::start(u64::MAX))
                .flatten(),
        )
    }
}
