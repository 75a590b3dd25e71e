//! The chunk's result as JSON.

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_State};
use polyscript_core::data::{self, Budget, DataError, DataErrorKind};
use polyscript_core::{EvalInput, Map, Value};

use crate::convert::input::ArrayMt;
use crate::convert::lazy;
use crate::raw::ensure_stack;

/// Stack slots of the result and the array metatable inside the protected
/// call.
pub(crate) const RESULT: c_int = 1;
pub(crate) const ARRAY_MT: c_int = 2;

/// The tables on the path from the result to the one being read: a table
/// met again on its own path is a cycle. A linked list on the native stack
/// (no allocation); the path is at most the depth bound long.
struct Path<'a> {
    table: *const c_void,
    parent: Option<&'a Path<'a>>,
}

impl Path<'_> {
    fn contains(&self, table: *const c_void) -> bool {
        let mut node = Some(self);
        while let Some(path) = node {
            if path.table == table {
                return true;
            }
            node = path.parent;
        }
        false
    }
}

/// Converts the value at stack slot 1 (the chunk's first result) into JSON
/// within `budget`; the array metatable is at slot 2. `l` is a state inside
/// a protected call (see [`with_raw_state`](crate::raw::with_raw_state)).
///
/// # Safety
///
/// `l` must be such a state, with those two values in those slots.
pub(crate) unsafe fn read_result(
    l: *mut lua_State,
    mut budget: Budget,
) -> Result<Value, DataError> {
    // SAFETY: as the caller promises.
    unsafe { read_value(l, RESULT, 0, &mut budget, None, ArrayMt(ARRAY_MT)) }
}

/// Converts the value at stack index `idx` (absolute; at the top level, as
/// a host function's argument is) into JSON within `budget`; `mt` indexes
/// the array metatable. Raises no Lua error.
///
/// # Safety
///
/// `l` must be a state inside a C function or a protected call, `idx` a
/// valid absolute index and `mt` the array metatable's index.
pub(crate) unsafe fn read_arg(
    l: *mut lua_State,
    idx: c_int,
    budget: &mut Budget,
    mt: ArrayMt,
) -> Result<Value, DataError> {
    // SAFETY: as the caller promises.
    unsafe { read_value(l, idx, 0, budget, None, mt) }
}

/// The value at stack index `idx` (absolute), inside a container at `depth`.
unsafe fn read_value(
    l: *mut lua_State,
    idx: c_int,
    depth: u32,
    budget: &mut Budget,
    path: Option<&Path<'_>>,
    mt: ArrayMt,
) -> Result<Value, DataError> {
    budget.charge_value()?;
    // SAFETY: `idx` is a valid stack index; nothing here raises.
    unsafe {
        if let Some(value) = read_scalar(l, idx) {
            return Ok(value);
        }
        match ffi::lua_type(l, idx) {
            // What `read_scalar` refused: NaN and the infinities.
            ffi::LUA_TNUMBER => {
                data::float_to_json(ffi::lua_tonumberx(l, idx, std::ptr::null_mut()))
            }
            ffi::LUA_TSTRING => {
                let text = read_string(l, idx, budget)?;
                Ok(Value::String(text))
            }
            ffi::LUA_TTABLE => data::with_stack(|| read_table(l, idx, depth + 1, budget, path, mt)),
            ffi::LUA_TFUNCTION => Err(DataError::unsupported("a Lua function")),
            ffi::LUA_TTHREAD => Err(DataError::unsupported("a coroutine")),
            _ => Err(DataError::unsupported("a userdata")),
        }
    }
}

/// The value at `idx` if it is a scalar that converts without fail: `nil`,
/// `null`, a boolean, an integer or a finite float (`None` for anything
/// else, NaN and the infinities included). Uncharged: the caller charges
/// the value. Inlined, so that a host call's numeric arguments skip the
/// general walk.
#[inline]
pub(crate) unsafe fn read_scalar(l: *mut lua_State, idx: c_int) -> Option<Value> {
    // SAFETY: `idx` is a valid stack index; nothing here raises.
    unsafe {
        match ffi::lua_type(l, idx) {
            ffi::LUA_TNIL | ffi::LUA_TNONE => Some(Value::Null),
            ffi::LUA_TBOOLEAN => Some(Value::Bool(ffi::lua_toboolean(l, idx) != 0)),
            ffi::LUA_TNUMBER if ffi::lua_isinteger(l, idx) != 0 => Some(Value::from(
                ffi::lua_tointegerx(l, idx, std::ptr::null_mut()),
            )),
            ffi::LUA_TNUMBER => {
                data::float_to_json(ffi::lua_tonumberx(l, idx, std::ptr::null_mut())).ok()
            }
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, idx).is_null() => Some(Value::Null),
            _ => None,
        }
    }
}

