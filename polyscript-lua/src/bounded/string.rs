//! `string.find`, `string.match`, `string.gmatch`, `string.gsub` and
//! `string.rep` as Lua C functions over the Rust [`matcher`](super::matcher):
//! `lstrlib.c`'s `str_find_aux`, `gmatch`, `str_gsub`, `add_s`, `add_value`,
//! `push_captures` and `str_rep`, statement for statement, through the Lua C
//! API (argument checks, buffers, calls and errors are Lua's own).
//!
//! # Raising Lua errors from Rust
//!
//! Lua reports errors with `longjmp`, which skips Rust destructors. Every
//! function here therefore keeps only plain data (slices into Lua strings,
//! integers, the heap-free [`MatchState`], a `luaL_Buffer`) in its frames
//! whenever it calls a Lua API function that may raise (allocating, calling
//! Lua, `luaL_error`): nothing is ever left undropped. The Rust matcher
//! itself never raises; it returns a [`MatchError`], and a panic in it (a bug)
//! is caught and becomes a Lua error instead of unwinding into C.

use std::ffi::{CStr, c_int};
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mlua::ffi::{self, lua_State, luaL_Buffer};

use super::matcher::{Captured, MatchError, MatchState, no_specials};
use crate::watch;

/// `lstrlib.c`'s `MAXSIZE` on 64-bit targets (`INT_MAX`): the longest string
/// `string.rep` builds.
const MAX_SIZE: usize = i32::MAX as usize;

/// "No match yet" for `gmatch`'s last match.
const NO_MATCH: usize = usize::MAX;

/// The bytes of the string (or number, converted in place) at `arg`, or a
/// Lua argument error. Valid while the value stays on the stack.
unsafe fn check_bytes<'a>(l: *mut lua_State, arg: c_int) -> &'a [u8] {
    let mut len = 0;
    // SAFETY: Lua returns a pointer to `len` bytes owned by the stack slot.
    unsafe {
        let ptr = ffi::luaL_checklstring(l, arg, &mut len);
        std::slice::from_raw_parts(ptr.cast(), len)
    }
}

/// The bytes of the string at stack index `idx` (known to be a string).
unsafe fn bytes_at<'a>(l: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0;
    // SAFETY: as `check_bytes`; the caller knows `idx` holds a string.
    unsafe {
        let ptr = ffi::lua_tolstring(l, idx, &mut len);
        if ptr.is_null() {
            return &[];
        }
        std::slice::from_raw_parts(ptr.cast(), len)
    }
}

unsafe fn push_bytes(l: *mut lua_State, bytes: &[u8]) {
    // SAFETY: Lua copies `bytes`.
    unsafe {
        ffi::lua_pushlstring(l, bytes.as_ptr().cast(), bytes.len());
    }
}

unsafe fn add_bytes(b: *mut luaL_Buffer, bytes: &[u8]) {
    // SAFETY: Lua copies `bytes` into the buffer.
    unsafe { ffi::luaL_addlstring(b, bytes.as_ptr().cast(), bytes.len()) }
}

/// Raises `err` as Lua's matcher would (with the caller's position).
unsafe fn raise(l: *mut lua_State, err: MatchError) -> ! {
    // SAFETY: luaL_error formats with a C format string and never returns.
    unsafe {
        match err {
            MatchError::Lua(message) => ffi::luaL_error(l, c"%s".as_ptr(), message.as_ptr()),
            MatchError::CaptureIndex(n) => {
                ffi::luaL_error(l, c"invalid capture index %%%d".as_ptr(), n as c_int)
            }
            MatchError::Interrupted => {
                ffi::luaL_error(l, c"%s".as_ptr(), watch::INTERRUPTED_C.as_ptr())
            }
        };
        ffi::lua_error(l)
    }
}

