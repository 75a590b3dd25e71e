//! Conformance checks for host functions (see [`crate::host`]). The harness
//! installs [`host_functions`] in every evaluator it builds for a `Host*`
//! scenario.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    Check, Harness, STOP_MARGIN, Scenario, build, ctx, eval_value, expect_eq, single_instance,
};
use crate::host::{CallContext, HostError, HostFunctions};
use crate::{CancelToken, Error, Limits, PoolConfig, Value};

/// The host functions the `Host*` scenarios call:
///
/// * `add(a: i64, b: i64) -> a + b`
/// * `user(id: String) -> {"id": id, "name": "User <id>", "tags": ["a", "b"]}`
/// * `fail(message: String)` → fails with `message`
/// * `slow(ms: u64) -> ms`, after sleeping `ms` milliseconds (at most the
///   eval's remaining time)
/// * `tenant() -> String`, the `String` host data of the eval's context
///   (`null` without one)
pub fn host_functions() -> HostFunctions {
    HostFunctions::new()
        .register("add", |(a, b): (i64, i64)| Ok(a.wrapping_add(b)))
        .register("user", |(id,): (String,)| {
            Ok(json!({"id": id, "name": format!("User {id}"), "tags": ["a", "b"]}))
        })
        .register("fail", |(message,): (String,)| -> Result<(), HostError> {
            Err(HostError::new(message))
        })
        .register_with_context("slow", |call: &CallContext<'_>, (ms,): (u64,)| {
            let wanted = Duration::from_millis(ms);
            std::thread::sleep(call.remaining().map_or(wanted, |left| left.min(wanted)));
            Ok(ms)
        })
        .register_with_context("tenant", |call: &CallContext<'_>, (): ()| {
            Ok(call.data::<String>().cloned())
        })
}

fn expect_runtime_error(what: &str, outcome: Result<Value, Error>, needles: &[&str]) -> Check {
    match outcome {
        Err(err @ Error::Runtime { .. }) => {
            let text = err.to_string();
            match needles.iter().find(|n| !text.contains(*n)) {
                None => Ok(()),
                Some(missing) => Err(format!(
                    "{what}: the error does not say {missing:?}: {text}"
                )),
            }
        }
        Err(other) => Err(format!("{what}: expected Error::Runtime, got {other}")),
        Ok(value) => Err(format!("{what}: expected Error::Runtime, got Ok({value})")),
    }
}

fn eval(ev: &crate::AnyEvaluator, data: Value) -> Result<Value, Error> {
    ev.eval(&crate::EvalContext::with_data(&data)?)
        .map(crate::Response::into_value)
}

/// Arguments in, a map result out, twice in one script.
pub fn check_host_call(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::HostCall,
        Limits::default(),
        PoolConfig::default(),
    )?;
    let got = eval_value(&ev, json!({"a": 2, "b": 40, "id": "u7"}))?;
    expect_eq(
        "host call",
        &got,
        &json!({"sum": 42, "user": {"id": "u7", "name": "User u7", "tags": ["a", "b"]}}),
    )
}

/// A host function's error is catchable in the script, with its message.
pub fn check_host_error_caught(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::HostErrorCaught,
        Limits::default(),
        single_instance(),
    )?;
    let got = eval_value(&ev, json!({"message": "out of stock"}))?;
    match got.as_str() {
        Some(text) if text.contains("fail: out of stock") => Ok(()),
        _ => Err(format!(
            "the caught error should say `fail: out of stock`, got {got}"
        )),
    }
}

/// Uncaught, it ends the eval as `Error::Runtime` naming the function.
pub fn check_host_error_uncaught(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::HostErrorUncaught,
        Limits::default(),
        single_instance(),
    )?;
    expect_runtime_error(
        "an uncaught host error",
        eval(&ev, json!({"message": "no such user"})),
        &["fail: no such user"],
    )
}

/// Wrong arguments are an error naming the function and what is wrong.
pub fn check_host_wrong_arguments(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::HostWrongArguments,
        Limits::default(),
        single_instance(),
    )?;
    expect_runtime_error(
        "wrong host arguments",
        eval(&ev, json!({"a": 1})),
        &["add", "takes 2 arguments"],
    )
}

/// A host call that outlasts the deadline ends the eval with `Timeout`
/// right after it returns, and the evaluator keeps working.
pub fn check_host_slow_call(h: &dyn Harness) -> Check {
    let limits = Limits::default().with_timeout(Duration::from_millis(300));
    let ev = build(h, Scenario::HostSlowCall, limits, single_instance())?;
    let start = Instant::now();
    match eval(&ev, json!({"ms": 60_000})) {
        Err(Error::Timeout { .. }) if start.elapsed() < STOP_MARGIN => {}
        Err(Error::Timeout { .. }) => {
            return Err(format!("timed out only after {:?}", start.elapsed()));
        }
        other => return Err(format!("expected Error::Timeout, got {other:?}")),
    }
    let got = eval_value(&ev, json!({"ms": 1}))?;
    expect_eq("a quick slow() call", &got, &json!("done"))
}

/// Host functions see the typed host data of the eval's own context.
pub fn check_host_data(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::HostData,
        Limits::default(),
        PoolConfig::default(),
    )?;
    for tenant in ["tenant-1", "tenant-2"] {
        let call = ctx(json!({}))?.with_host_data(tenant.to_owned());
        let got = ev
            .eval(&call)
            .map_err(|e| format!("eval failed: {e}"))?
            .into_value();
        expect_eq("host data", &got, &json!(tenant))?;
    }
    Ok(())
}

/// A script looping on host calls is stopped by cancellation: the next
/// host call fails at once.
pub fn check_host_cancel(h: &dyn Harness) -> Check {
    let limits = Limits::default()
        .with_timeout(Duration::from_secs(60))
        .without_operation_limit();
    let ev = build(h, Scenario::HostLoop, limits, single_instance())?;
    let token = CancelToken::new();
    let call = ctx(json!({}))?.with_cancel_token(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        token.cancel();
    });
    let start = Instant::now();
    let outcome = ev.eval(&call);
    let _ = canceller.join();
    match outcome {
        Err(Error::Cancelled { .. }) if start.elapsed() < STOP_MARGIN => Ok(()),
        other => Err(format!(
            "expected Error::Cancelled promptly, got {other:?} after {:?}",
            start.elapsed()
        )),
    }
}