/// The string at `idx` as UTF-8 text, charged to `budget`.
unsafe fn read_string(
    l: *mut lua_State,
    idx: c_int,
    budget: &mut Budget,
) -> Result<String, DataError> {
    let mut len = 0;
    // SAFETY: the value at `idx` is a string (no conversion in place, which
    // would confuse `lua_next`); Lua owns the bytes while it is on the stack.
    let bytes = unsafe {
        let ptr = ffi::lua_tolstring(l, idx, &mut len);
        std::slice::from_raw_parts(ptr.cast::<u8>(), len)
    };
    budget.charge_bytes(len)?;
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => Err(DataError::other(format!(
            "a string that is not valid UTF-8 (byte {} of {len}); JSON text must be UTF-8",
            e.valid_up_to() + 1
        ))),
    }
}

/// What a table's keys say it is.
enum Shape {
    List(Vec<(i64, Value)>),
    Map(Vec<(String, Value)>),
}

unsafe fn read_table(
    l: *mut lua_State,
    idx: c_int,
    depth: u32,
    budget: &mut Budget,
    parent: Option<&Path<'_>>,
    mt: ArrayMt,
) -> Result<Value, DataError> {
    budget.enter(depth)?;
    // SAFETY: `idx` holds a table; the walk pushes at most a key and a value
    // (room checked) and reads without metamethods.
    unsafe {
        let table = ffi::lua_topointer(l, idx);
        if parent.is_some_and(|p| p.contains(table)) {
            return Err(DataError::new(DataErrorKind::Cycle));
        }
        let path = Path { table, parent };
        ensure_stack(l, 4)?;
        if let Some(input) = lazy::proxy_input(table) {
            return read_proxy(l, idx, input, depth, budget, &path, mt);
        }
        let marked_list = ffi::lua_getmetatable(l, idx) != 0 && {
            let same = ffi::lua_rawequal(l, -1, mt.0) != 0;
            ffi::lua_pop(l, 1);
            same
        };
        let mut items: Vec<(i64, Value)> = Vec::new();
        let mut entries: Vec<(String, Value)> = Vec::new();
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, idx) != 0 {
            let value = ffi::lua_gettop(l);
            let key = value - 1;
            match ffi::lua_type(l, key) {
                ffi::LUA_TNUMBER if ffi::lua_isinteger(l, key) != 0 => {
                    let k = ffi::lua_tointegerx(l, key, std::ptr::null_mut());
                    let v = read_value(l, value, depth, budget, Some(&path), mt)
                        .map_err(|e| at_integer_key(e, k))?;
                    items.push((k, v));
                }
                ffi::LUA_TSTRING => {
                    // A key that is not text fails here, at the table's path.
                    let k = read_string(l, key, budget).map_err(|e| match e.kind() {
                        DataErrorKind::Other(message) => {
                            DataError::other(format!("a table key: {message}"))
                        }
                        _ => e,
                    })?;
                    let v = read_value(l, value, depth, budget, Some(&path), mt)
                        .map_err(|e| e.at_key(k.as_str()))?;
                    entries.push((k, v));
                }
                ffi::LUA_TNUMBER => {
                    let k = ffi::lua_tonumberx(l, key, std::ptr::null_mut());
                    return Err(DataError::other(format!(
                        "a table with the float key {k}; JSON keys are strings and lists are indexed 1..n"
                    )));
                }
                other => {
                    let name =
                        std::ffi::CStr::from_ptr(ffi::lua_typename(l, other)).to_string_lossy();
                    return Err(DataError::other(format!(
                        "a table with a {name} key; JSON keys are strings and lists are indexed 1..n"
                    )));
                }
            }
            ffi::lua_pop(l, 1);
        }
        let shape = match (items.is_empty(), entries.is_empty()) {
            (true, true) if marked_list => Shape::List(items),
            (true, true) => Shape::Map(entries),
            (false, true) => Shape::List(items),
            (true, false) if marked_list => {
                return Err(DataError::other(format!(
                    "a list (a table with the array metatable) with the map key {:?}",
                    first_key(&entries)
                )));
            }
            (true, false) => Shape::Map(entries),
            (false, false) => {
                return Err(DataError::other(format!(
                    "a table with both list items (key {}) and map keys (key {:?}); \
                     make it a list or a map",
                    items.iter().map(|(k, _)| *k).min().unwrap_or(1),
                    first_key(&entries)
                )));
            }
        };
        match shape {
            Shape::List(items) => list(items),
            Shape::Map(mut entries) => {
                entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                Ok(Value::Object(Map::from_iter(entries)))
            }
        }
    }
}

