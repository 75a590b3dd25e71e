//! Turning Extism call errors into [`polyscript_core::Error`]s.

use polyscript_core::{Error, Guard, LimitKind};

/// What an Extism call error means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The plugin was interrupted (an epoch bump: our cancel, or another
    /// instance's on the same compiled module).
    Interrupted,
    /// The memory limiter refused to grow memory.
    OutOfMemory,
    /// Fuel ran out.
    OutOfFuel,
    /// The wasm stack overflowed.
    StackOverflow,
    /// Anything else: a guest error, a trap, a non-zero return.
    Other,
}

/// Classifies an Extism error by the wasmtime trap in its chain and by the
/// messages Extism 1.30 uses (`"timeout"`, `"oom"`, `"plugin ran out of fuel"`).
pub(crate) fn classify(error: &extism::Error) -> Failure {
    for cause in error.chain() {
        if let Some(trap) = cause.downcast_ref::<wasmtime::Trap>() {
            match trap {
                wasmtime::Trap::Interrupt => return Failure::Interrupted,
                wasmtime::Trap::OutOfFuel => return Failure::OutOfFuel,
                wasmtime::Trap::StackOverflow => return Failure::StackOverflow,
                _ => {}
            }
        }
    }
    let root = error.root_cause().to_string();
    let full = format!("{error:#}");
    match root.as_str() {
        "timeout" => Failure::Interrupted,
        "oom" => Failure::OutOfMemory,
        _ if full.contains("ran out of fuel") || full.contains("all fuel consumed") => {
            Failure::OutOfFuel
        }
        _ if full.contains("call stack exhausted") => Failure::StackOverflow,
        _ if full.contains("interrupt") && full.contains("wasm trap") => Failure::Interrupted,
        _ => Failure::Other,
    }
}

/// The polyscript error for a failure that is not an interrupt.
pub(crate) fn to_error(
    guard: &Guard<'_>,
    failure: Failure,
    error: &extism::Error,
    code: i32,
) -> Error {
    let message = format!("{error:#}");
    match failure {
        Failure::OutOfMemory => guard.limit_error(
            LimitKind::Memory,
            format!("linear memory cannot grow past its maximum: {message}"),
        ),
        Failure::OutOfFuel => {
            guard.limit_error(LimitKind::Operations, format!("fuel exhausted: {message}"))
        }
        Failure::StackOverflow => guard.limit_error(
            LimitKind::CallDepth,
            format!("wasm stack exhausted: {message}"),
        ),
        Failure::Interrupted => guard.interrupt_error(),
        Failure::Other if code != 0 && code != -1 && !message.contains(&code.to_string()) => {
            guard.runtime_error(format!("{message} (return code {code})"), None)
        }
        Failure::Other => guard.runtime_error(message, None),
    }
}