/// Runs pure-Rust matching code, turning a panic (a bug) into an error
/// rather than unwinding into Lua's C frames.
fn guarded<R>(f: impl FnOnce() -> Result<R, MatchError>) -> Result<R, MatchError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(MatchError::Lua(
        c"internal error in the pattern matcher",
    )))
}

/// Lua's `posrelatI`: a 1-based start position, negative from the end,
/// clipped to `1..`.
fn posrelat_i(pos: i64, len: usize) -> usize {
    if pos > 0 {
        pos as usize
    } else if pos == 0 || pos < -(len as i64) {
        1
    } else {
        (len as i64 + pos + 1) as usize
    }
}

/// Pushes capture `i` (Lua's `push_onecapture`).
unsafe fn push_capture(
    l: *mut lua_State,
    ms: &MatchState<'_>,
    subject: &[u8],
    i: usize,
    s: usize,
    e: usize,
) {
    // SAFETY: pushing copies; errors are raised with no Rust value to drop.
    unsafe {
        match ms.capture(i, s, e) {
            Ok(Captured::Text(from, to)) => push_bytes(l, &subject[from..to]),
            Ok(Captured::Position(pos)) => ffi::lua_pushinteger(l, pos as i64),
            Err(err) => raise(l, err),
        }
    }
}

/// Pushes every capture (or the whole match `s..e` when there are none and
/// `s` is given); returns how many (Lua's `push_captures`).
unsafe fn push_captures(
    l: *mut lua_State,
    ms: &MatchState<'_>,
    subject: &[u8],
    s: Option<usize>,
    e: usize,
) -> c_int {
    let n = if ms.level() == 0 && s.is_some() {
        1
    } else {
        ms.level()
    };
    // SAFETY: as `push_capture`.
    unsafe {
        ffi::luaL_checkstack(l, n as c_int, c"too many captures".as_ptr());
        for i in 0..n {
            push_capture(l, ms, subject, i, s.unwrap_or(0), e);
        }
    }
    n as c_int
}

fn strip_anchor(pattern: &[u8]) -> (bool, &[u8]) {
    match pattern.split_first() {
        Some((b'^', rest)) => (true, rest),
        _ => (false, pattern),
    }
}

/// `string.find`.
pub(crate) unsafe extern "C-unwind" fn str_find(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a valid state.
    unsafe { find_aux(l, true) }
}

/// `string.match`.
pub(crate) unsafe extern "C-unwind" fn str_match(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with a valid state.
    unsafe { find_aux(l, false) }
}

/// Lua's `str_find_aux`.
unsafe fn find_aux(l: *mut lua_State, find: bool) -> c_int {
    // SAFETY: Lua C API use as in lstrlib.c; see the module docs on errors.
    unsafe {
        let subject = check_bytes(l, 1);
        let pattern = check_bytes(l, 2);
        let init = posrelat_i(ffi::luaL_optinteger(l, 3, 1), subject.len()) - 1;
        if init > subject.len() {
            ffi::lua_pushnil(l);
            return 1;
        }
        if find && (ffi::lua_toboolean(l, 4) != 0 || no_specials(pattern)) {
            // A plain search, in linear time (C's `lmemfind` is quadratic in
            // the worst case and cannot be interrupted).
            if let Some(at) = memchr::memmem::find(&subject[init..], pattern) {
                let start = init + at;
                ffi::lua_pushinteger(l, start as i64 + 1);
                ffi::lua_pushinteger(l, (start + pattern.len()) as i64);
                return 2;
            }
        } else {
            let (anchor, pattern) = strip_anchor(pattern);
            let mut ms = MatchState::new(subject, pattern);
            let found = guarded(|| {
                let mut start = init;
                loop {
                    ms.reset();
                    if let Some(end) = ms.do_match(start, 0)? {
                        return Ok(Some((start, end)));
                    }
                    if anchor || start >= subject.len() {
                        return Ok(None);
                    }
                    start += 1;
                }
            });
            match found {
                Ok(Some((start, end))) if find => {
                    ffi::lua_pushinteger(l, start as i64 + 1);
                    ffi::lua_pushinteger(l, end as i64);
                    let n = push_captures(l, &ms, subject, None, 0);
                    ms.finish();
                    return n + 2;
                }
                Ok(Some((start, end))) => {
                    let n = push_captures(l, &ms, subject, Some(start), end);
                    ms.finish();
                    return n;
                }
                Ok(None) => ms.finish(),
                Err(err) => raise(l, err),
            }
        }
        ffi::lua_pushnil(l);
        1
    }
}

