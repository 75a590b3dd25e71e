//! The data a WASM guest reads and writes: the input map as JSON bytes, and
//! the guest's output bytes as a [`Value`], both within the eval's data
//! bounds (see `polyscript_core::data`).

use polyscript_core::data::{self, Budget, Direction};
use polyscript_core::{Error, Guard, Map, Result, Value};

/// How text output that is not JSON is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOutput {
    /// As written.
    Verbatim,
    /// Without trailing white space (a command's stdout usually ends in a
    /// newline).
    TrimEnd,
}

/// `input` as the JSON bytes the guest reads, once it is known to nest no
/// deeper than the eval's [`data_depth`](polyscript_core::Limits::data_depth)
/// (the guest's own JSON parser may recurse, and the bound is the same in
/// every engine).
pub(crate) fn input_bytes(input: &Map, guard: &Guard<'_>) -> Result<Vec<u8>> {
    data::check_map(input, guard.limits().effective_data_depth())
        .map_err(|e| e.into_error(Direction::Input, guard.engine(), guard.script_id()))?;
    serde_json::to_vec(input)
        .map_err(|e| Error::invalid_data(format!("cannot serialize the input: {e}")))
}

/// The guest's output: nothing is `null`; JSON within the eval's data
/// bounds is its value; JSON past them (too deep, an integer beyond 64 bits,
/// a float that overflows) is [`Error::InvalidData`] naming the path (or
/// `LimitExceeded(Memory)` when it would take more than the memory limit to
/// build); anything else that is UTF-8 is a string; bytes that are neither
/// are [`Error::InvalidData`] (never replaced with U+FFFD).
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
            Err(e) => Err(Error::InvalidData {
                message: format!(
                    "the output ({} bytes) is neither JSON nor UTF-8 text (invalid byte at offset {})",
                    bytes.len(),
                    e.valid_up_to()
                ),
                path: Some("result".to_owned()),
                engine: Some(guard.engine()),
                script_id: Some(guard.script_id()),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::{CancelToken, EngineKind, Limits, ScriptId};
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
            assert!(err.to_string().contains("neither JSON nor UTF-8"), "{err}");
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
            let err = input_bytes(&input, g).unwrap_err();
            assert!(err.to_string().contains("ctx.value[0]"), "{err}");
        });
    }
}
