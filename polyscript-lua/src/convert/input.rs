//! The eval's input as the `ctx` table.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use polyscript_core::data::{self, Budget, DataError, IntOrFloat};
use polyscript_core::{Map, Value};

use crate::raw::{ensure_stack, with_raw_state};

/// Stack slots of the arguments inside the protected call.
const ENV: c_int = 1;
const ARRAY_MT: c_int = 2;

/// Where the array metatable is while a value is pushed (a stack slot or an
/// upvalue's pseudo-index): lists get it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArrayMt(pub(crate) c_int);

/// Converts `input` into a table (at depth 1) and stores it as `ctx` in
/// `env`, within `budget`.
pub(crate) fn set_ctx(
    lua: &mlua::Lua,
    env: &mlua::Table,
    array_mt: &mlua::Table,
    input: &Map,
    mut budget: Budget,
) -> Result<(), DataError> {
    with_raw_state(lua, (env, array_mt), |l| {
        // SAFETY: `l` is the state inside the protected call, with `env`
        // and the array metatable at ENV and ARRAY_MT.
        unsafe {
            ensure_stack(l, 2)?;
            ffi::lua_pushstring(l, c"ctx".as_ptr());
            push_map(l, input, 1, &mut budget, ArrayMt(ARRAY_MT))?;
            ffi::lua_rawset(l, ENV);
            Ok(())
        }
    })
    .map_err(|e| DataError::other(format!("cannot create the input table: {e}")))?
}

/// How many slots to reserve for `len` entries: no more than the budget
/// could ever let the conversion fill.
fn size_hint(len: usize, budget: &Budget) -> c_int {
    let affordable = budget.bytes_left() / Budget::VALUE_BYTES + 1;
    len.min(usize::try_from(affordable).unwrap_or(usize::MAX))
        .min(c_int::MAX as usize) as c_int
}

/// Pushes `value`, inside a container at `depth` (0: at the top), within
/// `budget`.
///
/// # Safety
///
/// `l` must have a free stack slot (containers check their own), `mt` must
/// index the array metatable, and the state must be unable to raise while
/// it allocates (no memory limit set): see the [module docs](super).
pub(crate) unsafe fn push_value(
    l: *mut lua_State,
    value: &Value,
    depth: u32,
    budget: &mut Budget,
    mt: ArrayMt,
) -> Result<(), DataError> {
    budget.charge_value()?;
    // SAFETY: pushes onto a stack with room (checked per container).
    unsafe {
        match value {
            Value::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
            Value::Bool(b) => ffi::lua_pushboolean(l, c_int::from(*b)),
            Value::Number(n) => match data::i64_from_json(n)? {
                IntOrFloat::Int(i) => ffi::lua_pushinteger(l, i),
                IntOrFloat::Float(f) => ffi::lua_pushnumber(l, f),
            },
            Value::String(s) => {
                budget.charge_bytes(s.len())?;
                ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
            }
            Value::Array(items) => {
                data::with_stack(|| push_list(l, items, depth + 1, budget, mt))?;
            }
            Value::Object(map) => data::with_stack(|| push_map(l, map, depth + 1, budget, mt))?,
        }
    }
    Ok(())
}

unsafe fn push_list(
    l: *mut lua_State,
    items: &[Value],
    depth: u32,
    budget: &mut Budget,
    mt: ArrayMt,
) -> Result<(), DataError> {
    budget.enter(depth)?;
    // SAFETY: as `push_value`; the table is at -2 while each item is set.
    unsafe {
        ensure_stack(l, 3)?;
        ffi::lua_createtable(l, size_hint(items.len(), budget), 0);
        for (i, item) in items.iter().enumerate() {
            push_value(l, item, depth, budget, mt).map_err(|e| e.at_index(i))?;
            ffi::lua_rawseti(l, -2, i as i64 + 1);
        }
        ffi::lua_pushvalue(l, mt.0);
        ffi::lua_setmetatable(l, -2);
    }
    Ok(())
}

unsafe fn push_map(
    l: *mut lua_State,
    map: &Map,
    depth: u32,
    budget: &mut Budget,
    mt: ArrayMt,
) -> Result<(), DataError> {
    budget.enter(depth)?;
    // SAFETY: as `push_value`; the table is at -3 while each entry is set.
    unsafe {
        ensure_stack(l, 4)?;
        ffi::lua_createtable(l, 0, size_hint(map.len(), budget));
        for (key, value) in map {
            budget.charge_bytes(key.len())?;
            ffi::lua_pushlstring(l, key.as_ptr().cast(), key.len());
            push_value(l, value, depth, budget, mt).map_err(|e| e.at_key(key.as_str()))?;
            ffi::lua_rawset(l, -3);
        }
    }
    Ok(())
}