/// What a `gmatch` iterator remembers between calls (Lua's `GMatchState`,
/// less the pointers: the subject and pattern are the closure's upvalues).
#[repr(C)]
struct GmatchState {
    src: usize,
    last_match: usize,
}

/// `string.gmatch`.
pub(crate) unsafe extern "C-unwind" fn str_gmatch(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in lstrlib.c's `gmatch`.
    unsafe {
        let subject = check_bytes(l, 1);
        check_bytes(l, 2);
        let mut init = posrelat_i(ffi::luaL_optinteger(l, 3, 1), subject.len()) - 1;
        ffi::lua_settop(l, 2); // keep the strings as upvalues
        let state = ffi::lua_newuserdatauv(l, size_of::<GmatchState>(), 0).cast::<GmatchState>();
        if init > subject.len() {
            init = subject.len() + 1;
        }
        state.write(GmatchState {
            src: init,
            last_match: NO_MATCH,
        });
        ffi::lua_pushcclosure(l, gmatch_next, 3);
        1
    }
}

/// The iterator `string.gmatch` returns (Lua's `gmatch_aux`).
unsafe extern "C-unwind" fn gmatch_next(l: *mut lua_State) -> c_int {
    // SAFETY: the upvalues are the ones `str_gmatch` set.
    unsafe {
        let subject = bytes_at(l, ffi::lua_upvalueindex(1));
        let pattern = bytes_at(l, ffi::lua_upvalueindex(2));
        let state = &mut *ffi::lua_touserdata(l, ffi::lua_upvalueindex(3)).cast::<GmatchState>();
        let mut ms = MatchState::new(subject, pattern);
        let (from, last) = (state.src, state.last_match);
        let found = guarded(|| {
            let mut src = from;
            while src <= subject.len() {
                ms.reset();
                if let Some(end) = ms.do_match(src, 0)?
                    && end != last
                {
                    return Ok(Some((src, end)));
                }
                src += 1;
            }
            Ok(None)
        });
        match found {
            Ok(Some((src, end))) => {
                state.src = end;
                state.last_match = end;
                let n = push_captures(l, &ms, subject, Some(src), end);
                ms.finish();
                n
            }
            Ok(None) => {
                ms.finish();
                0
            }
            Err(err) => raise(l, err),
        }
    }
}

/// Appends the string replacement (argument 3) for the match `s..e`, with
/// its `%0`-`%9` and `%%` (Lua's `add_s`).
unsafe fn add_string(
    l: *mut lua_State,
    ms: &MatchState<'_>,
    subject: &[u8],
    b: *mut luaL_Buffer,
    s: usize,
    e: usize,
) {
    // SAFETY: as the module docs say; `repl` stays on the stack (slot 3).
    unsafe {
        let repl = bytes_at(l, 3);
        let mut i = 0;
        while let Some(offset) = memchr::memchr(b'%', &repl[i..]) {
            let at = i + offset;
            add_bytes(b, &repl[i..at]);
            // C reads the string's terminating NUL after a final '%'.
            let c = repl.get(at + 1).copied().unwrap_or(0);
            if c == b'%' {
                ffi::luaL_addchar(b, b'%' as _);
            } else if c == b'0' {
                add_bytes(b, &subject[s..e]);
            } else if c.is_ascii_digit() {
                match ms.capture(usize::from(c - b'1'), s, e) {
                    Ok(Captured::Text(from, to)) => add_bytes(b, &subject[from..to]),
                    Ok(Captured::Position(pos)) => {
                        ffi::lua_pushinteger(l, pos as i64);
                        ffi::luaL_addvalue(b);
                    }
                    Err(err) => raise(l, err),
                }
            } else {
                ffi::luaL_error(
                    l,
                    c"invalid use of '%c' in replacement string".as_ptr(),
                    c_int::from(b'%'),
                );
            }
            i = at + 2;
        }
        add_bytes(b, &repl[i..]);
    }
}

