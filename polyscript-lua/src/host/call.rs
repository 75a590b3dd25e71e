//! `host.NAME(...)`: the C function behind every host function.
//!
//! # Raising Lua errors from Rust
//!
//! As in [`bounded`](crate::bounded), Lua reports errors with `longjmp`,
//! which skips Rust destructors. So the work that owns Rust values
//! ([`call`]: the arguments, the registry's result, messages) runs to its
//! end inside `catch_unwind` and leaves what to raise on the Lua stack; only
//! then, with nothing left to drop, does [`host_call`] raise. And whatever
//! `call` pushes while it owns Rust values (the result, a message) is pushed
//! with the state's memory limit lifted ([`Unlimited`]), so no allocation in
//! it can raise: the conversion is bounded by the eval's
//! [`Budget`] instead, and the limit, back on, counts what the result takes
//! from the next allocation on.

use std::ffi::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mlua::ffi::{self, lua_State};
use mlua::{Lua, WeakLua};
use polyscript_core::data::{Budget, DataError, DataErrorKind};
use polyscript_core::{EngineKind, Error, Guard, LimitKind, Value};

use super::{Binding, binding, forget_payload};
use crate::convert::input::{ArrayMt, push_value};
use crate::convert::output::{read_arg, read_scalar};
use crate::watch::{self, INTERRUPTED_C, Trip};

/// Upvalues of a host closure: the binding, the name, the array metatable.
pub(super) const UPVALUES: c_int = 3;
pub(super) const BINDING: c_int = ffi::lua_upvalueindex(1);
const NAME: c_int = ffi::lua_upvalueindex(2);
const ARRAY_MT: ArrayMt = ArrayMt(ffi::lua_upvalueindex(3));

/// What [`call`] leaves for [`host_call`] to do.
enum Outcome {
    /// The result is on the stack.
    Returned,
    /// A message (`NAME: MESSAGE`) is on the stack: raise it as a catchable
    /// error, with the caller's position.
    Raise,
    /// The eval is stopped (its watch says why): raise the interruption,
    /// which no protected call of the sandbox swallows.
    Stop,
}

/// Calls the registered function named by the closure's name upvalue with
/// the Lua arguments, for the eval armed on this thread.
pub(super) unsafe extern "C-unwind" fn host_call(l: *mut lua_State) -> c_int {
    // SAFETY: `l` is the running host closure's state (upvalues as
    // `functions_table` set them).
    let outcome = match catch_unwind(AssertUnwindSafe(|| unsafe { call(l) })) {
        Ok(outcome) => outcome,
        Err(payload) => {
            let message = polyscript_core::panic_message(payload.as_ref());
            forget_payload(payload);
            // SAFETY: used within this call.
            if let Some(guard) = unsafe { watch::current_guard() } {
                watch::stop(Trip::Host(Box::new(Error::EnginePanic {
                    engine: EngineKind::Lua,
                    script_id: guard.script_id(),
                    message: format!("in the host function binding: {message}"),
                })));
            }
            Outcome::Stop
        }
    };
    // Nothing with a destructor is alive from here on: raising is safe.
    // SAFETY: Lua C API use on the running state; the pushes may raise a
    // memory error instead, which ends the eval all the same.
    unsafe {
        match outcome {
            Outcome::Returned => 1,
            Outcome::Raise => {
                ffi::luaL_where(l, 1);
                ffi::lua_insert(l, -2);
                ffi::lua_concat(l, 2);
                ffi::lua_error(l)
            }
            Outcome::Stop => {
                ffi::lua_pushstring(l, INTERRUPTED_C.as_ptr());
                ffi::lua_error(l)
            }
        }
    }
}

/// The call, up to what to raise: everything that owns Rust values.
unsafe fn call(l: *mut lua_State) -> Outcome {
    // SAFETY: the caller's; the guard is used within this call only.
    unsafe {
        let Some(binding) = binding(l) else {
            return raise(
                l,
                None,
                "host functions are gone (the Lua state is closing)",
            );
        };
        let name = name(l);
        let Some(guard) = watch::current_guard() else {
            let message = format!("{name}: host functions can only be called while an eval runs");
            return raise(l, Some(binding), &message);
        };
        if watch::is_stopped() {
            return Outcome::Stop;
        }
        let args = match read_args(l, name, guard) {
            Ok(args) => args,
            Err(failure) => return finish(l, binding, failure),
        };
        // The arguments are Rust values now: free their slots for what is
        // pushed next.
        ffi::lua_settop(l, 0);
        match binding.registry.call(name, &args, guard) {
            Ok(value) => match push_result(l, binding, &value, guard) {
                Ok(()) => Outcome::Returned,
                Err(e) => finish(l, binding, Failure::result(name, e, guard)),
            },
            Err(e) if e.is_interrupt() => {
                watch::stop(Trip::Host(Box::new(e.into_error(guard))));
                Outcome::Stop
            }
            Err(e) => raise(l, Some(binding), e.message()),
        }
    }
}

