//! Deserializing [`Value`]s with the same bounds as [`to_value`](super::to_value).
//!
//! `Value`'s own `Deserialize` recurses once per level of whatever the
//! deserializer hands it; only serde_json's *text* parser stops at 128
//! levels, so a `serde_json::from_value` of a deep value, or any other
//! format, can overflow the stack. [`BoundedValue`] refuses to descend past
//! its bound (before the deserializer recurses), refuses non-finite floats
//! and empty keys, and reports the path.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::error::{DataError, DataErrorKind};
use super::numbers::float_to_json;
use crate::value::{Map, Value};

/// A [`Value`] nested at most `max_depth` levels, with no empty key and no
/// non-finite float; use as a [`DeserializeSeed`].
#[derive(Debug, Clone, Copy)]
pub struct BoundedValue {
    depth: u32,
    max_depth: u32,
}

impl BoundedValue {
    /// A seed for a value at the root, nested at most `max_depth` levels.
    pub fn new(max_depth: u32) -> Self {
        BoundedValue {
            depth: 0,
            max_depth,
        }
    }

    fn open<E: de::Error>(self) -> Result<BoundedValue, E> {
        let depth = self.depth + 1;
        if depth > self.max_depth {
            return Err(E::custom(DataError::too_deep(self.max_depth)));
        }
        Ok(BoundedValue { depth, ..self })
    }
}

/// A [`Map`] with [`BoundedValue`]'s bounds (the map itself is level 1).
#[derive(Debug, Clone, Copy)]
pub struct BoundedMap {
    max_depth: u32,
}

impl BoundedMap {
    /// A seed for a map nested at most `max_depth` levels.
    pub fn new(max_depth: u32) -> Self {
        BoundedMap { max_depth }
    }
}

impl<'de> DeserializeSeed<'de> for BoundedMap {
    type Value = Map;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Map, D::Error> {
        match BoundedValue::new(self.max_depth).deserialize(deserializer)? {
            Value::Object(map) => Ok(map),
            other => Err(de::Error::custom(format!(
                "expected a map, got {}",
                crate::ValueType::of(&other)
            ))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for BoundedValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        super::with_stack(|| deserializer.deserialize_any(self))
    }
}

impl<'de> Visitor<'de> for BoundedValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
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
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::from)
            .or_else(|_| u64::try_from(v).map(Value::from))
            .map_err(|_| {
                E::custom(DataError::new(DataErrorKind::IntegerOutOfRange {
                    value: v.to_string(),
                    range: "a 64-bit integer",
                }))
            })
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.visit_i128(i128::try_from(v).unwrap_or(i128::MAX))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        float_to_json(v).map_err(E::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.open()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.open()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if key.is_empty() {
                return Err(de::Error::custom(DataError::new(DataErrorKind::EmptyKey)));
            }
            let value = access.next_value_seed(inner)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_json_text_and_values() {
        let mut de = serde_json::Deserializer::from_str(r#"{"a": [1, 2.5, null, "x"]}"#);
        let map = BoundedMap::new(8).deserialize(&mut de).unwrap();
        assert_eq!(Value::Object(map), json!({"a": [1, 2.5, null, "x"]}));
    }

    #[test]
    fn deep_values_are_refused_before_recursing() {
        // 20 000 levels: `Value`'s own Deserialize would overflow the stack
        // on this (from_value has no recursion limit).
        let mut v = json!(1);
        for _ in 0..20_000 {
            v = Value::Array(vec![v]);
        }
        let err = BoundedValue::new(1024).deserialize(&v).unwrap_err();
        assert!(err.to_string().contains("deeper than 1024"), "{err}");
        // Dropping a 20 000-level value recurses too; leave it to a thread
        // with room (the test thread has 2 MiB).
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || drop(v))
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn empty_keys_are_refused() {
        let err = BoundedMap::new(8).deserialize(&json!({"": 1})).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