/// The current eval's lazy `ctx` at `idx` (see [`lazy`]), whose input is
/// `input`: its converted entries as Lua has them now, the others as
/// copies of the input, without converting them into Lua.
///
/// # Safety
///
/// As [`read_table`], with room for two more values on the stack.
unsafe fn read_proxy(
    l: *mut lua_State,
    idx: c_int,
    input: &EvalInput<'_>,
    depth: u32,
    budget: &mut Budget,
    path: &Path<'_>,
    mt: ArrayMt,
) -> Result<Value, DataError> {
    let mut entries = Vec::with_capacity(
        input
            .len()
            .min(usize::try_from(budget.bytes_left() / Budget::VALUE_BYTES).unwrap_or(usize::MAX)),
    );
    for (key, value) in input.iter() {
        budget.charge_bytes(key.len())?;
        // SAFETY: `idx` holds the proxy and there is room for the key and
        // its value; a raw read raises nothing.
        let converted = unsafe {
            ffi::lua_pushlstring(l, key.as_ptr().cast(), key.len());
            ffi::lua_rawget(l, idx) != ffi::LUA_TNIL
        };
        let item = if converted {
            // SAFETY: the entry is at the top of the stack.
            let item = unsafe { read_value(l, ffi::lua_gettop(l), depth, budget, Some(path), mt) };
            unsafe { ffi::lua_pop(l, 1) };
            item
        } else {
            unsafe { ffi::lua_pop(l, 1) };
            value
                .and_then(|value| lazy::unconverted(&value, depth, budget))
                .map_err(|e| lazy::input_error(key, e))
        };
        entries.push((key.to_owned(), item.map_err(|e| e.at_key(key))?));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(Value::Object(Map::from_iter(entries)))
}

/// The items as a list, if their keys are exactly `1..n`.
fn list(mut items: Vec<(i64, Value)>) -> Result<Value, DataError> {
    if !items.is_sorted_by_key(|(k, _)| *k) {
        items.sort_unstable_by_key(|(k, _)| *k);
    }
    // Keys are distinct, so sorted keys are 1..n exactly when each is its
    // position plus one.
    if let Some(&(first, _)) = items.first()
        && first < 1
    {
        return Err(DataError::other(format!(
            "a table with the integer key {first}; lists are indexed from 1"
        )));
    }
    if let Some(missing) = items
        .iter()
        .enumerate()
        .find(|(i, (k, _))| *k != *i as i64 + 1)
        .map(|(i, _)| i + 1)
    {
        let last = items.last().map_or(0, |(k, _)| *k);
        return Err(DataError::other(format!(
            "a sparse list (nothing at index {missing}, items up to index {last}); \
             lists are indexed 1..n without holes"
        )));
    }
    Ok(Value::Array(items.into_iter().map(|(_, v)| v).collect()))
}

/// The path segment for the value at integer key `k`: a list index when it
/// can be one.
fn at_integer_key(e: DataError, k: i64) -> DataError {
    match usize::try_from(k - 1) {
        Ok(index) if k >= 1 => e.at_index(index),
        _ => e.at_key(k.to_string()),
    }
}

fn first_key(entries: &[(String, Value)]) -> &str {
    entries
        .iter()
        .map(|(k, _)| k.as_str())
        .min()
        .unwrap_or_default()
}
