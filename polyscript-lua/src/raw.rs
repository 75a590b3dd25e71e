//! Direct use of the Lua C API inside one protected call, for the hot paths
//! (conversions, the reset after each eval) where mlua's per-call locking,
//! stack guards and protection would cost more than the work.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use polyscript_core::data::DataError;

/// Makes room for `n` more values on the Lua stack.
pub(crate) unsafe fn ensure_stack(l: *mut lua_State, n: c_int) -> Result<(), DataError> {
    // SAFETY: lua_checkstack never raises; it reports failure.
    if unsafe { ffi::lua_checkstack(l, n) } == 0 {
        return Err(DataError::other("the Lua stack is full"));
    }
    Ok(())
}

/// Runs `f` inside one protected call on `lua` with `args` on the stack
/// (at 1, 2, ...), returning what `f` returns.
///
/// `f` must not raise a Lua error: a `longjmp` out of it would skip its
/// destructors. A panic in it is caught and resumed outside the call, so it
/// never unwinds through Lua's C frames.
pub(crate) fn with_raw_state<A, R>(
    lua: &mlua::Lua,
    args: A,
    f: impl FnOnce(*mut lua_State) -> R,
) -> mlua::Result<R>
where
    A: mlua::IntoLuaMulti,
{
    let mut out = None;
    // SAFETY: `f` raises no Lua error (the contract above) and cannot unwind
    // into Lua: a panic is caught here and resumed outside.
    unsafe {
        lua.exec_raw::<()>(args, |l| {
            out = Some(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
                || f(l),
            )));
            ffi::lua_settop(l, 0);
        })?;
    }
    match out {
        Some(Ok(value)) => Ok(value),
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => Err(mlua::Error::runtime("the raw call did not run")),
    }
}