/// The closure's name (an identifier, as the registry requires).
unsafe fn name<'a>(l: *mut lua_State) -> &'a str {
    let mut len = 0;
    // SAFETY: the name upvalue is a string, alive as long as the closure.
    let bytes = unsafe {
        let ptr = ffi::lua_tolstring(l, NAME, &mut len);
        if ptr.is_null() {
            return "?";
        }
        std::slice::from_raw_parts(ptr.cast::<u8>(), len)
    };
    std::str::from_utf8(bytes).unwrap_or("?")
}

/// A call that cannot go on: a catchable message, or a stop.
enum Failure {
    Raise(String),
    /// Boxed: keeps the results that carry a `Failure` small on the hot path.
    Stop(Box<Error>),
}

impl Failure {
    /// For data that did not fit the eval's budget (`what`: "argument 2",
    /// "its result"): a memory limit ends the eval, anything else is the
    /// script's to catch.
    fn data(name: &str, what: &str, root: &str, e: DataError, guard: &Guard<'_>) -> Self {
        match e.kind() {
            DataErrorKind::TooLarge { limit } => Failure::Stop(Box::new(guard.limit_error(
                LimitKind::Memory,
                format!(
                    "host function {name}: converting {what} needs more than {limit} bytes \
                     (stopped at {})",
                    e.path(root)
                ),
            ))),
            kind => Failure::Raise(format!("{name}: {what}{}: {kind}", e.path(""))),
        }
    }

    fn result(name: &str, e: DataError, guard: &Guard<'_>) -> Self {
        Self::data(name, "its result", "result", e, guard)
    }
}

/// Pushes the message of `failure`, or stops the eval with its error.
unsafe fn finish(l: *mut lua_State, binding: &Binding, failure: Failure) -> Outcome {
    match failure {
        // SAFETY: the caller's.
        Failure::Raise(message) => unsafe { raise(l, Some(binding), &message) },
        Failure::Stop(error) => {
            watch::stop(Trip::Host(error));
            Outcome::Stop
        }
    }
}

/// Pushes `message` for [`host_call`] to raise (the limit lifted, so the
/// push cannot raise while `message` is alive).
unsafe fn raise(l: *mut lua_State, binding: Option<&Binding>, message: &str) -> Outcome {
    let _unlimited = binding.map(|b| Unlimited::lift(&b.lua));
    // SAFETY: with the stack emptied, a C function has at least
    // LUA_MINSTACK (20) free slots.
    unsafe {
        ffi::lua_settop(l, 0);
        ffi::lua_pushlstring(l, message.as_ptr().cast(), message.len());
    }
    Outcome::Raise
}

/// The call's arguments as JSON, by the value table (the same rules as a
/// result), within the eval's budget.
unsafe fn read_args(
    l: *mut lua_State,
    name: &str,
    guard: &Guard<'_>,
) -> Result<Vec<Value>, Failure> {
    let mut budget = Budget::for_limits(guard.limits());
    // SAFETY: reading values raises no Lua error (see `read_arg`).
    unsafe {
        let count = ffi::lua_gettop(l);
        let affordable = budget.bytes_left() / Budget::VALUE_BYTES;
        let capacity = usize::try_from(count).unwrap_or(0);
        let mut args =
            Vec::with_capacity(capacity.min(usize::try_from(affordable).unwrap_or(usize::MAX)));
        for idx in 1..=count {
            // Numbers, booleans and nil inline; the rest by the general walk
            // (which also reports what the fast path refuses).
            if let Some(value) = read_scalar(l, idx)
                && budget.charge_value().is_ok()
            {
                args.push(value);
                continue;
            }
            match read_arg(l, idx, &mut budget, ARRAY_MT) {
                Ok(value) => args.push(value),
                Err(e) => {
                    let what = format!("argument {idx}");
                    return Err(Failure::data(name, &what, &what, e, guard));
                }
            }
        }
        Ok(args)
    }
}

/// Pushes the registry's result within the eval's budget.
unsafe fn push_result(
    l: *mut lua_State,
    binding: &Binding,
    value: &Value,
    guard: &Guard<'_>,
) -> Result<(), DataError> {
    let mut budget = Budget::for_limits(guard.limits());
    // Scalars need no allocation: only strings and containers lift the limit.
    let _unlimited = matches!(value, Value::String(_) | Value::Array(_) | Value::Object(_))
        .then(|| Unlimited::lift(&binding.lua));
    // SAFETY: the stack was emptied (room for the top value; containers
    // check their own), the array metatable is an upvalue, and the state
    // cannot raise while the limit is lifted.
    unsafe { push_value(l, value, 0, &mut budget, ARRAY_MT) }
}

/// The state's memory limit, lifted until dropped (also while unwinding).
struct Unlimited {
    lua: Option<Lua>,
    previous: usize,
}

impl Unlimited {
    fn lift(weak: &WeakLua) -> Self {
        let lua = weak.try_upgrade();
        // mlua's lock is reentrant: this thread holds it while Lua runs.
        let previous = lua
            .as_ref()
            .and_then(|lua| lua.set_memory_limit(0).ok())
            .unwrap_or(0);
        Unlimited { lua, previous }
    }
}

impl Drop for Unlimited {
    fn drop(&mut self) {
        if self.previous != 0
            && let Some(lua) = &self.lua
        {
            let _ = lua.set_memory_limit(self.previous);
        }
    }
}
