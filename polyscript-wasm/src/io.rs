//! The bytes a WASM guest reads and writes: the input and output modes, both
//! within the eval's data bounds (see `polyscript_core::data`).

use polyscript_core::data::{self, Budget, DataError, Direction};
use polyscript_core::{Error, EvalInput, Guard, Output, Result, Value};

/// What a guest receives as its input.
///
/// | mode | the guest reads | from the merged data |
/// |---|---|---|
/// | `Json` (default) | one JSON object | all of it |
/// | `Text { key }` | UTF-8 text, no quotes | the string at `key` |
/// | `Bytes { key }` | raw bytes | at `key`: a string (its UTF-8 bytes) or a list of integers 0–255 (those bytes) |
///
/// A missing key or a value of another type is `Error::InvalidData` naming
/// `ctx.<key>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InputMode {
    /// The merged data as one JSON object (as in go-polyscript).
    #[default]
    Json,
    /// The string at `key`, as its UTF-8 bytes.
    Text {
        /// The data key holding the text.
        key: String,
    },
    /// The value at `key` as raw bytes: a string's UTF-8 bytes, or a list
    /// of integers 0–255 (serde's form of `Vec<u8>`, so
    /// `json!({"input": bytes})` works) as those bytes.
    Bytes {
        /// The data key holding the bytes.
        key: String,
    },
}

impl InputMode {
    /// [`InputMode::Text`] reading `key`.
    pub fn text(key: impl Into<String>) -> Self {
        InputMode::Text { key: key.into() }
    }

    /// [`InputMode::Bytes`] reading `key`.
    pub fn bytes(key: impl Into<String>) -> Self {
        InputMode::Bytes { key: key.into() }
    }
}

/// What becomes of a guest's output.
///
/// | mode | output | `Response::value()` | `Response::bytes()` |
/// |---|---|---|---|
/// | `Json` (default) | JSON within the data bounds | the value | `None` |
/// |  | UTF-8 that is not JSON | a string | `None` |
/// |  | neither, or JSON past the bounds | `Error::InvalidData` | |
/// | `Text` | UTF-8, verbatim | a string | `None` |
/// |  | not UTF-8 | `Error::InvalidData` (never U+FFFD) | |
/// | `Bytes` | anything | `null` | the bytes, unchanged |
///
/// No output is `null` in the `Json` mode, `""` in `Text`, empty bytes in
/// `Bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OutputMode {
    /// Parsed as JSON, else kept as text.
    #[default]
    Json,
    /// UTF-8 text, as a string.
    Text,
    /// Raw bytes, carried losslessly by the response.
    Bytes,
}

/// How text output that is not JSON is kept in the `Json` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOutput {
    /// As written.
    Verbatim,
    /// Without trailing white space (a command's stdout usually ends in a
    /// newline).
    TrimEnd,
}

/// The bytes the guest reads for `input` in `mode`. JSON input is refused
/// when it nests deeper than the eval's
/// [`data_depth`](polyscript_core::Limits::data_depth) (the guest's own JSON
/// parser may recurse, and the bound is the same in every engine). A
/// layered input is merged first: the guest reads all of it anyway.
pub(crate) fn input_bytes(
    mode: &InputMode,
    input: &EvalInput<'_>,
    guard: &Guard<'_>,
) -> Result<Vec<u8>> {
    let invalid = |e: DataError| e.into_error(Direction::Input, guard.engine(), guard.script_id());
    match mode {
        InputMode::Json => {
            let input = input.to_map().map_err(invalid)?;
            data::check_map(&input, guard.limits().effective_data_depth()).map_err(invalid)?;
            serde_json::to_vec(&*input)
                .map_err(|e| Error::invalid_data(format!("cannot serialize the input: {e}")))
        }
        InputMode::Text { key } => match input
            .get(key)
            .map_err(|e| invalid(e.at_key(key.as_str())))?
            .as_deref()
        {
            Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
            other => Err(invalid(
                DataError::other(format!(
                    "the text input mode reads a string here, found {}",
                    describe(other)
                ))
                .at_key(key.as_str()),
            )),
        },
        InputMode::Bytes { key } => match input
            .get(key)
            .map_err(|e| invalid(e.at_key(key.as_str())))?
            .as_deref()
        {
            Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item.as_u64() {
                    Some(byte) if byte <= 255 => Ok(byte as u8),
                    _ => Err(invalid(
                        DataError::other(format!("a byte is an integer 0-255, found {item}"))
                            .at_index(i)
                            .at_key(key.as_str()),
                    )),
                })
                .collect(),
            other => Err(invalid(
                DataError::other(format!(
                    "the bytes input mode reads a string or a list of bytes here, found {}",
                    describe(other)
                ))
                .at_key(key.as_str()),
            )),
        },
    }
}

