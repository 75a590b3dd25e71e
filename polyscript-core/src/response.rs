//! What an eval returns.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::engine::{EngineKind, Output};
use crate::error::{Error, Result};
use crate::script_id::ScriptId;
use crate::value::{Value, ValueType};

/// The result of one eval: the script's value plus where and how it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    value: Value,
    /// Raw output bytes, for engines asked to return them (`value` is then
    /// `null`).
    bytes: Option<Vec<u8>>,
    script_id: ScriptId,
    engine: EngineKind,
    exec_time: Duration,
}

impl Response {
    /// A response (engines and evaluators make these).
    pub fn new(value: Value, script_id: ScriptId, engine: EngineKind, exec_time: Duration) -> Self {
        Response {
            value,
            bytes: None,
            script_id,
            engine,
            exec_time,
        }
    }

    /// A response from what an engine's eval produced ([`Output`]).
    pub fn from_output(
        output: Output,
        script_id: ScriptId,
        engine: EngineKind,
        exec_time: Duration,
    ) -> Self {
        match output {
            Output::Value(value) => Response::new(value, script_id, engine, exec_time),
            Output::Bytes(bytes) => Response {
                value: Value::Null,
                bytes: Some(bytes),
                script_id,
                engine,
                exec_time,
            },
        }
    }

    /// The raw bytes the script returned, when its engine was asked for
    /// them (e.g. a WASM engine's bytes output mode): exactly as written,
    /// never re-encoded. `None` for a value result.
    pub fn bytes(&self) -> Option<&[u8]> {
        self.bytes.as_deref()
    }

    /// The raw bytes, by value (see [`bytes`](Self::bytes)).
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        self.bytes
    }

    /// The script's result (`null` when the engine returned raw
    /// [`bytes`](Self::bytes)).
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
    fn byte_output_is_carried_unchanged() {
        let raw = vec![0xff, 0x00, b'a', 0xfe];
        let r = Response::from_output(
            Output::Bytes(raw.clone()),
            ScriptId::of(b"s"),
            EngineKind::Extism,
            Duration::ZERO,
        );
        assert_eq!(r.bytes(), Some(raw.as_slice()));
        assert_eq!(r.value(), &Value::Null);
        assert_eq!(r.clone().into_bytes(), Some(raw));
        assert_eq!(response(json!(1)).bytes(), None);
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
