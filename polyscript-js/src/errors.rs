//! Thrown JavaScript errors and engine errors → [`Failure`].

use boa_engine::error::{EngineError, RuntimeLimitError};
use boa_engine::{Context, JsError};
use polyscript_core::LimitKind;

use crate::failure::Failure;
use crate::memory;
use crate::program::JsProgram;

/// Classifies an error a script ended with.
pub(crate) fn classify(error: JsError, program: &JsProgram, context: &mut Context) -> Failure {
    if let Some(message) = memory::take_exceeded() {
        return Failure::Limit(LimitKind::Memory, message);
    }
    if let Some(engine) = error.as_engine() {
        return match engine {
            EngineError::RuntimeLimit(RuntimeLimitError::LoopIteration) => Failure::Limit(
                LimitKind::Operations,
                "loop iteration limit reached (Limits::operations)".into(),
            ),
            EngineError::RuntimeLimit(RuntimeLimitError::Recursion) => Failure::Limit(
                LimitKind::CallDepth,
                "recursion limit reached (Limits::call_depth)".into(),
            ),
            EngineError::RuntimeLimit(RuntimeLimitError::StackSize) => {
                Failure::Limit(LimitKind::CallDepth, "VM stack size limit reached".into())
            }
            other => Failure::Panic(other.to_string()),
        };
    }
    let rendered = error.to_string();
    let location = find_location(&rendered).map(|(l, c)| program.unwrap_location(l, c));
    let message = match error.try_native(context) {
        Ok(native) => {
            let text = native.message().trim();
            if text.is_empty() {
                native.kind().to_string()
            } else {
                format!("{}: {text}", native.kind())
            }
        }
        Err(_) => match error.as_opaque() {
            Some(value) => format!("Uncaught {}", value.display()),
            None => first_line(&rendered).to_owned(),
        },
    };
    Failure::Runtime(message, location)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// The first `:line:column)` in boa's rendering of an error (its backtrace
/// prints `at fn (path:line:column)`, innermost frame first).
pub(crate) fn find_location(rendered: &str) -> Option<(u32, u32)> {
    rendered.match_indices(')').find_map(|(end, _)| {
        let head = &rendered[..end];
        let (rest, column) = head.rsplit_once(':')?;
        let (_, line) = rest.rsplit_once(':')?;
        Some((line.parse().ok()?, column.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::find_location;

    #[test]
    fn finds_the_innermost_position() {
        let text =
            "TypeError: x is not a function\n    at f (<inline>:3:7)\n    at <main> (<inline>:9:1)";
        assert_eq!(find_location(text), Some((3, 7)));
        assert_eq!(find_location("Error: boom"), None);
    }
}
