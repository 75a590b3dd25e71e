//! A large input as a `ctx` whose entries are converted when the script
//! first reads them, so an eval that reads one key of a 10 000-key input
//! pays for one key, not 10 000.
//!
//! An input of at least [`LAZY_MIN_KEYS`] top-level keys becomes an empty
//! *proxy* table with the sandbox's lazy metatable. Its `__index` ([`fetch`])
//! converts the entry asked for (all of it: laziness is one level deep),
//! stores it in the proxy with `rawset` and returns it, so a second read is
//! a plain table hit. Everything that would see the proxy's raw contents
//! first *fills* it ([`fill`]: every entry not yet converted, then the
//! metatable removed), after which it is an ordinary table: a write (the
//! `__newindex`, so a deleted key cannot come back), `pairs` (`__pairs`),
//! and the sandbox's `next`, `rawget`, `rawset`, `getmetatable`,
//! `setmetatable` and `array`. A proxy in a result or a host function's
//! arguments is read as its converted entries plus copies of the others
//! ([`unconverted`]), without filling it.
//!
//! Both conversions run with the state's memory limit lifted, as the eager
//! conversion does (see the [module docs](super)), and are charged to the
//! same budget, one per eval. A conversion error (an integer beyond `i64`,
//! the budget) stops the script and is the eval's input error whatever the
//! script does with it: [`Active::take_error`] reports it first.
//!
//! The current eval's input lives in thread-local cells for the length of
//! [`Active`], as a Lua eval runs on its caller's thread; an eval nested in a
//! host call saves and restores the outer one. A proxy of an eval that has
//! ended (unreachable in practice: the environment is emptied after every
//! eval) raises an error instead of reading another eval's input.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use mlua::ffi;
use polyscript_core::data::{self, Budget, DataError};
use polyscript_core::{EvalInput, Map, Value};

use super::input::{ArrayMt, push_value};
use crate::raw::{ensure_stack, with_raw_state};

/// Inputs with at least this many top-level keys are converted lazily.
/// Smaller ones are converted whole before the script runs: measured with
/// callgrind (a script reading one key), an eager entry costs ≈ 470
/// instructions and the proxy ≈ 3 900 per eval, so laziness pays from about
/// nine keys; 16 leaves the common small contexts on the eager path.
pub(crate) const LAZY_MIN_KEYS: usize = 16;

/// The eval whose input the proxy reads. Plain `Cell`s with constant
/// initialisers and no destructor, so the check every result table makes
/// ([`proxy_input`]) is a bare thread-local load.
struct Current {
    /// The eval's input (null: no lazy input on this thread), its lifetime
    /// erased: [`Active`] borrows it for as long as it is set.
    input: Cell<*const EvalInput<'static>>,
    /// The proxy table (`lua_topointer`); null once it has been filled.
    proxy: Cell<*const c_void>,
    budget: Cell<Option<Budget>>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            input: Cell::new(std::ptr::null()),
            proxy: Cell::new(std::ptr::null()),
            budget: Cell::new(None),
        }
    };
    /// The current eval's first conversion error, with its path below
    /// `ctx` (apart from `CURRENT`: it has a destructor).
    static ERROR: RefCell<Option<DataError>> = const { RefCell::new(None) };
}

/// Keeps one eval's lazy input current on this thread; dropping it restores
/// the one it replaced. Borrows the input it points the thread-local at.
pub(crate) struct Active<'a> {
    saved: (
        *const EvalInput<'static>,
        *const c_void,
        Option<Budget>,
        Option<DataError>,
    ),
    _input: std::marker::PhantomData<&'a EvalInput<'a>>,
}

impl<'a> Active<'a> {
    /// Makes `input` the input `proxy` reads, within `budget`.
    pub(crate) fn install(input: &'a EvalInput<'a>, proxy: *const c_void, budget: Budget) -> Self {
        let input: *const EvalInput<'a> = input;
        CURRENT.with(|c| Active {
            saved: (
                c.input.replace(input.cast()),
                c.proxy.replace(proxy),
                c.budget.replace(Some(budget)),
                ERROR.take(),
            ),
            _input: std::marker::PhantomData,
        })
    }

