//! `table.insert`, `table.remove`, `table.move`, `table.concat` and
//! `table.sort` as Lua C functions: `ltablib.c`'s, statement for statement,
//! with a [`Meter`] tick in every loop.
//!
//! Their loops run as long as the script says (`table.move(t, 1, 2^53, 1)`,
//! or a length from `__len`), and each step may be a metamethod that is
//! itself a C function (`__index = rawequal`): no Lua instruction, so no
//! hook, ever. The meter polls the eval's watch instead. Errors are raised
//! as the module docs of [`string`](super::string) describe (no Rust value
//! with a destructor is alive at any Lua call that may raise).

use std::ffi::{CStr, c_int, c_uint};
use std::mem::MaybeUninit;

use mlua::ffi::{self, lua_Integer, lua_State, luaL_Buffer};

use super::Meter;

const TAB_R: c_int = 1;
const TAB_W: c_int = 2;
const TAB_L: c_int = 4;
const TAB_RW: c_int = TAB_R | TAB_W;

/// Arrays larger than this may use randomized pivots (`RANLIMIT`).
const RAN_LIMIT: c_uint = 100;

unsafe fn arg_error(l: *mut lua_State, arg: c_int, message: &CStr) -> ! {
    // SAFETY: luaL_argerror raises.
    unsafe {
        ffi::luaL_argerror(l, arg, message.as_ptr());
        ffi::lua_error(l)
    }
}

/// Lua's `checkfield`: whether the metatable (at `-n`) has `key`.
unsafe fn check_field(l: *mut lua_State, key: &CStr, n: c_int) -> bool {
    // SAFETY: the metatable is on the stack, `n` slots down.
    unsafe {
        ffi::lua_pushstring(l, key.as_ptr());
        ffi::lua_rawget(l, -n) != ffi::LUA_TNIL
    }
}

/// Lua's `checktab`: `arg` is a table, or has the metamethods `what` needs.
unsafe fn check_tab(l: *mut lua_State, arg: c_int, what: c_int) {
    // SAFETY: as ltablib.c.
    unsafe {
        if ffi::lua_type(l, arg) != ffi::LUA_TTABLE {
            let mut n = 1;
            if ffi::lua_getmetatable(l, arg) != 0
                && (what & TAB_R == 0 || {
                    n += 1;
                    check_field(l, c"__index", n)
                })
                && (what & TAB_W == 0 || {
                    n += 1;
                    check_field(l, c"__newindex", n)
                })
                && (what & TAB_L == 0 || {
                    n += 1;
                    check_field(l, c"__len", n)
                })
            {
                ffi::lua_pop(l, n);
            } else {
                ffi::luaL_checktype(l, arg, ffi::LUA_TTABLE);
            }
        }
    }
}

/// Lua's `aux_getn`: the length of the table-like `arg`.
unsafe fn aux_getn(l: *mut lua_State, arg: c_int, what: c_int) -> lua_Integer {
    // SAFETY: as ltablib.c.
    unsafe {
        check_tab(l, arg, what | TAB_L);
        ffi::luaL_len(l, arg)
    }
}

/// `table.insert`.
pub(crate) unsafe extern "C-unwind" fn insert(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in ltablib.c's `tinsert`.
    unsafe {
        let e = aux_getn(l, 1, TAB_RW).wrapping_add(1); // first empty element
        let pos = match ffi::lua_gettop(l) {
            2 => e,
            3 => {
                let pos = ffi::luaL_checkinteger(l, 2);
                if (pos as u64).wrapping_sub(1) >= e as u64 {
                    arg_error(l, 2, c"position out of bounds");
                }
                let mut meter = Meter::new();
                let mut i = e;
                while i > pos {
                    meter.tick(l);
                    ffi::lua_geti(l, 1, i - 1);
                    ffi::lua_seti(l, 1, i);
                    i -= 1;
                }
                meter.finish();
                pos
            }
            _ => {
                ffi::luaL_error(l, c"wrong number of arguments to 'insert'".as_ptr());
                ffi::lua_error(l)
            }
        };
        ffi::lua_seti(l, 1, pos);
        0
    }
}

/// `table.remove`.
pub(crate) unsafe extern "C-unwind" fn remove(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in ltablib.c's `tremove`.
    unsafe {
        let size = aux_getn(l, 1, TAB_RW);
        let mut pos = ffi::luaL_optinteger(l, 2, size);
        if pos != size && (pos as u64).wrapping_sub(1) > size as u64 {
            arg_error(l, 2, c"position out of bounds");
        }
        ffi::lua_geti(l, 1, pos);
        let mut meter = Meter::new();
        while pos < size {
            meter.tick(l);
            ffi::lua_geti(l, 1, pos + 1);
            ffi::lua_seti(l, 1, pos);
            pos += 1;
        }
        meter.finish();
        ffi::lua_pushnil(l);
        ffi::lua_seti(l, 1, pos);
        1
    }
}