fn describe(value: Option<&Value>) -> String {
    match value {
        None => "nothing".into(),
        Some(v) => polyscript_core::ValueType::of(v).to_string(),
    }
}

/// The guest's output `bytes` in `mode`: see [`OutputMode`]. Only the
/// bytes and text modes copy them (the JSON mode parses them in place).
pub(crate) fn output(
    mode: OutputMode,
    bytes: &[u8],
    text: TextOutput,
    guard: &Guard<'_>,
) -> Result<Output> {
    match mode {
        OutputMode::Json => output_value(bytes, text, guard).map(Output::Value),
        OutputMode::Bytes => Ok(Output::Bytes(bytes.to_vec())),
        OutputMode::Text => {
            Budget::for_limits(guard.limits())
                .charge_bytes(bytes.len())
                .map_err(|e| e.into_error(Direction::Result, guard.engine(), guard.script_id()))?;
            std::str::from_utf8(bytes)
                .map(|s| Output::Value(Value::String(s.to_owned())))
                .map_err(|e| not_utf8(bytes.len(), e.valid_up_to(), "UTF-8 text", guard))
        }
    }
}

/// `output` as a value, for `Engine::eval`: raw bytes become a list of
/// integers 0–255 (the lossless JSON form; the evaluator uses
/// `eval_output` and gets the bytes themselves).
pub(crate) fn into_value(output: Output) -> Value {
    match output {
        Output::Bytes(bytes) => Value::Array(bytes.into_iter().map(Value::from).collect()),
        Output::Value(value) => value,
        // `Output` is non-exhaustive; nothing else is made here.
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}

/// The guest's output in the `Json` mode: nothing is `null`; JSON within the
/// eval's data bounds is its value; JSON past them (too deep, an integer
/// beyond 64 bits, a float that overflows) is [`Error::InvalidData`] naming
/// the path (or `LimitExceeded(Memory)` when it would take more than the
/// memory limit to build); anything else that is UTF-8 is a string; bytes
/// that are neither are [`Error::InvalidData`] (never replaced with U+FFFD).
pub(crate) fn output_value(bytes: &[u8], text: TextOutput, guard: &Guard<'_>) -> Result<Value> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut budget = Budget::for_limits(guard.limits());
    match data::parse_json(bytes, &mut budget) {
        Ok(Some(value)) => Ok(value),
        Err(e) => Err(e.into_error(Direction::Result, guard.engine(), guard.script_id())),
        Ok(None) => match std::str::from_utf8(bytes) {
            Ok(s) => {
                let s = match text {
                    TextOutput::Verbatim => s,
                    TextOutput::TrimEnd => s.trim_end(),
                };
                Ok(if s.is_empty() {
                    Value::Null
                } else {
                    Value::String(s.to_owned())
                })
            }
            Err(e) => Err(not_utf8(
                bytes.len(),
                e.valid_up_to(),
                "JSON nor UTF-8 text",
                guard,
            )),
        },
    }
}

fn not_utf8(len: usize, valid_up_to: usize, expected: &str, guard: &Guard<'_>) -> Error {
    Error::InvalidData {
        message: format!(
            "the output ({len} bytes) is not {expected} (invalid byte at offset {valid_up_to}); \
             use OutputMode::Bytes for binary output"
        ),
        path: Some("result".to_owned()),
        engine: Some(guard.engine()),
        script_id: Some(guard.script_id()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::{CancelToken, EngineKind, Limits, Map, ScriptId};
    use serde_json::json;

    fn with_guard<R>(f: impl FnOnce(&Guard<'_>) -> R) -> R {
        let token = CancelToken::new();
        let guard = Guard::new(
            EngineKind::Wasi,
            ScriptId::of(b"m"),
            Limits::default(),
            None,
            &token,
        );
        f(&guard)
    }

    fn map(v: Value) -> Map {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn output_is_json_text_or_an_error_never_a_silent_change() {
        with_guard(|g| {
            assert_eq!(
                output_value(b"", TextOutput::Verbatim, g).unwrap(),
                Value::Null
            );
            assert_eq!(
                output_value(b"[1]", TextOutput::Verbatim, g).unwrap(),
                json!([1])
            );
            assert_eq!(
                output_value(b"hi\n", TextOutput::TrimEnd, g).unwrap(),
                json!("hi")
            );
            let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
            let err = output_value(deep.as_bytes(), TextOutput::Verbatim, g).unwrap_err();
            assert!(err.to_string().contains("result[0][0]"), "{err}");
            let err = output_value(b"123456789012345678901234567890", TextOutput::Verbatim, g)
                .unwrap_err();
            assert!(matches!(err, Error::InvalidData { .. }), "{err}");
            let err = output_value(b"\xff\xfe", TextOutput::Verbatim, g).unwrap_err();
            assert!(err.to_string().contains("nor UTF-8"), "{err}");
        });
    }

    #[test]
    fn text_and_bytes_output_keep_what_the_guest_wrote() {
        with_guard(|g| {
            let text = output(OutputMode::Text, b"{\"a\": 1}\n", TextOutput::TrimEnd, g);
            assert_eq!(text.unwrap(), Output::Value(json!("{\"a\": 1}\n")));
            let err = output(OutputMode::Text, &[b'a', 0xff], TextOutput::Verbatim, g).unwrap_err();
            assert!(err.to_string().contains("offset 1"), "{err}");
            let raw = vec![0xff, 0, 0xfe];
            let bytes = output(OutputMode::Bytes, &raw, TextOutput::Verbatim, g).unwrap();
            assert_eq!(bytes, Output::Bytes(raw));
            assert_eq!(into_value(bytes), json!([255, 0, 254]));
        });
    }

    #[test]
    fn deep_input_is_refused_before_the_guest_sees_it() {
        with_guard(|g| {
            let mut v = json!(0);
            for _ in 0..200 {
                v = Value::Array(vec![v]);
            }
            let input = Map::from_iter([("value".to_owned(), v)]);
            let err = input_bytes(&InputMode::Json, &(&input).into(), g).unwrap_err();
            assert!(err.to_string().contains("ctx.value[0]"), "{err}");
        });
    }

    #[test]
    fn text_and_bytes_input_read_one_key() {
        with_guard(|g| {
            let input = map(json!({"input": "héllo", "raw": [0, 255, 7], "n": 1, "bad": [256]}));
            assert_eq!(
                input_bytes(&InputMode::text("input"), &(&input).into(), g).unwrap(),
                "héllo".as_bytes()
            );
            assert_eq!(
                input_bytes(&InputMode::bytes("raw"), &(&input).into(), g).unwrap(),
                vec![0, 255, 7]
            );
            assert_eq!(
                input_bytes(&InputMode::bytes("input"), &(&input).into(), g).unwrap(),
                "héllo".as_bytes()
            );
            let err = input_bytes(&InputMode::text("n"), &(&input).into(), g).unwrap_err();
            assert!(err.to_string().contains("ctx.n"), "{err}");
            let err = input_bytes(&InputMode::text("missing"), &(&input).into(), g).unwrap_err();
            assert!(err.to_string().contains("ctx.missing"), "{err}");
            let err = input_bytes(&InputMode::bytes("bad"), &(&input).into(), g).unwrap_err();
            assert!(err.to_string().contains("ctx.bad[0]"), "{err}");
        });
    }
}