    /// The first error converting the input, if there was one.
    pub(crate) fn take_error(&self) -> Option<DataError> {
        ERROR.take()
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        let (input, proxy, budget, error) = self.saved.clone();
        let _ = CURRENT.try_with(|c| {
            c.input.set(input);
            c.proxy.set(proxy);
            c.budget.set(budget);
        });
        let _ = ERROR.try_with(|first| first.replace(error));
    }
}

fn ended() -> mlua::Error {
    mlua::Error::runtime("this ctx belongs to an eval that has ended")
}

/// Records `error` (at `key` below `ctx`) as the eval's input error, and
/// the Lua error that stops the script.
fn failed(key: &str, error: DataError) -> mlua::Error {
    let error = input_error(key, error).at_key(key);
    mlua::Error::runtime(format!("the input could not be converted: {error}"))
}

/// The proxy's `__index`: converts and stores `ctx[key]`.
pub(crate) fn fetch(
    lua: &mlua::Lua,
    array_mt: &mlua::Table,
    proxy: mlua::Table,
    key: mlua::Value,
) -> mlua::Result<mlua::Value> {
    CURRENT.with(|c| {
        let input = c.input.get();
        if input.is_null() || c.proxy.get() != proxy.to_pointer() {
            return Err(ended());
        }
        // SAFETY: set by `Active::install` from a reference it borrows.
        let input = unsafe { &*input };
        let mlua::Value::String(name) = &key else {
            return Ok(mlua::Value::Nil);
        };
        let name = name.as_bytes();
        let Ok(name) = std::str::from_utf8(&name) else {
            return Ok(mlua::Value::Nil);
        };
        let value = match input.get(name) {
            Ok(Some(value)) => value,
            Ok(None) => return Ok(mlua::Value::Nil),
            Err(e) => return Err(failed(name, e)),
        };
        let mut budget = c.budget.get().ok_or_else(ended)?;
        let outcome = without_limit(lua, || {
            with_raw_state(lua, (&proxy, array_mt, &key), |l| {
                // SAFETY: the proxy, the array metatable and the key are at
                // 1, 2 and 3; with no memory limit nothing here raises.
                unsafe {
                    ensure_stack(l, 3)?;
                    budget.charge_bytes(name.len())?;
                    push_value(l, &value, 1, &mut budget, ArrayMt(2))?;
                    ffi::lua_pushvalue(l, 3);
                    ffi::lua_insert(l, -2);
                    ffi::lua_rawset(l, 1);
                    Ok(())
                }
            })
        })?;
        c.budget.set(Some(budget));
        outcome.map_err(|e| failed(name, e))?;
        proxy.raw_get(key)
    })
}

/// Converts every entry of the proxy not converted yet and makes it a plain
/// table (no metatable). A table that is no longer lazy is left alone.
pub(crate) fn fill(
    lua: &mlua::Lua,
    lazy_mt: &mlua::Table,
    array_mt: &mlua::Table,
    proxy: mlua::Table,
) -> mlua::Result<()> {
    CURRENT.with(|c| {
        let input = c.input.get();
        if input.is_null() || c.proxy.get() != proxy.to_pointer() {
            // A table that is not the current proxy is plain (filled
            // already, or never lazy) unless it still has the lazy
            // metatable: then it is an ended eval's.
            let stale = proxy
                .metatable()
                .is_some_and(|mt| mt.to_pointer() == lazy_mt.to_pointer());
            return if stale { Err(ended()) } else { Ok(()) };
        }
        // SAFETY: set by `Active::install` from a reference it borrows.
        let input = unsafe { &*input };
        let mut budget = c.budget.get().ok_or_else(ended)?;
        let outcome = without_limit(lua, || {
            with_raw_state(lua, (&proxy, array_mt), |l| {
                // SAFETY: the proxy and the array metatable are at 1 and 2;
                // with no memory limit nothing here raises.
                unsafe { fill_raw(l, input, &mut budget) }
            })
        })?;
        c.budget.set(Some(budget));
        match outcome {
            Ok(()) => {
                c.proxy.set(std::ptr::null());
                Ok(())
            }
            Err((key, e)) => Err(failed(&key, e)),
        }
    })
}

