//! `host.NAME(...)`: one call of a host function from a script.
//!
//! The arguments are converted like a script's result (the value table's
//! right column, [`result::from_js`]: `JSON.stringify` semantics, the
//! number rule), all of one call's against one [`Budget`]; the registry
//! does the rest ([`HostFunction::call`]: argument types, panics,
//! cancellation before and the deadline after), and the result is
//! converted like `ctx` ([`input::value_to_js`]) against a budget of its
//! own. What can go wrong becomes either a catchable JavaScript error
//! (`TypeError` for arguments, `Error` for the rest, message `NAME: ...`)
//! or the end of the eval ([`interrupt::stop`]), which no `catch` or
//! `finally` sees.
//!
//! # Memory
//!
//! With the accounting allocator, the eval's meter is paused while the call
//! runs ([`Paused`]), as in the Rhai engine: what the host function
//! allocates and frees on its own is the host's, not the script's. When the
//! pause ends, the meter counts what the script now holds that it did not
//! hold before (the converted result), and an eval past its limit then
//! has its interrupt flag raised, which the VM acts on at its next step.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use boa_engine::error::RuntimeLimitError;
use boa_engine::{Context, JsError, JsNativeError, JsResult, JsValue};
use boa_gc::{Finalize, Trace, empty_trace};
use polyscript_core::alloc::MemoryMeter;
use polyscript_core::data::{Budget, DataError, DataErrorKind};
use polyscript_core::host::{HostCallErrorKind, HostFunction};
use polyscript_core::{EngineKind, Error, Guard, LimitKind, Value};

use super::Binding;
use crate::convert::{input, result};
use crate::interrupt::{self, Reason};

/// Arguments converted without a heap allocation for the list (host
/// functions take at most eight typed ones).
const INLINE_ARGS: usize = 8;

/// What a host function's native function holds: no garbage-collected
/// value, so there is nothing to trace.
#[derive(Finalize)]
pub(super) struct Captures {
    binding: Rc<Binding>,
    function: HostFunction,
}

impl Captures {
    pub(super) fn new(binding: Rc<Binding>, function: HostFunction) -> Self {
        Captures { binding, function }
    }
}

// SAFETY: `Captures` holds no `Gc` pointer (an `Rc` of plain cells and the
// registry's `Arc`s), so an empty trace is complete.
unsafe impl Trace for Captures {
    empty_trace!();
}

/// The native function behind every `host.NAME`.
pub(super) fn host_call(
    _this: &JsValue,
    args: &[JsValue],
    captures: &Captures,
    context: &mut Context,
) -> JsResult<JsValue> {
    let function = &captures.function;
    // SAFETY: the reference is used within this call only.
    let Some(guard) = (unsafe { captures.binding.guard() }) else {
        return Err(error(format!(
            "{}: host functions can only be called while an eval runs",
            function.name()
        )));
    };
    // A stopped eval runs no more host code.
    if interrupt::is_stopped() {
        return Err(JsError::from(RuntimeLimitError::Interrupted));
    }
    // The registry catches panics in host functions; this catches one in
    // the conversions around them, so nothing unwinds through boa.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let paused = Paused::start();
        let outcome = call(function, args, guard, context);
        drop(paused);
        outcome
    }));
    outcome.unwrap_or_else(|payload| {
        let message = polyscript_core::panic_message(payload.as_ref());
        Err(interrupt::stop(Reason::Host(Box::new(
            Error::EnginePanic {
                engine: EngineKind::JavaScript,
                script_id: guard.script_id(),
                message: format!(
                    "in the host function binding of {}: {message}",
                    function.name()
                ),
            },
        ))))
    })
}

/// The call proper: conversions and the registry's call.
fn call(
    function: &HostFunction,
    args: &[JsValue],
    guard: &Guard<'_>,
    context: &mut Context,
) -> JsResult<JsValue> {
    let name = function.name();
    let mut budget = Budget::for_limits(guard.limits());
    let mut convert = |index: usize, arg: &JsValue, context: &mut Context| {
        result::from_js(arg, &mut budget, context).map_err(|e| match e {
            result::ResultError::Js(e) => e,
            result::ResultError::Data(e) => {
                let what = format!("argument {}", index + 1);
                data_failure(name, &what, &what, e, guard, Kind::Type)
            }
        })
    };
    let outcome = if args.len() <= INLINE_ARGS {
        let mut values: [Value; INLINE_ARGS] = Default::default();
        for (index, (slot, arg)) in values.iter_mut().zip(args).enumerate() {
            *slot = convert(index, arg, context)?;
        }
        function.call(&values[..args.len()], guard)
    } else {
        let mut values = Vec::with_capacity(args.len());
        for (index, arg) in args.iter().enumerate() {
            values.push(convert(index, arg, context)?);
        }
        function.call(&values, guard)
    };
    let value = match outcome {
        Ok(value) => value,
        Err(e) if e.is_interrupt() => {
            return Err(interrupt::stop(Reason::Host(Box::new(e.into_error(guard)))));
        }
        Err(e) if e.kind() == HostCallErrorKind::Arguments => {
            return Err(type_error(e.message().to_owned()));
        }
        Err(e) => return Err(error(e.message().to_owned())),
    };
    input::value_to_js(&value, &mut Budget::for_limits(guard.limits()), context)
        .map_err(|e| data_failure(name, "its result", "result", e, guard, Kind::Error))
}

/// Which JavaScript error a catchable failure is.
#[derive(Clone, Copy)]
enum Kind {
    /// Arguments the function cannot take (as built-ins throw for them).
    Type,
    /// Everything else.
    Error,
}

/// For data that did not fit the eval's budget (`what`: "argument 2", "its
/// result"; `root`: the start of the path): more than the memory limit
/// ends the eval, anything else is the script's to catch.
fn data_failure(
    name: &str,
    what: &str,
    root: &str,
    e: DataError,
    guard: &Guard<'_>,
    kind: Kind,
) -> JsError {
    match e.kind() {
        DataErrorKind::TooLarge { limit } => {
            interrupt::stop(Reason::Host(Box::new(guard.limit_error(
                LimitKind::Memory,
                format!(
                    "host function {name}: converting {what} needs more than {limit} bytes \
                     (stopped at {})",
                    e.path(root)
                ),
            ))))
        }
        data => {
            let message = format!("{name}: {what}{}: {data}", e.path(""));
            match kind {
                Kind::Type => type_error(message),
                Kind::Error => error(message),
            }
        }
    }
}

/// A catchable `Error` with `message`.
fn error(message: String) -> JsError {
    JsNativeError::error().with_message(message).into()
}

/// A catchable `TypeError` with `message`.
fn type_error(message: String) -> JsError {
    JsNativeError::typ().with_message(message).into()
}

/// The eval's memory meter, paused (see the module docs): a meter without
/// a limit nested in the eval's. Dropping it restores the eval's meter,
/// which then counts whatever the thread holds beyond the eval's baseline.
/// Nothing when the eval is not metered.
struct Paused(#[allow(dead_code)] Option<MemoryMeter>);

impl Paused {
    fn start() -> Self {
        Paused(
            interrupt::is_metered()
                .then(|| MemoryMeter::start(u64::MAX))
                .flatten(),
        )
    }
}
