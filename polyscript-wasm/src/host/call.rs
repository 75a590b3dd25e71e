//! One host call from a WASM guest, engine-neutral: JSON arguments in, a
//! JSON result or an error message out, or the error that ends the eval.

use std::sync::OnceLock;

use polyscript_core::data::{self, Budget, Direction};
use polyscript_core::host::HostFunction;
use polyscript_core::{CancelToken, EngineKind, Guard, Limits, ScriptId, Value};

use super::scope;

/// What the guest gets back from a call that did not end the eval.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The function's result, as JSON.
    Ok(Vec<u8>),
    /// The function failed (an error it returned, a panic, wrong
    /// arguments): `NAME: MESSAGE`, which the guest may handle.
    Failed(String),
}

/// Marks a trap raised because the eval must end (the error itself is
/// handed over through [`scope::stop_with`]).
#[derive(Debug)]
pub(crate) struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the eval was stopped during a host call")
    }
}

impl std::error::Error for Stopped {}

/// Calls `function` with the JSON array `args`, for the eval running on
/// this thread. `Err(Stopped)` means the eval must end: the caller traps,
/// and the error (timeout, cancellation, a result too large for the memory
/// limit) has been recorded for the engine.
pub(crate) fn call(
    function: &HostFunction,
    args: &[u8],
    engine: EngineKind,
    script_id: ScriptId,
) -> Result<Reply, Stopped> {
    scope::with_current(|guard| match guard {
        Some(guard) => call_with(function, args, guard),
        None => {
            // Outside an eval (a raw `ExtismInstance::call`): no deadline,
            // no cancellation, default data bounds.
            let token = idle_token();
            let guard = Guard::new(engine, script_id, Limits::unlimited(), None, token);
            call_with(function, args, &guard)
        }
    })
}

fn call_with(function: &HostFunction, args: &[u8], guard: &Guard<'_>) -> Result<Reply, Stopped> {
    let args = match parse_args(args, guard) {
        Ok(args) => args,
        Err(message) => return Ok(Reply::Failed(format!("{}: {message}", function.name()))),
    };
    match function.call(&args, guard) {
        Ok(value) => {
            let json = serde_json::to_vec(&value).unwrap_or_else(|_| b"null".to_vec());
            // The guest holds the result in its memory: a result larger than
            // the eval's memory limit ends the eval like any other data.
            if let Err(e) = Budget::for_limits(guard.limits()).charge_bytes(json.len()) {
                scope::stop_with(e.into_error(Direction::Input, guard.engine(), guard.script_id()));
                return Err(Stopped);
            }
            Ok(Reply::Ok(json))
        }
        Err(e) if e.is_interrupt() => {
            scope::stop_with(e.into_error(guard));
            Err(Stopped)
        }
        Err(e) => Ok(Reply::Failed(e.message().to_owned())),
    }
}

/// The arguments: a JSON array within the eval's data bounds.
fn parse_args(args: &[u8], guard: &Guard<'_>) -> Result<Vec<Value>, String> {
    let mut budget = Budget::for_limits(guard.limits());
    match data::parse_json(args, &mut budget) {
        Ok(Some(Value::Array(values))) => Ok(values),
        Ok(Some(other)) => Err(format!(
            "the arguments must be a JSON array, got {}",
            polyscript_core::ValueType::of(&other)
        )),
        Ok(None) => Err("the arguments are not JSON".into()),
        Err(e) => Err(format!(
            "the arguments: {}",
            e.into_error(Direction::Input, guard.engine(), guard.script_id())
        )),
    }
}

/// A token nobody cancels, for host calls outside an eval.
fn idle_token() -> &'static CancelToken {
    static TOKEN: OnceLock<CancelToken> = OnceLock::new();
    TOKEN.get_or_init(CancelToken::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::Error;
    use polyscript_core::host::{HostError, HostFunctions};

    fn f(name: &str) -> HostFunction {
        let registry = HostFunctions::new()
            .register("add", |(a, b): (i64, i64)| Ok(a + b))
            .register("fail", |(m,): (String,)| -> Result<(), HostError> {
                Err(HostError::new(m))
            });
        registry.get(name).cloned().unwrap()
    }

    fn guarded<R>(token: &CancelToken, f: impl FnOnce() -> R) -> (R, Option<Error>) {
        let guard = Guard::new(
            EngineKind::Wasi,
            ScriptId::of(b"x"),
            Limits::default(),
            None,
            token,
        );
        scope::run(&guard, f)
    }

    #[test]
    fn results_errors_and_stops() {
        let token = CancelToken::new();
        let id = ScriptId::of(b"x");
        let (reply, _) = guarded(&token, || call(&f("add"), b"[2, 40]", EngineKind::Wasi, id));
        assert_eq!(reply.unwrap(), Reply::Ok(b"42".to_vec()));
        let (reply, _) = guarded(&token, || {
            call(&f("fail"), br#"["no"]"#, EngineKind::Wasi, id)
        });
        assert_eq!(reply.unwrap(), Reply::Failed("fail: no".into()));
        let (reply, _) = guarded(&token, || call(&f("add"), b"{}", EngineKind::Wasi, id));
        assert!(
            matches!(reply.unwrap(), Reply::Failed(m) if m.starts_with("add: the arguments must be"))
        );
        token.cancel();
        let (reply, stop) = guarded(&token, || call(&f("add"), b"[1, 1]", EngineKind::Wasi, id));
        assert!(reply.is_err());
        assert!(matches!(stop, Some(Error::Cancelled { .. })), "{stop:?}");
    }

    #[test]
    fn outside_an_eval_calls_still_work() {
        let reply = call(&f("add"), b"[1, 2]", EngineKind::Extism, ScriptId::of(b"x"));
        assert_eq!(reply.unwrap(), Reply::Ok(b"3".to_vec()));
    }
}