/// `table.move`.
pub(crate) unsafe extern "C-unwind" fn move_(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in ltablib.c's `tmove`.
    unsafe {
        let f = ffi::luaL_checkinteger(l, 2);
        let e = ffi::luaL_checkinteger(l, 3);
        let t = ffi::luaL_checkinteger(l, 4);
        let tt = if ffi::lua_isnoneornil(l, 5) == 0 {
            5
        } else {
            1
        };
        check_tab(l, 1, TAB_R);
        check_tab(l, tt, TAB_W);
        if e >= f {
            if !(f > 0 || e < lua_Integer::MAX + f) {
                arg_error(l, 3, c"too many elements to move");
            }
            let n = e - f + 1;
            if t > lua_Integer::MAX - n + 1 {
                arg_error(l, 4, c"destination wrap around");
            }
            let mut meter = Meter::new();
            if t > e || t <= f || (tt != 1 && ffi::lua_compare(l, 1, tt, ffi::LUA_OPEQ) == 0) {
                for i in 0..n {
                    meter.tick(l);
                    ffi::lua_geti(l, 1, f + i);
                    ffi::lua_seti(l, tt, t + i);
                }
            } else {
                for i in (0..n).rev() {
                    meter.tick(l);
                    ffi::lua_geti(l, 1, f + i);
                    ffi::lua_seti(l, tt, t + i);
                }
            }
            meter.finish();
        }
        ffi::lua_pushvalue(l, tt);
        1
    }
}

/// Lua's `addfield` for `concat`.
unsafe fn add_field(l: *mut lua_State, b: *mut luaL_Buffer, i: lua_Integer) {
    // SAFETY: as ltablib.c.
    unsafe {
        ffi::lua_geti(l, 1, i);
        if ffi::lua_isstring(l, -1) == 0 {
            ffi::luaL_error(
                l,
                c"invalid value (%s) at index %I in table for 'concat'".as_ptr(),
                ffi::luaL_typename(l, -1),
                i,
            );
        }
        ffi::luaL_addvalue(b);
    }
}

/// `table.concat`.
pub(crate) unsafe extern "C-unwind" fn concat(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in ltablib.c's `tconcat`.
    unsafe {
        let mut buffer = MaybeUninit::<luaL_Buffer>::uninit();
        let b = buffer.as_mut_ptr();
        let last = aux_getn(l, 1, TAB_R);
        let mut sep_len = 0;
        let sep = ffi::luaL_optlstring(l, 2, c"".as_ptr(), &mut sep_len);
        let mut i = ffi::luaL_optinteger(l, 3, 1);
        let last = ffi::luaL_optinteger(l, 4, last);
        ffi::luaL_buffinit(l, b);
        let mut meter = Meter::new();
        while i < last {
            meter.tick(l);
            add_field(l, b, i);
            ffi::luaL_addlstring(b, sep, sep_len);
            i += 1;
        }
        if i == last {
            add_field(l, b, i);
        }
        meter.finish();
        ffi::luaL_pushresult(b);
        1
    }
}

/// A "random" pivot seed (Lua uses `clock()` and `time()`; any varying
/// value does: it only matters for badly unbalanced partitions).
fn randomize_pivot() -> c_uint {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() ^ d.as_secs() as u32);
    nanos | 1
}

unsafe fn set2(l: *mut lua_State, i: c_uint, j: c_uint) {
    // SAFETY: two values on the stack, as the callers arrange.
    unsafe {
        ffi::lua_seti(l, 1, lua_Integer::from(i));
        ffi::lua_seti(l, 1, lua_Integer::from(j));
    }
}

/// Lua's `sort_comp`: whether the value at `a` sorts before the one at `b`.
unsafe fn sort_comp(l: *mut lua_State, a: c_int, b: c_int) -> bool {
    // SAFETY: as ltablib.c.
    unsafe {
        if ffi::lua_isnil(l, 2) != 0 {
            ffi::lua_compare(l, a, b, ffi::LUA_OPLT) != 0
        } else {
            ffi::lua_pushvalue(l, 2);
            ffi::lua_pushvalue(l, a - 1);
            ffi::lua_pushvalue(l, b - 2);
            ffi::lua_call(l, 2, 1);
            let res = ffi::lua_toboolean(l, -1) != 0;
            ffi::lua_pop(l, 1);
            res
        }
    }
}

