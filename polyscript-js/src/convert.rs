//! Values in and out, through boa's serde_json bridge
//! (`JsValue::from_json` / `JsValue::to_json`).

use boa_engine::{Context, JsObject, JsValue, js_string};
use polyscript_core::{Map, Value};

/// Deepest result nesting checked for functions and symbols (deeper values
/// are left to `to_json`, which also reports cycles).
const MAX_CHECK_DEPTH: usize = 64;

/// Largest integer a double holds exactly (2^53).
const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

/// The input map as a plain JavaScript object (what `JsValue::from_json`
/// makes of a JSON object, built key by key so the map is not copied).
pub(crate) fn to_js(input: &Map, context: &mut Context) -> Result<JsValue, String> {
    let object = JsObject::with_object_proto(context.intrinsics());
    for (key, value) in input {
        let value = JsValue::from_json(value, context)
            .map_err(|e| format!("input `{key}` cannot be given to JavaScript: {e}"))?;
        object
            .create_data_property_or_throw(js_string!(key.as_str()), value, context)
            .map_err(|e| format!("input `{key}` cannot be given to JavaScript: {e}"))?;
    }
    Ok(object.into())
}

/// A script's result as JSON: `undefined` is `null`; functions, symbols and
/// bigints are errors naming where they are; integral numbers are integers.
pub(crate) fn from_js(value: &JsValue, context: &mut Context) -> Result<Value, String> {
    check_plain(value, &|| "result".to_owned(), 0, context)?;
    let mut json = value
        .to_json(context)
        .map_err(|e| format!("the script's result has no JSON form: {e}"))?
        .unwrap_or(Value::Null);
    normalize_numbers(&mut json);
    Ok(json)
}

/// Rejects values JSON cannot carry, naming their JavaScript type and path
/// (`path` is only rendered for the error).
fn check_plain(
    value: &JsValue,
    path: &dyn Fn() -> String,
    depth: usize,
    context: &mut Context,
) -> Result<(), String> {
    let unsupported = |kind: &str| {
        Err(format!(
            "the script's {} is a JavaScript {kind}, which has no JSON form",
            path()
        ))
    };
    if value.is_symbol() {
        return unsupported("symbol");
    }
    if value.is_bigint() {
        return unsupported("bigint");
    }
    let Some(obj) = value.as_object() else {
        return Ok(());
    };
    if obj.is_callable() {
        return unsupported("function");
    }
    if depth >= MAX_CHECK_DEPTH {
        return Ok(());
    }
    let keys = obj.own_property_keys(context).map_err(|e| e.to_string())?;
    for key in keys {
        let child = obj.get(key.clone(), context).map_err(|e| e.to_string())?;
        check_plain(&child, &|| format!("{}.{key}", path()), depth + 1, context)?;
    }
    Ok(())
}

/// JavaScript has one number type; the bridge returns doubles for every
/// number outside i32. Integral doubles within ±2^53 become JSON integers
/// (as `JSON.stringify` prints them); `-0` and fractions stay floats.
fn normalize_numbers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64()
                && !n.is_i64()
                && !n.is_u64()
                && f.fract() == 0.0
                && f.abs() <= MAX_SAFE
                && !(f == 0.0 && f.is_sign_negative())
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_numbers),
        Value::Object(map) => map.values_mut().for_each(normalize_numbers),
        _ => {}
    }
}
