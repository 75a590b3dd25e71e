//! Any `impl Serialize` into a [`Value`], bounded.
//!
//! `serde_json::to_value` recurses once per level of its input without a
//! bound (a value nested 10 000 levels deep overflows the stack and aborts
//! the process), silently turns NaN and the infinities into `null`, and
//! accepts empty keys. This serializer builds the same `Value`s but checks
//! the depth *before* each level (so it never recurses past the bound),
//! refuses non-finite floats and empty keys, and names the path to the value
//! it refused. No crate offers a depth-bounded, path-reporting `to_value`;
//! serde_stacker grows the stack instead of bounding it, and would still
//! build (and then have to drop) the too-deep value.

use serde::ser::{self, Serialize};

use super::error::{DataError, DataErrorKind};
use super::numbers::float_to_json;
use crate::error::{Error, Result};
use crate::value::{Map, Value};

/// Serializes `data` into a [`Value`] nested at most `max_depth` levels.
pub fn to_value<T: Serialize + ?Sized>(data: &T, max_depth: u32) -> Result<Value, DataError> {
    data.serialize(ValueSerializer {
        depth: 0,
        max_depth,
    })
    .map_err(|e| e.0)
}

/// Serializes `data`, which must be a map, into a [`Map`] nested at most
/// [`Limits::MAX_DATA_DEPTH`](crate::Limits::MAX_DATA_DEPTH) levels, with no
/// empty key and no non-finite float: what a context or provider holds.
pub fn to_map<T: Serialize + ?Sized>(data: &T) -> Result<Map> {
    match to_value(data, crate::Limits::MAX_DATA_DEPTH) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Error::invalid_data(format!(
            "data must be a map, got {}",
            crate::ValueType::of(&other)
        ))),
        Err(err) => Err(err.into_plain_error("ctx")),
    }
}

/// The serializer's error: a [`DataError`] (serde needs its own type).
#[derive(Debug)]
pub(crate) struct SerError(pub(crate) DataError);

impl std::fmt::Display for SerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        SerError(DataError::other(msg.to_string()))
    }
}

type R = std::result::Result<Value, SerError>;

#[derive(Clone, Copy)]
struct ValueSerializer {
    /// Containers open around the value being serialized.
    depth: u32,
    max_depth: u32,
}

impl ValueSerializer {
    /// The serializer for the items of a container opened here.
    fn open(self) -> std::result::Result<ValueSerializer, SerError> {
        let depth = self.depth + 1;
        if depth > self.max_depth {
            return Err(SerError(DataError::too_deep(self.max_depth)));
        }
        Ok(ValueSerializer { depth, ..self })
    }
}

