//! The eval's input as the JavaScript object `ctx`, and a host function's
//! result as a JavaScript value (the same table, the same bounds).

use boa_engine::object::builtins::JsArray;
use boa_engine::property::PropertyDescriptor;
use boa_engine::{Context, JsObject, JsString, JsValue};
use polyscript_core::data::{self, Budget, DataError};
use polyscript_core::{Map, Value};

/// `input` as a plain object (at depth 1), within `budget`: numbers by the
/// number rule (integers beyond ±(2^53 − 1) are refused, never rounded),
/// nesting and size bounded.
pub(crate) fn to_js(
    input: &Map,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<JsValue, DataError> {
    object(input, 1, budget, context).map(JsValue::from)
}

/// One value (a host function's result) at the top level, within
/// `budget`: converted exactly as the values inside `ctx` are.
pub(crate) fn value_to_js(
    item: &Value,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<JsValue, DataError> {
    value(item, 0, budget, context)
}

/// One top-level entry of `ctx` (`key` and its `item`), converted as
/// [`to_js`] converts it, charged to `budget`: what the lazy `ctx`
/// (`lazy.rs`) converts when the script first reads the entry.
pub(crate) fn entry_to_js(
    key: &str,
    item: &Value,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<JsValue, DataError> {
    entry(key, item, 1, budget, context)
}

/// The value of the entry `key` of an object at `depth`, its key charged.
fn entry(
    key: &str,
    item: &Value,
    depth: u32,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<JsValue, DataError> {
    budget.charge_bytes(key.len())?;
    value(item, depth, budget, context).map_err(|e| e.at_key(key))
}

/// The property `JSON.parse` makes: own, enumerable, writable,
/// configurable data, inserted without running any code.
pub(crate) fn data_property(value: JsValue) -> PropertyDescriptor {
    PropertyDescriptor::builder()
        .value(value)
        .writable(true)
        .enumerable(true)
        .configurable(true)
        .build()
}

fn value(
    value: &Value,
    depth: u32,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<JsValue, DataError> {
    budget.charge_value()?;
    Ok(match value {
        Value::Null => JsValue::null(),
        Value::Bool(b) => JsValue::from(*b),
        Value::Number(n) => number(data::js_number_from_json(n)?),
        Value::String(s) => {
            budget.charge_bytes(s.len())?;
            JsValue::from(JsString::from(s.as_str()))
        }
        Value::Array(items) => {
            data::with_stack(|| array(items, depth + 1, budget, context))?.into()
        }
        Value::Object(map) => data::with_stack(|| object(map, depth + 1, budget, context))?.into(),
    })
}

/// A number as boa holds it best: small integers as `i32` (boa's fast
/// path), everything else (`-0` included) as a double.
fn number(f: f64) -> JsValue {
    let i = f as i32;
    if f64::from(i) == f && !(f == 0.0 && f.is_sign_negative()) {
        JsValue::from(i)
    } else {
        JsValue::from(f)
    }
}

fn array(
    items: &[Value],
    depth: u32,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<JsArray, DataError> {
    budget.enter(depth)?;
    let mut values = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        values.push(value(item, depth, budget, context).map_err(|e| e.at_index(i))?);
    }
    Ok(JsArray::from_iter(values, context))
}

fn object(
    map: &Map,
    depth: u32,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<JsObject, DataError> {
    budget.enter(depth)?;
    let object = JsObject::with_object_proto(context.intrinsics());
    for (key, item) in map {
        let item = entry(key, item, depth, budget, context)?;
        object.insert_property(JsString::from(key.as_str()), data_property(item));
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::data::DataErrorKind;
    use serde_json::json;

    fn convert(input: Value, budget: &mut Budget) -> Result<JsValue, DataError> {
        let Value::Object(map) = input else {
            panic!("not an object")
        };
        to_js(&map, budget, &mut Context::default())
    }

    #[test]
    fn integers_beyond_the_safe_range_are_refused_with_their_path() {
        for big in [json!(i64::MIN), json!(u64::MAX), json!((1_i64 << 53) + 1)] {
            let err = convert(json!({"a": [0, big]}), &mut Budget::depth_only(128)).unwrap_err();
            assert!(
                matches!(err.kind(), DataErrorKind::IntegerOutOfRange { .. }),
                "{err}"
            );
            assert_eq!(err.path("ctx"), "ctx.a[1]");
        }
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let mut deep = json!(0);
        for _ in 0..20 {
            deep = json!([deep]);
        }
        let err = convert(json!({ "d": deep }), &mut Budget::depth_only(10)).unwrap_err();
        assert_eq!(err.kind(), &DataErrorKind::TooDeep { limit: 10 });
        let err = convert(
            json!({"s": "x".repeat(1000)}),
            &mut Budget::new(128, Some(500)),
        )
        .unwrap_err();
        assert!(
            matches!(err.kind(), DataErrorKind::TooLarge { .. }),
            "{err}"
        );
    }
}
