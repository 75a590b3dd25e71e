//! Thrown JavaScript errors and engine errors → [`Failure`].
//!
//! Classifying runs no script code: an error object's `name` and `message`
//! are read from data properties only (a getter there is not called), and
//! the location comes from the backtrace boa captured when the error was
//! thrown. Messages are cut to [`MESSAGE_MAX`] bytes.

use boa_engine::builtins::error::Error as ErrorData;
use boa_engine::error::{EngineError, RuntimeLimitError};
use boa_engine::property::PropertyKey;
use boa_engine::{JsError, JsObject, JsValue, js_string};
use polyscript_core::LimitKind;

use crate::failure::Failure;
use crate::lockdown::Tamed;
use crate::program::JsProgram;

/// Longest error message kept, in bytes.
const MESSAGE_MAX: usize = 4096;

/// Prototypes looked through for an error's `name` (a chain deeper than
/// this is not an error class hierarchy anyone writes).
const PROTOTYPE_HOPS: usize = 32;

/// Classifies an error a script ended with.
pub(crate) fn classify(error: &JsError, program: &JsProgram, tamed: &Tamed) -> Failure {
    if let Some(engine) = error.as_engine() {
        return match runtime_limit(error) {
            Some(RuntimeLimitError::LoopIteration) => Failure::Limit(
                LimitKind::Operations,
                "loop iteration limit reached (Limits::operations)".into(),
            ),
            Some(RuntimeLimitError::Recursion) => Failure::Limit(
                LimitKind::CallDepth,
                "recursion limit reached (Limits::call_depth)".into(),
            ),
            Some(RuntimeLimitError::StackSize) => {
                Failure::Limit(LimitKind::CallDepth, "VM stack size limit reached".into())
            }
            _ => Failure::Panic(engine.to_string()),
        };
    }
    let location = error
        .thrown_at()
        .map(|(line, column)| program.unwrap_location(line, column));
    let message = if let Some(native) = error.as_native() {
        join(&native.kind().to_string(), native.message())
    } else {
        match error.as_opaque() {
            Some(value) => describe_thrown(value, tamed),
            None => "Uncaught error".to_owned(),
        }
    };
    Failure::Runtime(truncate(message), location)
}

/// The runtime limit behind an engine error. boa turns errors it does not
/// expect into "panic" errors (`js_expect`) that keep the original as their
/// source: a recursion limit reached inside such a step still is one.
fn runtime_limit(error: &JsError) -> Option<RuntimeLimitError> {
    let mut current = error;
    for _ in 0..16 {
        match current.as_engine()? {
            EngineError::RuntimeLimit(limit) => return Some(*limit),
            EngineError::Panic(panic) => {
                let source = std::error::Error::source(panic)?;
                current = source
                    .downcast_ref::<JsError>()
                    .or_else(|| source.downcast_ref::<Box<JsError>>().map(AsRef::as_ref))?;
            }
        }
    }
    None
}

/// A thrown value in words: `TypeError: message` for error objects, the
/// value itself otherwise (`Uncaught plain`).
fn describe_thrown(value: &JsValue, tamed: &Tamed) -> String {
    if let Some(object) = value.as_object()
        && object.is::<ErrorData>()
    {
        let name = data_property(&object, "name", tamed).unwrap_or_else(|| "Error".to_owned());
        let message = data_property(&object, "message", tamed).unwrap_or_default();
        return join(&name, &message);
    }
    if let Some(string) = value.as_string() {
        let mut text = String::from("Uncaught ");
        text.push_str(&string.to_std_string_lossy());
        return text;
    }
    format!("Uncaught {}", value.display())
}

fn join(name: &str, message: &str) -> String {
    let message = message.trim();
    if message.is_empty() {
        name.to_owned()
    } else {
        format!("{name}: {message}")
    }
}

/// A string data property of `object` or its prototypes, without running
/// getters (a built-in's tamed accessor gives its recorded value).
fn data_property(object: &JsObject, name: &str, tamed: &Tamed) -> Option<String> {
    let key = PropertyKey::from(js_string!(name));
    let mut current = Some(object.clone());
    for _ in 0..PROTOTYPE_HOPS {
        let object = current?;
        let found = object.borrow().properties().get(&key);
        if let Some(desc) = found {
            let value = match desc.value() {
                Some(value) => Some(value.clone()),
                None => tamed.value(&object, &key).cloned(),
            };
            return value
                .as_ref()
                .and_then(JsValue::as_string)
                .map(|s| s.to_std_string_lossy());
        }
        current = object.prototype();
    }
    None
}

fn truncate(mut message: String) -> String {
    if message.len() > MESSAGE_MAX {
        let mut end = MESSAGE_MAX;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let cut = truncate("é".repeat(5000));
        assert!(cut.len() <= super::MESSAGE_MAX + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short".into()), "short");
    }
}
