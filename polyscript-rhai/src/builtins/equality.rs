//! `==` and `!=` of arrays and of maps: rhai 1.27's semantics (bodies from
//! `rhai/src/packages/array_basic.rs` and `map_basic.rs`: elements compared
//! with `==` for their types), with a native-stack check per level. rhai's
//! own versions recurse through the function dispatcher (~700 bytes of stack
//! a level) without a check.

use rhai::{Array, Dynamic, EvalAltResult, Map, Module, NativeCallContext};

use super::RhaiResultOf;
use crate::budget;

const OP_EQUALS: &str = "==";

pub(super) fn register(module: &mut Module) {
    set!(module, "==", true, arrays_equal);
    set!(module, "!=", true, arrays_not_equal);
    set!(module, "==", true, maps_equal);
    set!(module, "!=", true, maps_not_equal);
}

fn arrays_equal(ctx: NativeCallContext, array1: &mut Array, array2: Array) -> RhaiResultOf<bool> {
    budget::ensure_stack()?;
    if array1.len() != array2.len() {
        return Ok(false);
    }
    let mut array2 = array2;
    for (a1, a2) in array1.iter_mut().zip(array2.iter_mut()) {
        if !element_equal(&ctx, a1, a2)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Two array elements compared as rhai does: with `==` for their types; a
/// missing `==` means "not equal" for different types and is an error for
/// the same type.
fn element_equal(
    ctx: &NativeCallContext,
    a1: &mut Dynamic,
    a2: &mut Dynamic,
) -> RhaiResultOf<bool> {
    let equal = ctx
        .call_native_fn_raw(OP_EQUALS, true, &mut [a1, a2])
        .or_else(|err| match *err {
            EvalAltResult::ErrorFunctionNotFound(ref fn_sig, ..)
                if fn_sig.starts_with(OP_EQUALS) =>
            {
                if a1.type_id() == a2.type_id() {
                    Err(err)
                } else {
                    Ok(Dynamic::FALSE)
                }
            }
            _ => Err(err),
        })?;
    Ok(equal.as_bool().unwrap_or(false))
}

fn arrays_not_equal(
    ctx: NativeCallContext,
    array1: &mut Array,
    array2: Array,
) -> RhaiResultOf<bool> {
    arrays_equal(ctx, array1, array2).map(|equal| !equal)
}

fn maps_equal(ctx: NativeCallContext, map1: &mut Map, map2: Map) -> RhaiResultOf<bool> {
    budget::ensure_stack()?;
    if map1.len() != map2.len() {
        return Ok(false);
    }
    let mut map2 = map2;
    for (key, v1) in map1.iter_mut() {
        let Some(v2) = map2.get_mut(key) else {
            return Ok(false);
        };
        let equal = ctx
            .call_native_fn_raw(OP_EQUALS, true, &mut [v1, v2])?
            .as_bool()
            .unwrap_or(false);
        if !equal {
            return Ok(false);
        }
    }
    Ok(true)
}

fn maps_not_equal(ctx: NativeCallContext, map1: &mut Map, map2: Map) -> RhaiResultOf<bool> {
    maps_equal(ctx, map1, map2).map(|equal| !equal)
}
