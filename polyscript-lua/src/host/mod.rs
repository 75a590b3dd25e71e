//! Host functions in Lua: the registry's functions as `host.NAME(...)`.
//!
//! Each state gets one table of C closures, one per registered name, which
//! the sandbox wraps in a read-only view like the libraries (`host`). Every
//! closure has three upvalues: the state's [`Binding`] (a full userdata
//! owning a clone of the registry, dropped by its `__gc` when the state
//! closes), the function's name, and the array metatable (so list results
//! come back as lists, and list arguments are read as lists). No script can
//! reach the upvalues: `debug` is never available.
//!
//! The call itself is in [`call`]: the arguments are read with the result
//! converter ([`convert::output`](crate::convert::output)), the registry
//! does the rest ([`HostFunctions::call`]: argument types, panics, deadline
//! and cancellation), and the result is pushed with the input converter.
//! The eval's [`Guard`](polyscript_core::Guard) comes from the armed watch
//! ([`watch::current_guard`](crate::watch::current_guard)).

mod call;

use std::ffi::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mlua::ffi::{self, lua_State};
use mlua::{Lua, Table, WeakLua};
use polyscript_core::host::HostFunctions;

use crate::raw::with_raw_state;

/// What every host closure of a state shares: the registry, and the state
/// itself (weakly: the state owns this), to lift its memory limit while a
/// result or an error message is pushed (see [`call`]).
pub(crate) struct Binding {
    registry: HostFunctions,
    lua: WeakLua,
}

// Lua aligns userdata memory for any C type (`LUAI_MAXALIGN`: at least 8).
const _: () = assert!(std::mem::align_of::<Option<Binding>>() <= 8);

/// The table of host functions for `lua`: one closure per name in
/// `registry`, keyed by the name (empty for an empty registry). The sandbox
/// makes it the read-only `host`.
pub(crate) fn functions_table(
    lua: &Lua,
    registry: &HostFunctions,
    array_mt: &Table,
) -> mlua::Result<Table> {
    let count = registry.names().count();
    let table = lua.create_table_with_capacity(0, count)?;
    if count == 0 {
        return Ok(table);
    }
    let binding = Binding {
        registry: registry.clone(),
        lua: lua.weak(),
    };
    // Slots inside the raw call: the table, the array metatable, then the
    // binding.
    const TABLE: c_int = 1;
    const ARRAY_MT: c_int = 2;
    const BINDING: c_int = 3;
    with_raw_state(lua, (&table, array_mt), move |l| {
        // SAFETY: the state runs without a memory limit here (an instance is
        // being built), so these allocations raise no Lua error; six slots
        // at most are used, checked first.
        unsafe {
            if ffi::lua_checkstack(l, 6) == 0 {
                return Err(mlua::Error::runtime("the Lua stack is full"));
            }
            push_binding(l, binding);
            for name in registry.names() {
                ffi::lua_pushlstring(l, name.as_ptr().cast(), name.len());
                ffi::lua_pushvalue(l, BINDING);
                ffi::lua_pushlstring(l, name.as_ptr().cast(), name.len());
                ffi::lua_pushvalue(l, ARRAY_MT);
                ffi::lua_pushcclosure(l, call::host_call, call::UPVALUES);
                ffi::lua_rawset(l, TABLE);
            }
            Ok(())
        }
    })??;
    Ok(table)
}

/// Pushes a full userdata owning `binding`, with a `__gc` that drops it.
unsafe fn push_binding(l: *mut lua_State, binding: Binding) {
    // SAFETY: the new block is at least `size_of` bytes and aligned for
    // `Binding` (asserted above); it is written before anything can read it.
    unsafe {
        let slot = ffi::lua_newuserdatauv(l, std::mem::size_of::<Option<Binding>>(), 0)
            .cast::<Option<Binding>>();
        slot.write(Some(binding));
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushcfunction(l, drop_binding);
        ffi::lua_setfield(l, -2, c"__gc".as_ptr());
        ffi::lua_setmetatable(l, -2);
    }
}

/// The binding of the closure running (its first upvalue), unless the
/// state is closing and has dropped it.
unsafe fn binding<'a>(l: *mut lua_State) -> Option<&'a Binding> {
    // SAFETY: the first upvalue of every host closure is the userdata
    // `push_binding` made, alive as long as the closure.
    unsafe {
        let slot = ffi::lua_touserdata(l, call::BINDING).cast::<Option<Binding>>();
        slot.as_ref()?.as_ref()
    }
}

/// `__gc` of the binding: drops it (once; the slot is left empty). A panic
/// in a registered closure's captured values' `Drop` is swallowed here, not
/// unwound into Lua's collector.
unsafe extern "C-unwind" fn drop_binding(l: *mut lua_State) -> c_int {
    // SAFETY: Lua passes the userdata being finalized at 1; only
    // `push_binding`'s metatable has this `__gc`.
    let slot = unsafe { ffi::lua_touserdata(l, 1).cast::<Option<Binding>>() };
    if let Some(slot) = unsafe { slot.as_mut() } {
        let binding = slot.take();
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(binding))) {
            forget_payload(payload);
        }
    }
    0
}

/// Disposes of a caught panic's payload without letting its own `Drop`
/// (which could panic too) unwind.
pub(crate) fn forget_payload(payload: Box<dyn std::any::Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}
