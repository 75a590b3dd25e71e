//! Bounded replacements for the `string` functions whose C code can run
//! without end and without Lua instructions (so without the instruction
//! hook ever firing): the pattern functions and `string.rep`.
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
//!   module is: `lstrlib.c`'s matcher ported to Rust
//!   ([`matcher`]) with a step counter that polls the eval's watch every
//!   [`STEPS_PER_POLL`](matcher::STEPS_PER_POLL) steps, and the library
//!   functions around it ported to the Lua C API ([`functions`]) so that
//!   arguments, results, replacements (string, table, function), `gmatch`'s
//!   iterator, errors and their messages are Lua 5.4's own. Plain
//!   `string.find` searches (no magic characters, or `plain = true`) use
//!   `memchr`'s linear-time substring search instead of C's quadratic one.
//!
//! A pattern that runs too long ends the eval with `Timeout`,
//! `Cancelled` or `LimitExceeded(Operations)` (each step counts as one
//! operation) within one poll of the deadline, on the eval's own thread.
//! The tests check the port against the vendored C implementation on a
//! corpus and on generated cases (`tests/patterns.rs`).
//!
//! Character classes use the C locale (ASCII), as Lua does unless the host
//! program changes the process locale.

mod functions;
mod matcher;

use mlua::Lua;

/// Replaces `string.find`, `string.match`, `string.gmatch`, `string.gsub`
/// and `string.rep` in `lua`'s `string` table (which string methods such as
/// `s:gsub(...)` also use) with polyscript's bounded versions.
///
/// polyscript's Lua engine does this in every state it creates; it is public
/// so that programs with their own mlua state can use the same functions
/// (and so that the tests can compare them with Lua's C implementation).
/// Outside a polyscript eval there is no deadline to check: matching is then
/// bounded only by Lua's own rule that patterns may nest at most 200 levels
/// ("pattern too complex").
///
/// The state must have the `string` library loaded.
pub fn install_string_functions(lua: &Lua) -> mlua::Result<()> {
    let string: mlua::Table = lua.globals().raw_get("string")?;
    let functions: [(&str, mlua::ffi::lua_CFunction); 5] = [
        ("find", functions::str_find),
        ("match", functions::str_match),
        ("gmatch", functions::str_gmatch),
        ("gsub", functions::str_gsub),
        ("rep", functions::str_rep),
    ];
    for (name, function) in functions {
        // SAFETY: each function follows the Lua C API's protocol (see
        // `functions`' docs on raising errors without skipping destructors).
        let function = unsafe { lua.create_c_function(function)? };
        string.raw_set(name, function)?;
    }
    Ok(())
}
