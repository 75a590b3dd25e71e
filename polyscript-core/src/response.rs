//! What an eval returns.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::script_id::ScriptId;
use crate::value::{Value, ValueType};

/// The result of one eval: the script's value plus where and how it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    value: Value,
    script_id: ScriptId,
    engine: EngineKind,
    exec_time: Duration,
}

impl Response {
    /// A response (engines and evaluators make these).
    pub fn new(value: Value, script_id: ScriptId, engine: EngineKind, exec_time: Duration) -> Self {
        Response {
            value,
            script_id,
            engine,
            exec_time,
        }
    }

    /// The script's result.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The script's result, by value.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// The type of the result.
    pub fn value_type(&self) -> ValueType {
        ValueType::of(&self.value)
    }

    /// The result converted into any serde type; a mismatch is
    /// [`Error::InvalidData`] naming the expected type.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.value).map_err(|e| {
            Error::invalid_data(format!(
                "result of script {} ({}) is not a {}: {e}",
                self.script_id,
                self.value_type(),
                std::any::type_name::<T>()
            ))
        })
    }

    /// A human-readable rendering of the result (pretty JSON; strings quoted).
    pub fn inspect(&self) -> String {
        serde_json::to_string_pretty(&self.value).unwrap_or_else(|_| self.value.to_string())
    }

    /// The script that ran.
    pub fn script_id(&self) -> ScriptId {
        self.script_id
    }

    /// The engine that ran it.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// How long the eval took (acquiring an instance included).
    pub fn exec_time(&self) -> Duration {
        self.exec_time
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Greeting {
        greeting: String,
        length: u32,
    }

    fn response(value: Value) -> Response {
        Response::new(
            value,
            ScriptId::of(b"s"),
            EngineKind::Rhai,
            Duration::from_micros(3),
        )
    }

    #[test]
    fn deserializes_into_typed_results() {
        let r = response(json!({"greeting": "Hello, World!", "length": 13}));
        assert_eq!(r.value_type(), ValueType::Map);
        assert_eq!(
            r.deserialize::<Greeting>().unwrap(),
            Greeting {
                greeting: "Hello, World!".into(),
                length: 13
            }
        );
        assert!(r.inspect().contains("\"greeting\": \"Hello, World!\""));
    }

    #[test]
    fn wrong_type_is_invalid_data_naming_the_type() {
        let err = response(json!("nope"))
            .deserialize::<Greeting>()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }));
        assert!(err.to_string().contains("Greeting"), "{err}");
    }
}