/// Appends the replacement for the match `s..e`; whether the subject changed
/// (Lua's `add_value`).
unsafe fn add_value(
    l: *mut lua_State,
    ms: &MatchState<'_>,
    subject: &[u8],
    b: *mut luaL_Buffer,
    (s, e): (usize, usize),
    kind: c_int,
) -> bool {
    // SAFETY: as the module docs say.
    unsafe {
        match kind {
            ffi::LUA_TFUNCTION => {
                ffi::lua_pushvalue(l, 3);
                let n = push_captures(l, ms, subject, Some(s), e);
                ffi::lua_call(l, n, 1);
            }
            ffi::LUA_TTABLE => {
                push_capture(l, ms, subject, 0, s, e);
                ffi::lua_gettable(l, 3);
            }
            _ => {
                add_string(l, ms, subject, b, s, e);
                return true;
            }
        }
        if ffi::lua_toboolean(l, -1) == 0 {
            ffi::lua_pop(l, 1);
            add_bytes(b, &subject[s..e]);
            false
        } else if ffi::lua_isstring(l, -1) == 0 {
            ffi::luaL_error(
                l,
                c"invalid replacement value (a %s)".as_ptr(),
                ffi::luaL_typename(l, -1),
            );
            false
        } else {
            ffi::luaL_addvalue(b);
            true
        }
    }
}

/// `string.gsub` (Lua's `str_gsub`).
pub(crate) unsafe extern "C-unwind" fn str_gsub(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in lstrlib.c; see the module docs on errors.
    unsafe {
        let subject = check_bytes(l, 1);
        let pattern = check_bytes(l, 2);
        let kind = ffi::lua_type(l, 3);
        let max_n = ffi::luaL_optinteger(l, 4, subject.len() as i64 + 1);
        if !matches!(
            kind,
            ffi::LUA_TNUMBER | ffi::LUA_TSTRING | ffi::LUA_TFUNCTION | ffi::LUA_TTABLE
        ) {
            expected(l, 3, c"string/function/table");
        }
        let mut buffer = MaybeUninit::<luaL_Buffer>::uninit();
        let b = buffer.as_mut_ptr();
        ffi::luaL_buffinit(l, b);
        let (anchor, pattern) = strip_anchor(pattern);
        let mut ms = MatchState::new(subject, pattern);
        let mut src = 0;
        let mut last_match = NO_MATCH;
        let mut n: i64 = 0;
        let mut changed = false;
        while n < max_n {
            ms.reset();
            let found = match guarded(|| ms.do_match(src, 0)) {
                Ok(found) => found,
                Err(err) => raise(l, err),
            };
            match found {
                Some(end) if end != last_match => {
                    n += 1;
                    // Always call (it appends to the buffer), then note the change.
                    changed |= add_value(l, &ms, subject, b, (src, end), kind);
                    src = end;
                    last_match = end;
                }
                _ if src < subject.len() => {
                    ffi::luaL_addchar(b, subject[src] as _);
                    src += 1;
                }
                _ => break,
            }
            if anchor {
                break;
            }
        }
        ms.finish();
        if changed {
            add_bytes(b, &subject[src..]);
            ffi::luaL_pushresult(b);
        } else {
            ffi::lua_pushvalue(l, 1);
        }
        ffi::lua_pushinteger(l, n);
        2
    }
}

