//! Bounded replacements for the library functions whose C code can run
//! without end and without Lua instructions, so without the instruction hook
//! ever firing: the pattern functions and `string.rep` ([`string`]), and
//! the table functions that loop as often as the script says ([`table`]).
//!
//! # Why a Rust matcher
//!
//! Lua's pattern matcher backtracks: `string.find(("a"):rep(3000),
//! ("a*"):rep(25) .. "b")` takes longer than the age of the universe, all of
//! it inside one C call. The hook that enforces deadlines counts Lua
//! instructions and never fires there, and a C function cannot be stopped
//! from outside. The choices were:
//!
//! * run patterns on another thread and abandon it on timeout: the CPU is not
//!   freed, and the thread holds the Lua state;
//! * reject "dangerous" patterns: no static rule is both safe and exact
//!   (`(.-)%1` on long subjects, nested `%b`, ...);
//! * a matcher that checks the eval's limits as it goes. That is what this
//!   module is: `lstrlib.c`'s matcher ported to Rust ([`matcher`]) with a
//!   step counter that polls the eval's watch every
//!   [`STEPS_PER_POLL`](crate::watch::STEPS_PER_POLL) steps, and the library
//!   functions around it ported to the Lua C API ([`string`]) so that
//!   arguments, results, replacements (string, table, function), `gmatch`'s
//!   iterator, errors and their messages are Lua 5.4's own. Plain
//!   `string.find` searches (no magic characters, or `plain = true`) use
//!   `memchr`'s linear-time substring search instead of C's quadratic one.
//!
//! A pattern that runs too long ends the eval with `Timeout`, `Cancelled` or
//! `LimitExceeded(Operations)` (each step counts as one operation) within one
//! poll of the deadline, on the eval's own thread. The tests check the port
//! against the vendored C implementation on a corpus and on generated cases
//! (`tests/patterns.rs`, `tests/tables.rs`).
//!
//! Character classes use the C locale (ASCII), as Lua does unless the host
//! program changes the process locale.

mod matcher;
mod string;
mod table;

use mlua::Lua;
use mlua::ffi::{self, lua_State};

use crate::watch::{self, Steps};

/// The step meter of the table functions' loops: one tick per iteration,
/// raising the eval's interruption once the watch says it is stopped.
struct Meter(Steps);

impl Meter {
    fn new() -> Self {
        Meter(Steps::start())
    }

    /// Counts one iteration.
    #[inline]
    unsafe fn tick(&mut self, l: *mut lua_State) {
        if self.0.charge(1).is_err() {
            // SAFETY: luaL_error raises; a Meter holds no heap data.
            unsafe {
                ffi::luaL_error(l, c"%s".as_ptr(), watch::INTERRUPTED_C.as_ptr());
            }
        }
    }

    /// Hands the count on to the next native call.
    fn finish(self) {
        self.0.finish();
    }
}

/// Replaces, in `lua`'s `string` and `table` tables, the functions whose C
/// loops can run without end: `string.find`, `string.match`,
/// `string.gmatch`, `string.gsub`, `string.rep`, `table.insert`,
/// `table.remove`, `table.move`, `table.concat` and `table.sort`, with
/// polyscript's bounded versions (string methods such as `s:gsub(...)` use
/// the same table). They behave as Lua 5.4's own, results and error
/// messages included; inside a polyscript eval they also stop when the
/// eval's deadline, cancellation or operation budget says so.
///
/// polyscript's Lua engine does this in every state it creates; it is public
/// so that programs with their own mlua state can use the same functions
/// (and so that the tests can compare them with Lua's C implementation).
/// Outside a polyscript eval there is no deadline to check: they are then
/// bounded only by Lua's own limits (patterns nest at most 200 levels).
///
/// The state must have the `string` and `table` libraries loaded.
pub fn install_bounded_functions(lua: &Lua) -> mlua::Result<()> {
    type Entry = (&'static str, ffi::lua_CFunction);
    let libraries: [(&str, &[Entry]); 2] = [
        (
            "string",
            &[
                ("find", string::str_find),
                ("match", string::str_match),
                ("gmatch", string::str_gmatch),
                ("gsub", string::str_gsub),
                ("rep", string::str_rep),
            ],
        ),
        (
            "table",
            &[
                ("insert", table::insert),
                ("remove", table::remove),
                ("move", table::move_),
                ("concat", table::concat),
                ("sort", table::sort),
            ],
        ),
    ];
    for (library, functions) in libraries {
        let table: mlua::Table = lua.globals().raw_get(library)?;
        for &(name, function) in functions {
            // SAFETY: each function follows the Lua C API's protocol (see
            // `string`'s docs on raising errors without skipping destructors).
            let function = unsafe { lua.create_c_function(function)? };
            table.raw_set(name, function)?;
        }
    }
    Ok(())
}
