//! Turning Extism call errors into [`polyscript_core::Error`]s.

use polyscript_core::{Error, Guard, LimitKind};

use crate::WasmRuntime;

/// What an Extism call error means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The plugin was interrupted: its own eval's interrupt check fired (no
    /// other plugin's stop reaches it, see `runtime/ticker.rs`).
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

/// The polyscript error for `failure`.
pub(crate) fn to_error(
    guard: &Guard<'_>,
    runtime: &WasmRuntime,
    failure: Failure,
    error: &extism::Error,
    code: i32,
) -> Error {
    let message = format!("{error:#}");
    match failure {
        Failure::OutOfMemory => guard.limit_error(
            LimitKind::Memory,
            format!("linear memory cannot grow past the instance's memory limit: {message}"),
        ),
        Failure::OutOfFuel => {
            guard.limit_error(LimitKind::Operations, format!("fuel exhausted: {message}"))
        }
        Failure::StackOverflow => guard.limit_error(
            LimitKind::CallDepth,
            format!("wasm stack exhausted: {message}"),
        ),
        // Only this eval's own check interrupts its plugin, and it fires only
        // past the deadline or once cancelled. Should it ever fire otherwise,
        // the call fails (it is never silently run again).
        Failure::Interrupted if guard.check().is_err() => guard.interrupt_error(),
        Failure::Interrupted => guard.runtime_error(
            format!("the plugin was interrupted although its eval was neither late nor cancelled: {message}"),
            None,
        ),
        Failure::Other => {
            if let Some(capacity) = runtime.capacity_message(error.chain(), &message) {
                return guard.limit_error(LimitKind::Memory, capacity);
            }
            if code != 0 && code != -1 && !message.contains(&code.to_string()) {
                guard.runtime_error(format!("{message} (return code {code})"), None)
            } else {
                guard.runtime_error(message, None)
            }
        }
    }
}
