//! Data in and out of rhai, through rhai's own serde bridge
//! (`rhai::serde::to_dynamic` / `from_dynamic`).
//!
//! * In: the input map becomes a rhai object map. JSON integers become rhai
//!   `INT` (`i64`), floats `FLOAT` (`f64`); a `u64` above `i64::MAX` becomes a
//!   float (rhai has no unsigned integers).
//! * Out: `()` → `null`, `bool`, `INT` → integer, `FLOAT` → float, strings and
//!   chars → string, arrays → list, object maps → map, BLOBs → list of bytes.
//!   Function pointers, timestamps, custom types and non-finite floats have no
//!   JSON form and are an [`Error::InvalidData`] naming the type.

use std::fmt;

use polyscript_core::{Error, Map, ScriptId, Value};
use rhai::Dynamic;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The input map as the rhai value scripts see as `ctx`.
pub(crate) fn to_rhai(input: &Map) -> Result<Dynamic, Error> {
    rhai::serde::to_dynamic(input)
        .map_err(|e| Error::invalid_data(format!("input cannot be converted to rhai: {e}")))
}

/// A script's result as a JSON value.
pub(crate) fn from_rhai(result: Dynamic, script_id: ScriptId) -> Result<Value, Error> {
    // A captured (shared) variable is read through its lock first.
    let result = if result.is_shared() {
        result.flatten()
    } else {
        result
    };
    rhai::serde::from_dynamic::<JsonValue>(&result)
        .map(|v| v.0)
        .map_err(|e| {
            Error::invalid_data(format!(
                "the result of rhai script {script_id} (a {}) has no JSON form: {}",
                result.type_name(),
                e.unwrap_inner()
            ))
        })
}

/// A [`Value`] that refuses non-finite floats instead of turning them into
/// `null` (what `serde_json::Value` itself does), and takes BLOBs as lists of
/// bytes.
struct JsonValue(Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(JsonValue)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value with a JSON form")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        JsonValue::deserialize(d).map(|v| v.0)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("the float {v} has no JSON form")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Array(v.iter().map(|&b| Value::from(b)).collect()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(JsonValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, JsonValue(value))) = access.next_entry::<String, JsonValue>()? {
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: Value) -> Value {
        let mut input = Map::new();
        input.insert("v".into(), value);
        let dynamic = to_rhai(&input).expect("to rhai");
        let back = from_rhai(dynamic, ScriptId::of(b"t")).expect("from rhai");
        back["v"].clone()
    }

    #[test]
    fn ints_stay_ints_and_floats_stay_floats() {
        assert!(round_trip(json!(3)).is_i64());
        assert!(round_trip(json!(3.0)).is_f64());
        assert_eq!(round_trip(json!(-0.25)), json!(-0.25));
        assert_eq!(
            round_trip(json!({"a": [1, "x", null]})),
            json!({"a": [1, "x", null]})
        );
    }

    #[test]
    fn non_finite_floats_and_fn_pointers_are_rejected() {
        let id = ScriptId::of(b"t");
        let nan = Dynamic::from_float(f64::NAN);
        assert!(matches!(from_rhai(nan, id), Err(Error::InvalidData { .. })));
        let fn_ptr = rhai::Engine::new()
            .eval::<Dynamic>("Fn(\"f\")")
            .expect("fn pointer");
        let err = from_rhai(fn_ptr, id).expect_err("no JSON form");
        assert!(err.to_string().contains("Fn"), "{err}");
    }
}
