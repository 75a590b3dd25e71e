//! Printing arrays and maps (`print`, `to_string`, `debug`, `to_debug`, and
//! so string interpolation and `+` with a string) and `to_json`: rhai 1.27's
//! formats, exactly (bodies from `rhai/src/packages/string_basic.rs` and
//! `rhai/src/api/json.rs`), with a native-stack check per level and a memory
//! check as the text grows. rhai's own versions recurse without either, so
//! a value nested a few thousand levels deep, or one that refers to itself
//! through a closure, overflows the stack.
//!
//! One difference: rhai prints a nested array or map through whatever
//! `to_debug` is registered for its type; these print nested arrays and maps
//! themselves (a `to_debug` for arrays or maps registered with
//! [`RhaiEngineBuilder::configure`](crate::RhaiEngineBuilder::configure)
//! still prints the outermost one).

use std::fmt::Write as _;

use rhai::{
    Array, Dynamic, EvalAltResult, FUNC_TO_DEBUG, ImmutableString, Map, Module, NativeCallContext,
    Position,
};

use super::RhaiResultOf;
use crate::budget;

pub(super) fn register(module: &mut Module) {
    for name in ["print", "to_string", "debug", "to_debug"] {
        set!(module, name, true, format_array);
        set!(module, name, true, format_map);
    }
    set!(module, "to_json", true, to_json);
}

/// Checks the text built so far: the meter (its allocations are metered),
/// or without one rhai's longest string.
fn check_text(ctx: &NativeCallContext, text: &str) -> RhaiResultOf<()> {
    if budget::metered() {
        return budget::check_memory();
    }
    let max = ctx.engine().max_string_size();
    if max > 0 && text.len() > max {
        return Err(
            EvalAltResult::ErrorDataTooLarge("Length of string".into(), Position::NONE).into(),
        );
    }
    Ok(())
}

/// One element as rhai prints it inside a container: through the
/// `to_debug` function for its type (so custom types print their own way).
/// Nested arrays and maps are printed here directly, one native call a
/// level rather than a trip through rhai's dispatcher (which takes ~2 KiB of
/// stack a level); their `to_debug` is this module's anyway.
fn write_item(ctx: &NativeCallContext, out: &mut String, value: &mut Dynamic) -> RhaiResultOf<()> {
    if !value.is_shared() {
        if let Ok(mut array) = value.as_array_mut() {
            return write_array(ctx, out, &mut array);
        }
        if let Ok(mut map) = value.as_map_mut() {
            return write_map(ctx, out, &mut map);
        }
    }
    let text = match ctx.call_native_fn_raw(FUNC_TO_DEBUG, true, &mut [value]) {
        Ok(text) if text.is_string() => text.into_immutable_string().unwrap_or_default(),
        Ok(other) => ctx.engine().map_type_name(other.type_name()).into(),
        // A stopped script stays stopped.
        Err(error) if error.is_system_exception() => return Err(error),
        // What rhai does when a `to_debug` fails: the value's `Debug`, which
        // is flat for everything but containers (whose `to_debug` is ours).
        Err(_) if value.is_array() || value.is_map() || value.is_shared() => {
            ctx.engine().map_type_name(value.type_name()).into()
        }
        Err(_) => {
            let text = format!("{value:?}");
            ctx.engine().map_type_name(&text).into()
        }
    };
    out.push_str(&text);
    Ok(())
}

fn write_array(ctx: &NativeCallContext, out: &mut String, array: &mut Array) -> RhaiResultOf<()> {
    budget::ensure_stack()?;
    let len = array.len();
    out.push('[');
    for (i, x) in array.iter_mut().enumerate() {
        write_item(ctx, out, x)?;
        if i < len - 1 {
            out.push_str(", ");
        }
        check_text(ctx, out)?;
    }
    out.push(']');
    Ok(())
}

fn write_map(ctx: &NativeCallContext, out: &mut String, map: &mut Map) -> RhaiResultOf<()> {
    budget::ensure_stack()?;
    let len = map.len();
    out.push_str("#{");
    for (i, (k, v)) in map.iter_mut().enumerate() {
        let _ = write!(out, "{:?}: ", k.as_str());
        write_item(ctx, out, v)?;
        if i < len - 1 {
            out.push_str(", ");
        }
        check_text(ctx, out)?;
    }
    out.push('}');
    Ok(())
}

fn format_array(ctx: NativeCallContext, array: &mut Array) -> RhaiResultOf<ImmutableString> {
    let mut out = String::new();
    write_array(&ctx, &mut out, array)?;
    Ok(out.into())
}

fn format_map(ctx: NativeCallContext, map: &mut Map) -> RhaiResultOf<ImmutableString> {
    let mut out = String::new();
    write_map(&ctx, &mut out, map)?;
    Ok(out.into())
}

fn to_json(ctx: NativeCallContext, map: &mut Map) -> RhaiResultOf<String> {
    let mut result = String::new();
    map_as_json(&ctx, &mut result, map)?;
    Ok(result)
}

fn map_as_json(ctx: &NativeCallContext, result: &mut String, map: &Map) -> RhaiResultOf<()> {
    budget::ensure_stack()?;
    result.push('{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            result.push(',');
        }
        let _ = write!(result, "{:?}:", key.as_str());
        value_as_json(ctx, result, value)?;
        check_text(ctx, result)?;
    }
    result.push('}');
    Ok(())
}

fn value_as_json(
    ctx: &NativeCallContext,
    result: &mut String,
    value: &Dynamic,
) -> RhaiResultOf<()> {
    budget::ensure_stack()?;
    if value.is_unit() {
        result.push_str("null");
    } else if value.is_shared() {
        match value.read_lock::<Dynamic>() {
            Some(inner) => value_as_json(ctx, result, &inner)?,
            None => result.push_str("null"),
        }
    } else if let Some(f) = value.read_lock::<rhai::FnPtr>() {
        if f.is_curried() {
            let _ = write!(result, "[{:?}", f.fn_name());
            for curried in f.iter_curry() {
                result.push(',');
                value_as_json(ctx, result, curried)?;
            }
            result.push(']');
        } else {
            let _ = write!(result, "{:?}", f.fn_name());
        }
    } else if let Ok(map) = value.as_map_ref() {
        map_as_json(ctx, result, &map)?;
    } else if let Ok(array) = value.as_array_ref() {
        result.push('[');
        for (i, x) in array.iter().enumerate() {
            if i > 0 {
                result.push(',');
            }
            value_as_json(ctx, result, x)?;
            check_text(ctx, result)?;
        }
        result.push(']');
    } else if let Ok(blob) = value.as_blob_ref() {
        result.push('[');
        for (i, x) in blob.iter().enumerate() {
            if i > 0 {
                result.push(',');
            }
            let _ = write!(result, "{x}");
        }
        result.push(']');
    } else {
        let _ = write!(result, "{value:?}");
    }
    Ok(())
}