/// [`fill`]'s work, with the proxy at 1 and the array metatable at 2.
///
/// # Safety
///
/// As [`push_value`], inside a protected call with those two slots.
unsafe fn fill_raw(
    l: *mut ffi::lua_State,
    input: &EvalInput<'_>,
    budget: &mut Budget,
) -> Result<(), (String, DataError)> {
    // SAFETY: as the caller promises; each entry pushes at most 3 values.
    unsafe {
        for (key, value) in input.iter() {
            let fail = |e: DataError| (key.to_owned(), e);
            ensure_stack(l, 3).map_err(fail)?;
            ffi::lua_pushlstring(l, key.as_ptr().cast(), key.len());
            let present = ffi::lua_rawget(l, 1) != ffi::LUA_TNIL;
            ffi::lua_pop(l, 1);
            if present {
                continue;
            }
            let value = value.map_err(fail)?;
            budget.charge_bytes(key.len()).map_err(fail)?;
            ffi::lua_pushlstring(l, key.as_ptr().cast(), key.len());
            push_value(l, &value, 1, budget, ArrayMt(2)).map_err(fail)?;
            ffi::lua_rawset(l, 1);
        }
        ffi::lua_pushnil(l);
        ffi::lua_setmetatable(l, 1);
    }
    Ok(())
}

/// Runs `f` with `lua`'s memory limit lifted, then sets it back.
fn without_limit<R>(lua: &mlua::Lua, f: impl FnOnce() -> mlua::Result<R>) -> mlua::Result<R> {
    let limit = lua.set_memory_limit(0)?;
    let out = f();
    lua.set_memory_limit(limit)?;
    out
}

/// The input of the current eval if `table` is its unfilled proxy.
pub(crate) fn proxy_input(table: *const c_void) -> Option<&'static EvalInput<'static>> {
    CURRENT.with(|c| {
        let input = c.input.get();
        (!input.is_null() && c.proxy.get() == table).then(|| {
            // SAFETY: set by `Active::install` from a reference it borrows;
            // the caller (a result or argument walk) ends within the eval.
            unsafe { &*input }
        })
    })
}

/// `value`, an entry of the input not converted yet, as it would come back
/// from Lua: the same number rule as the input conversion (an integer
/// beyond `i64` fails), charged to `budget` like a converted value, within
/// the depth bound (`depth`: the containing table's).
pub(crate) fn unconverted(
    value: &Value,
    depth: u32,
    budget: &mut Budget,
) -> Result<Value, DataError> {
    budget.charge_value()?;
    match value {
        Value::Null | Value::Bool(_) => Ok(value.clone()),
        Value::Number(n) => {
            data::i64_from_json(n)?;
            Ok(value.clone())
        }
        Value::String(s) => {
            budget.charge_bytes(s.len())?;
            Ok(value.clone())
        }
        Value::Array(items) => {
            budget.enter(depth + 1)?;
            data::with_stack(|| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        unconverted(item, depth + 1, budget).map_err(|e| e.at_index(i))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            })
        }
        Value::Object(map) => {
            budget.enter(depth + 1)?;
            data::with_stack(|| {
                let mut out = Map::new();
                for (key, item) in map {
                    budget.charge_bytes(key.len())?;
                    let item =
                        unconverted(item, depth + 1, budget).map_err(|e| e.at_key(key.as_str()))?;
                    out.insert(key.clone(), item);
                }
                Ok(Value::Object(out))
            })
        }
    }
}

/// Records `error` of converting the entry at `key` as the eval's input
/// error, unless an earlier one was (the fetches, the fill, [`unconverted`]
/// in a result or argument walk); returns it for the caller to stop on.
pub(crate) fn input_error(key: &str, error: DataError) -> DataError {
    let _ = ERROR.try_with(|first| {
        first
            .borrow_mut()
            .get_or_insert_with(|| error.clone().at_key(key));
    });
    error
}