unsafe fn invalid_order(l: *mut lua_State) -> ! {
    // SAFETY: luaL_error raises.
    unsafe {
        ffi::luaL_error(l, c"invalid order function for sorting".as_ptr());
        ffi::lua_error(l)
    }
}

/// Lua's `partition`: the pivot is on the top of the stack.
unsafe fn partition(l: *mut lua_State, lo: c_uint, up: c_uint, meter: &mut Meter) -> c_uint {
    let mut i = lo;
    let mut j = up.wrapping_sub(1);
    // SAFETY: as ltablib.c.
    unsafe {
        loop {
            loop {
                meter.tick(l);
                i = i.wrapping_add(1);
                ffi::lua_geti(l, 1, lua_Integer::from(i));
                if !sort_comp(l, -1, -2) {
                    break;
                }
                if i == up.wrapping_sub(1) {
                    invalid_order(l);
                }
                ffi::lua_pop(l, 1);
            }
            loop {
                meter.tick(l);
                j = j.wrapping_sub(1);
                ffi::lua_geti(l, 1, lua_Integer::from(j));
                if !sort_comp(l, -3, -1) {
                    break;
                }
                if j < i {
                    invalid_order(l);
                }
                ffi::lua_pop(l, 1);
            }
            if j < i {
                ffi::lua_pop(l, 1);
                set2(l, up.wrapping_sub(1), i);
                return i;
            }
            set2(l, i, j);
        }
    }
}

/// Lua's `choosePivot`: an element in the middle half of `lo..=up`.
fn choose_pivot(lo: c_uint, up: c_uint, rnd: c_uint) -> c_uint {
    let r4 = (up - lo) / 4;
    rnd % (r4 * 2) + (lo + r4)
}

/// Lua's `auxsort`.
unsafe fn aux_sort(
    l: *mut lua_State,
    mut lo: c_uint,
    mut up: c_uint,
    mut rnd: c_uint,
    meter: &mut Meter,
) {
    // SAFETY: as ltablib.c.
    unsafe {
        while lo < up {
            meter.tick(l);
            ffi::lua_geti(l, 1, lua_Integer::from(lo));
            ffi::lua_geti(l, 1, lua_Integer::from(up));
            if sort_comp(l, -1, -2) {
                set2(l, lo, up);
            } else {
                ffi::lua_pop(l, 2);
            }
            if up - lo == 1 {
                return;
            }
            let mut p = if up - lo < RAN_LIMIT || rnd == 0 {
                (lo + up) / 2
            } else {
                choose_pivot(lo, up, rnd)
            };
            ffi::lua_geti(l, 1, lua_Integer::from(p));
            ffi::lua_geti(l, 1, lua_Integer::from(lo));
            if sort_comp(l, -2, -1) {
                set2(l, p, lo);
            } else {
                ffi::lua_pop(l, 1);
                ffi::lua_geti(l, 1, lua_Integer::from(up));
                if sort_comp(l, -1, -2) {
                    set2(l, p, up);
                } else {
                    ffi::lua_pop(l, 2);
                }
            }
            if up - lo == 2 {
                return;
            }
            ffi::lua_geti(l, 1, lua_Integer::from(p));
            ffi::lua_pushvalue(l, -1);
            ffi::lua_geti(l, 1, lua_Integer::from(up - 1));
            set2(l, p, up - 1);
            p = partition(l, lo, up, meter);
            let n;
            if p - lo < up - p {
                aux_sort(l, lo, p - 1, rnd, meter);
                n = p - lo;
                lo = p + 1;
            } else {
                aux_sort(l, p + 1, up, rnd, meter);
                n = up - p;
                up = p - 1;
            }
            if up.wrapping_sub(lo) / 128 > n {
                rnd = randomize_pivot();
            }
        }
    }
}

/// `table.sort`.
pub(crate) unsafe extern "C-unwind" fn sort(l: *mut lua_State) -> c_int {
    // SAFETY: Lua C API use as in ltablib.c's `sort`.
    unsafe {
        let n = aux_getn(l, 1, TAB_RW);
        if n > 1 {
            if n >= lua_Integer::from(i32::MAX) {
                arg_error(l, 1, c"array too big");
            }
            if ffi::lua_isnoneornil(l, 2) == 0 {
                ffi::luaL_checktype(l, 2, ffi::LUA_TFUNCTION);
            }
            ffi::lua_settop(l, 2);
            let mut meter = Meter::new();
            aux_sort(l, 1, n as c_uint, 0, &mut meter);
            meter.finish();
        }
        0
    }
}
