//! The data model: serde_json's `Value` and `Map`, plus [`ValueType`].

use std::fmt;

/// Any value that goes into or comes out of a script.
pub use serde_json::Value;

/// A string-keyed map of values (insertion-ordered).
pub type Map = serde_json::Map<String, Value>;

/// The type of a [`Value`], with integers and floats told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueType {
    /// `null` (Rhai `()`, Lua `nil`, JS `null`/`undefined`).
    Null,
    /// `true` / `false`.
    Bool,
    /// A whole number that fits `i64` or `u64`.
    Int,
    /// A floating-point number.
    Float,
    /// A UTF-8 string.
    String,
    /// An ordered list.
    List,
    /// A string-keyed map.
    Map,
}

impl ValueType {
    /// The type of `value`.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Null => ValueType::Null,
            Value::Bool(_) => ValueType::Bool,
            Value::Number(n) if n.is_f64() => ValueType::Float,
            Value::Number(_) => ValueType::Int,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::List,
            Value::Object(_) => ValueType::Map,
        }
    }
}

impl From<&Value> for ValueType {
    fn from(value: &Value) -> Self {
        ValueType::of(value)
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::Null => "null",
            ValueType::Bool => "bool",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Map => "map",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_json_shape_has_its_type() {
        assert_eq!(ValueType::of(&json!(null)), ValueType::Null);
        assert_eq!(ValueType::of(&json!(true)), ValueType::Bool);
        assert_eq!(ValueType::of(&json!(42)), ValueType::Int);
        assert_eq!(ValueType::of(&json!(-42)), ValueType::Int);
        assert_eq!(ValueType::of(&json!(u64::MAX)), ValueType::Int);
        assert_eq!(ValueType::of(&json!(4.5)), ValueType::Float);
        assert_eq!(ValueType::of(&json!("x")), ValueType::String);
        assert_eq!(ValueType::of(&json!([1])), ValueType::List);
        assert_eq!(ValueType::of(&json!({"a": 1})), ValueType::Map);
        assert_eq!(ValueType::Float.to_string(), "float");
    }
}
