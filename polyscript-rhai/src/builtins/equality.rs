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
    let mut array2 = array2;
    arrays_equal_in(&ctx, array1, &mut array2)
}

fn arrays_not_equal(
    ctx: NativeCallContext,
    array1: &mut Array,
    array2: Array,
) -> RhaiResultOf<bool> {
    arrays_equal(ctx, array1, array2).map(|equal| !equal)
}

fn maps_equal(ctx: NativeCallContext, map1: &mut Map, map2: Map) -> RhaiResultOf<bool> {
    let mut map2 = map2;
    maps_equal_in(&ctx, map1, &mut map2)
}

fn maps_not_equal(ctx: NativeCallContext, map1: &mut Map, map2: Map) -> RhaiResultOf<bool> {
    maps_equal(ctx, map1, map2).map(|equal| !equal)
}

fn arrays_equal_in(
    ctx: &NativeCallContext,
    array1: &mut Array,
    array2: &mut Array,
) -> RhaiResultOf<bool> {
    budget::ensure_stack()?;
    if array1.len() != array2.len() {
        return Ok(false);
    }
    for (a1, a2) in array1.iter_mut().zip(array2.iter_mut()) {
        if !pair_equal(ctx, a1, a2, Container::Array)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn maps_equal_in(ctx: &NativeCallContext, map1: &mut Map, map2: &mut Map) -> RhaiResultOf<bool> {
    budget::ensure_stack()?;
    if map1.len() != map2.len() {
        return Ok(false);
    }
    for (key, v1) in map1.iter_mut() {
        let Some(v2) = map2.get_mut(key) else {
            return Ok(false);
        };
        if !pair_equal(ctx, v1, v2, Container::Map)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Which container two values were found in: rhai's arrays and maps treat
/// a missing `==` differently.
#[derive(Clone, Copy)]
enum Container {
    Array,
    Map,
}

/// Two elements compared as rhai does: with `==` for their types. Nested
/// arrays and maps are compared here directly (one native call a level
/// rather than a trip through the dispatcher); anything else through `==`.
/// In an array a missing `==` means "not equal" for different types and is
/// an error for the same type; in a map it is an error.
fn pair_equal(
    ctx: &NativeCallContext,
    a1: &mut Dynamic,
    a2: &mut Dynamic,
    container: Container,
) -> RhaiResultOf<bool> {
    if !a1.is_shared() && !a2.is_shared() {
        if let (Ok(mut x), Ok(mut y)) = (a1.as_array_mut(), a2.as_array_mut()) {
            return arrays_equal_in(ctx, &mut x, &mut y);
        }
        if let (Ok(mut x), Ok(mut y)) = (a1.as_map_mut(), a2.as_map_mut()) {
            return maps_equal_in(ctx, &mut x, &mut y);
        }
    }
    let equal = match container {
        Container::Map => ctx.call_native_fn_raw(OP_EQUALS, true, &mut [a1, a2])?,
        Container::Array => ctx
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
            })?,
    };
    Ok(equal.as_bool().unwrap_or(false))
}