/// Lua's `luaL_typeerror` for an argument of the wrong type, as
/// `luaL_argexpected` raises it.
unsafe fn expected(l: *mut lua_State, arg: c_int, what: &CStr) -> ! {
    // SAFETY: as lauxlib.c's luaL_typeerror.
    unsafe {
        let typearg = if ffi::luaL_getmetafield(l, arg, c"__name".as_ptr()) == ffi::LUA_TSTRING {
            ffi::lua_tostring(l, -1)
        } else if ffi::lua_type(l, arg) == ffi::LUA_TLIGHTUSERDATA {
            c"light userdata".as_ptr()
        } else {
            ffi::luaL_typename(l, arg)
        };
        let message =
            ffi::lua_pushfstring(l, c"%s expected, got %s".as_ptr(), what.as_ptr(), typearg);
        ffi::luaL_argerror(l, arg, message);
        ffi::lua_error(l)
    }
}

/// `string.rep` (Lua's `str_rep`), except that repeating an empty string
/// with an empty separator returns at once: C copies nothing `n - 1` times,
/// which for `n` near `math.maxinteger` never ends and cannot be
/// interrupted.
pub(crate) unsafe extern "C-unwind" fn str_rep(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in lstrlib.c.
    unsafe {
        let s = check_bytes(l, 1);
        let n = ffi::luaL_checkinteger(l, 2);
        let mut sep_len = 0;
        let sep = ffi::luaL_optlstring(l, 3, c"".as_ptr(), &mut sep_len);
        let sep = std::slice::from_raw_parts(sep.cast::<u8>(), sep_len);
        let unit = s.len().checked_add(sep.len());
        if n <= 0 || unit == Some(0) {
            ffi::lua_pushstring(l, c"".as_ptr());
            return 1;
        }
        let n = n as u64 as usize;
        let Some(unit) = unit.filter(|&unit| unit <= MAX_SIZE / n) else {
            ffi::luaL_error(l, c"resulting string too large".as_ptr());
            ffi::lua_error(l);
        };
        let total = unit * n - sep.len();
        let mut buffer = MaybeUninit::<luaL_Buffer>::uninit();
        let b = buffer.as_mut_ptr();
        let out = ffi::luaL_buffinitsize(l, b, total).cast::<u8>();
        fill_repeated(std::slice::from_raw_parts_mut(out, total), s, sep);
        ffi::luaL_pushresultsize(b, total);
        1
    }
}

/// Fills `out` with `s`, `sep`, `s`, `sep`, ... (as much as fits): the
/// first period written once, then doubled, so that repeating a one-byte
/// string a million times is a few copies, not a million.
fn fill_repeated(out: &mut [u8], s: &[u8], sep: &[u8]) {
    let mut filled = 0;
    for part in [s, sep] {
        let n = part.len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&part[..n]);
        filled += n;
    }
    // `filled` is a whole period (or everything), so copying the prefix
    // keeps the pattern.
    while filled < out.len() {
        let n = filled.min(out.len() - filled);
        out.copy_within(0..n, filled);
        filled += n;
    }
}

#[cfg(test)]
mod tests {
    use super::{fill_repeated, posrelat_i};

    #[test]
    fn repetition_fills_whole_periods() {
        for (s, sep, n) in [("ab", ",", 4), ("x", "", 7), ("", "-", 3), ("abc", "--", 1)] {
            let want = vec![s; n].join(sep);
            let mut out = vec![0; want.len()];
            fill_repeated(&mut out, s.as_bytes(), sep.as_bytes());
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }

    #[test]
    fn relative_positions_follow_lua() {
        assert_eq!(posrelat_i(3, 10), 3);
        assert_eq!(posrelat_i(0, 10), 1);
        assert_eq!(posrelat_i(-1, 10), 10);
        assert_eq!(posrelat_i(-10, 10), 1);
        assert_eq!(posrelat_i(-11, 10), 1);
        assert_eq!(posrelat_i(i64::MIN, 10), 1);
    }
}
