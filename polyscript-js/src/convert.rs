//! Values in through boa's serde_json bridge (`JsValue::from_json`); out
//! with one walk that checks and converts (see [`from_js`]).

use boa_engine::property::PropertyKey;
use boa_engine::value::JsVariant;
use boa_engine::{Context, JsObject, JsValue, js_string};
use polyscript_core::{Map, Value};

/// Deepest nesting of arrays and objects a result may have (serde_json's own
/// parsing limit): the walk is recursive and may run on a caller's thread.
const MAX_DEPTH: usize = 128;

/// Longest array a result may hold: a sparse array (`a[1e9] = 1`) would
/// otherwise become a billion `null`s.
const MAX_ARRAY_LENGTH: u64 = 1 << 24;

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
///
/// One walk over the result that checks and converts at once, reading
/// properties the way boa's own `to_json` does (data values straight from
/// the property map, accessors as `null`: no script code runs while the
/// result is converted). Checking first and then calling `to_json` walked
/// the result twice, listing and getting every key in the first walk.
pub(crate) fn from_js(value: &JsValue, context: &mut Context) -> Result<Value, String> {
    let mut walk = Walk {
        ancestors: Vec::new(),
    };
    Ok(walk
        .value(value, &|| "result".to_owned(), context)?
        .unwrap_or(Value::Null))
}

/// The objects on the path from the result to the value being converted
/// (to report cycles).
struct Walk {
    ancestors: Vec<JsObject>,
}

impl Walk {
    /// `value` as JSON; `None` for `undefined` (left out of objects, `null`
    /// elsewhere). `path` names the value in errors.
    fn value(
        &mut self,
        value: &JsValue,
        path: &dyn Fn() -> String,
        context: &mut Context,
    ) -> Result<Option<Value>, String> {
        let unsupported = |kind: &str| {
            Err(format!(
                "the script's {} is a JavaScript {kind}, which has no JSON form",
                path()
            ))
        };
        Ok(Some(match value.variant() {
            JsVariant::Undefined => return Ok(None),
            JsVariant::Null => Value::Null,
            JsVariant::Boolean(b) => Value::Bool(b),
            JsVariant::String(string) => Value::String(string.to_std_string_escaped()),
            JsVariant::Integer32(int) => Value::from(int),
            JsVariant::Float64(float) => number(float),
            JsVariant::BigInt(_) => return unsupported("bigint"),
            JsVariant::Symbol(_) => return unsupported("symbol"),
            JsVariant::Object(object) => {
                if object.is_callable() {
                    return unsupported("function");
                }
                if self.ancestors.len() >= MAX_DEPTH {
                    return Err(format!(
                        "the script's {} is nested deeper than {MAX_DEPTH} levels",
                        path()
                    ));
                }
                if self.ancestors.contains(&object) {
                    return Err(format!(
                        "the script's result has no JSON form: {} refers back to itself (cyclic object value)",
                        path()
                    ));
                }
                self.ancestors.push(object.clone());
                let converted = self.object(&object, path, context);
                self.ancestors.pop();
                converted?
            }
        }))
    }

    fn object(
        &mut self,
        object: &JsObject,
        path: &dyn Fn() -> String,
        context: &mut Context,
    ) -> Result<Value, String> {
        if object.is_array() {
            let length = object
                .get(js_string!("length"), context)
                .and_then(|length| length.to_length(context))
                .map_err(|e| e.to_string())?;
            if length > MAX_ARRAY_LENGTH {
                return Err(format!(
                    "the script's {} is an array of {length} elements, more than the {MAX_ARRAY_LENGTH} a result may hold",
                    path()
                ));
            }
            let mut items = Vec::with_capacity(usize::try_from(length).unwrap_or(0).min(1 << 16));
            for index in 0..length {
                let key = PropertyKey::from(index);
                let element = own_data_value(object, &key);
                let item = self.value(&element, &|| format!("{}[{index}]", path()), context)?;
                items.push(item.unwrap_or(Value::Null));
            }
            return Ok(Value::Array(items));
        }
        let keys: Vec<PropertyKey> = {
            let borrowed = object.borrow();
            let properties = borrowed.properties();
            properties
                .index_property_keys()
                .map(PropertyKey::from)
                .chain(borrowed.shape().keys())
                .collect()
        };
        let mut map = Map::new();
        for key in keys {
            let name = match &key {
                PropertyKey::String(string) => string.to_std_string_escaped(),
                PropertyKey::Index(index) => index.get().to_string(),
                PropertyKey::Symbol(_) => {
                    return Err(format!(
                        "the script's {} has a symbol key, which has no JSON form",
                        path()
                    ));
                }
            };
            let child = own_data_value(object, &key);
            if let Some(item) = self.value(&child, &|| format!("{}.{name}", path()), context)? {
                map.insert(name, item);
            }
        }
        Ok(Value::Object(map))
    }
}