fn int_out_of_range(value: impl ToString) -> SerError {
    SerError(DataError::new(DataErrorKind::IntegerOutOfRange {
        value: value.to_string(),
        range: "a 64-bit integer",
    }))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = SerError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = VariantBuilder<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = VariantBuilder<MapBuilder>;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Value::from(v))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Value::from(v))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Value::from(v))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Value::from(v))
    }
    fn serialize_i128(self, v: i128) -> R {
        if let Ok(i) = i64::try_from(v) {
            Ok(Value::from(i))
        } else if let Ok(u) = u64::try_from(v) {
            Ok(Value::from(u))
        } else {
            Err(int_out_of_range(v))
        }
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Value::from(v))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Value::from(v))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Value::from(v))
    }
    fn serialize_u64(self, v: u64) -> R {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> R {
        u64::try_from(v)
            .map(Value::from)
            .map_err(|_| int_out_of_range(v))
    }
    fn serialize_f32(self, v: f32) -> R {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> R {
        float_to_json(v).map_err(SerError)
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        self.open()?;
        Ok(Value::Array(v.iter().map(|&b| Value::from(b)).collect()))
    }
    fn serialize_none(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> R {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        let inner = self.open()?;
        let inner = super::with_stack(|| value.serialize(inner))
            .map_err(|e| SerError(e.0.at_key(variant)))?;
        let mut map = Map::new();
        map.insert(variant.to_owned(), inner);
        Ok(Value::Object(map))
    }
    fn serialize_seq(self, len: Option<usize>) -> std::result::Result<SeqBuilder, SerError> {
        Ok(SeqBuilder {
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            inner: self.open()?,
        })
    }
    fn serialize_tuple(self, len: usize) -> std::result::Result<SeqBuilder, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> std::result::Result<SeqBuilder, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> std::result::Result<VariantBuilder<SeqBuilder>, SerError> {
        Ok(VariantBuilder {
            variant,
            inner: self.open()?.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> std::result::Result<MapBuilder, SerError> {
        Ok(MapBuilder {
            map: Map::new(),
            key: None,
            inner: self.open()?,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> std::result::Result<MapBuilder, SerError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> std::result::Result<VariantBuilder<MapBuilder>, SerError> {
        Ok(VariantBuilder {
            variant,
            inner: self.open()?.serialize_map(Some(len))?,
        })
    }
}

/// Builds a list.
struct SeqBuilder {
    items: Vec<Value>,
    inner: ValueSerializer,
}

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> std::result::Result<(), SerError> {
        let index = self.items.len();
        let inner = self.inner;
        let item = super::with_stack(|| value.serialize(inner))
            .map_err(|e| SerError(e.0.at_index(index)))?;
        self.items.push(item);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> R {
        Ok(Value::Array(self.items))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> R {
        Ok(Value::Array(self.items))
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> R {
        Ok(Value::Array(self.items))
    }
}

/// Builds a map.
struct MapBuilder {
    map: Map,
    key: Option<String>,
    inner: ValueSerializer,
}

impl MapBuilder {
    fn insert<T: Serialize + ?Sized>(
        &mut self,
        key: String,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        if key.is_empty() {
            return Err(SerError(
                DataError::new(DataErrorKind::EmptyKey).at_key(key),
            ));
        }
        let inner = self.inner;
        match super::with_stack(|| value.serialize(inner)) {
            Ok(value) => {
                self.map.insert(key, value);
                Ok(())
            }
            Err(e) => Err(SerError(e.0.at_key(key))),
        }
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(
        &mut self,
        key: &T,
    ) -> std::result::Result<(), SerError> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerError(DataError::other("a map value without a key")))?;
        self.insert(key, value)
    }
    fn end(self) -> R {
        Ok(Value::Object(self.map))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        self.insert(key.to_owned(), value)
    }
    fn end(self) -> R {
        Ok(Value::Object(self.map))
    }
}

/// An enum variant's content, wrapped as `{variant: content}`.
struct VariantBuilder<B> {
    variant: &'static str,
    inner: B,
}

impl<B> VariantBuilder<B> {
    fn wrap(variant: &'static str, content: Value) -> Value {
        let mut map = Map::new();
        map.insert(variant.to_owned(), content);
        Value::Object(map)
    }
}

impl ser::SerializeTupleVariant for VariantBuilder<SeqBuilder> {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        let variant = self.variant;
        self.inner
            .push(value)
            .map_err(|e| SerError(e.0.at_key(variant)))
    }
    fn end(self) -> R {
        Ok(Self::wrap(self.variant, Value::Array(self.inner.items)))
    }
}

impl ser::SerializeStructVariant for VariantBuilder<MapBuilder> {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        let variant = self.variant;
        self.inner
            .insert(key.to_owned(), value)
            .map_err(|e| SerError(e.0.at_key(variant)))
    }
    fn end(self) -> R {
        Ok(Self::wrap(self.variant, Value::Object(self.inner.map)))
    }
}

/// Map keys: strings, and the scalars serde_json also writes as strings.
struct KeySerializer;

type K = std::result::Result<String, SerError>;

fn key_error(what: &str) -> SerError {
    SerError(DataError::other(format!(
        "map keys must be strings (or numbers, chars or bools), got {what}"
    )))
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = SerError;
    type SerializeSeq = ser::Impossible<String, SerError>;
    type SerializeTuple = ser::Impossible<String, SerError>;
    type SerializeTupleStruct = ser::Impossible<String, SerError>;
    type SerializeTupleVariant = ser::Impossible<String, SerError>;
    type SerializeMap = ser::Impossible<String, SerError>;
    type SerializeStruct = ser::Impossible<String, SerError>;
    type SerializeStructVariant = ser::Impossible<String, SerError>;

    fn serialize_bool(self, v: bool) -> K {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> K {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> K {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> K {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> K {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> K {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> K {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> K {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> K {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> K {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> K {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> K {
        Err(key_error("a float"))
    }
    fn serialize_f64(self, _v: f64) -> K {
        Err(key_error("a float"))
    }
    fn serialize_char(self, v: char) -> K {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> K {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> K {
        Err(key_error("bytes"))
    }
    fn serialize_none(self) -> K {
        Err(key_error("none"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> K {
        value.serialize(self)
    }
    fn serialize_unit(self) -> K {
        Err(key_error("a unit"))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> K {
        Err(key_error("a unit struct"))
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> K {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> K {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> K {
        Err(key_error("an enum variant with data"))
    }
    fn serialize_seq(
        self,
        _len: Option<usize>,
    ) -> std::result::Result<Self::SerializeSeq, SerError> {
        Err(key_error("a list"))
    }
    fn serialize_tuple(self, _len: usize) -> std::result::Result<Self::SerializeTuple, SerError> {
        Err(key_error("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, SerError> {
        Err(key_error("a tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, SerError> {
        Err(key_error("an enum variant with data"))
    }
    fn serialize_map(
        self,
        _len: Option<usize>,
    ) -> std::result::Result<Self::SerializeMap, SerError> {
        Err(key_error("a map"))
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeStruct, SerError> {
        Err(key_error("a struct"))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, SerError> {
        Err(key_error("an enum variant with data"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    #[test]
    fn builds_what_serde_json_builds() {
        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, u8),
            Struct { a: u8 },
        }
        #[derive(Serialize)]
        struct S {
            name: &'static str,
            list: Vec<Option<i32>>,
            e: [E; 4],
            big: u64,
            neg: i128,
            f: f32,
        }
        let s = S {
            name: "x",
            list: vec![Some(1), None],
            e: [E::Unit, E::New(1), E::Tuple(1, 2), E::Struct { a: 3 }],
            big: u64::MAX,
            neg: -5,
            f: 0.5,
        };
        let ours = to_value(&s, 128).unwrap();
        assert_eq!(ours, serde_json::to_value(&s).unwrap());
        let value = json!({"a": [1, {"b": null}], "c": -0.0});
        assert_eq!(to_value(&value, 128).unwrap(), value);
    }

    #[test]
    fn deep_values_stop_at_the_bound_without_recursing_further() {
        let mut v = json!(1);
        for _ in 0..300 {
            v = Value::Array(vec![v]);
        }
        let err = to_value(&v, 128).unwrap_err();
        assert_eq!(err.kind(), &DataErrorKind::TooDeep { limit: 128 });
        assert!(err.path("ctx").starts_with("ctx[0][0]"));
        assert!(to_value(&v, 300).is_ok());
        assert!(to_value(&v, 299).is_err());
    }

    #[test]
    fn non_finite_floats_and_empty_keys_are_refused_with_their_path() {
        #[derive(Serialize)]
        struct S {
            values: Vec<f64>,
        }
        let err = to_value(
            &S {
                values: vec![1.0, f64::NAN],
            },
            128,
        )
        .unwrap_err();
        assert!(matches!(err.kind(), DataErrorKind::NonFinite(_)));
        assert_eq!(err.path("ctx"), "ctx.values[1]");
        let err = to_value(&json!({"a": {"": 1}}), 128).unwrap_err();
        assert_eq!(err.kind(), &DataErrorKind::EmptyKey);
        assert_eq!(err.path("ctx"), r#"ctx.a[""]"#);
        assert!(to_value(&u128::MAX, 128).is_err());
    }

    #[test]
    fn to_map_wants_a_map() {
        assert!(to_map(&json!([1])).is_err());
        assert_eq!(to_map(&json!({"a": 1})).unwrap()["a"], json!(1));
    }
}