/// The value of `object`'s own data property `key`; `null` for an accessor
/// (its getter is not run), `undefined` if there is no such property.
fn own_data_value(object: &JsObject, key: &PropertyKey) -> JsValue {
    match object.borrow().properties().get(key) {
        Some(property) => property.value().cloned().unwrap_or_else(JsValue::null),
        None => JsValue::undefined(),
    }
}

/// JavaScript has one number type; boa keeps a double for every number
/// outside i32. Integral doubles within ±2^53 become JSON integers (as
/// `JSON.stringify` prints them); `-0` and fractions stay floats; NaN and the
/// infinities are `null` (as in `JSON.stringify`).
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() <= MAX_SAFE && !(f == 0.0 && f.is_sign_negative()) {
        // Exact: |f| ≤ 2^53 and integral.
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boa_engine::Source;
    use serde_json::json;

    fn result_of(script: &str) -> Result<Value, String> {
        let mut context = Context::default();
        let value = context
            .eval(Source::from_bytes(script))
            .expect("the test script runs");
        from_js(&value, &mut context)
    }

    #[test]
    fn plain_values_convert_like_json_stringify() {
        let got = result_of(
            "({ s: 'x', i: 3, f: 0.5, big: 2 ** 40, neg0: -0, n: null, u: undefined, \
              a: [1, undefined, 'z'], o: { deep: [ { k: true } ] }, 7: 'seven' })",
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"7": "seven", "s": "x", "i": 3, "f": 0.5, "big": 1_i64 << 40, "neg0": -0.0,
                   "n": null, "a": [1, null, "z"], "o": {"deep": [{"k": true}]}})
        );
        assert!(got["big"].is_i64() && got["neg0"].is_f64());
        assert_eq!(result_of("NaN").unwrap(), Value::Null);
    }

    #[test]
    fn unsupported_values_are_named_with_their_path() {
        let err = result_of("({ a: [0, { f() {} }] })").unwrap_err();
        assert!(
            err.contains("result.a[1].f") && err.contains("function"),
            "{err}"
        );
        let err = result_of("({ b: 10n })").unwrap_err();
        assert!(err.contains("result.b") && err.contains("bigint"), "{err}");
        let err = result_of("({ [Symbol('k')]: 1 })").unwrap_err();
        assert!(err.contains("symbol key"), "{err}");
    }

    #[test]
    fn getters_are_not_run_and_cycles_depth_and_sparse_arrays_are_errors() {
        let got = result_of("({ get g() { throw new Error('ran') } })").unwrap();
        assert_eq!(got, json!({"g": null}));
        let err = result_of("const o = {}; o.self = o; o").unwrap_err();
        assert!(
            err.contains("result.self") && err.contains("cyclic"),
            "{err}"
        );
        let err = result_of("let a = []; for (let i = 0; i < 200; i++) a = [a]; a").unwrap_err();
        assert!(err.contains("deeper than 128"), "{err}");
        let err = result_of("const a = []; a[1e9] = 1; a").unwrap_err();
        assert!(err.contains("1000000001 elements"), "{err}");
        // A shared (not cyclic) object is fine.
        let got = result_of("const s = { v: 1 }; ({ a: s, b: s })").unwrap();
        assert_eq!(got, json!({"a": {"v": 1}, "b": {"v": 1}}));
    }
}
