//! From mlua errors to `polyscript_core::Error`, with the script's line.
//!
//! Lua puts the position in the message (`script:3: attempt to ...`); the
//! line moves into the error's [`Location`] and the message keeps only what
//! went wrong, so the position is never said twice. Lua reports no columns,
//! so locations have none.

use polyscript_core::data::{DataError, Direction};
use polyscript_core::{EngineKind, Error, Guard, LimitKind, Location, ScriptId};

use crate::watch;

/// The error mlua wrapped (callback and context layers removed).
pub(crate) fn root(err: &mlua::Error) -> &mlua::Error {
    match err {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            root(cause)
        }
        other => other,
    }
}

/// The message without mlua's prefix and without the Lua traceback.
fn message_of(err: &mlua::Error) -> String {
    let text = match err {
        mlua::Error::RuntimeError(msg) | mlua::Error::MemoryError(msg) => msg.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let text = match text.find("\nstack traceback:") {
        Some(end) => text[..end].to_owned(),
        None => text,
    };
    error_object(&text).unwrap_or(text)
}

/// `(error object is a table value)` for a raised non-string value, whose
/// text mlua gives as `table: 0x55d4...` (an address says nothing).
fn error_object(text: &str) -> Option<String> {
    let (kind, address) = text.split_once(": 0x")?;
    let is_address = !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit());
    let is_kind = matches!(kind, "table" | "function" | "userdata" | "thread");
    (is_address && is_kind).then(|| format!("(error object is a {kind} value)"))
}

/// Splits Lua's own `chunk:LINE: ` prefix off the front of `message`.
pub(crate) fn split_location<'m>(message: &'m str, chunk: &str) -> (Option<Location>, &'m str) {
    let Some(after) = message
        .strip_prefix(chunk)
        .and_then(|rest| rest.strip_prefix(':'))
    else {
        return (None, message);
    };
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    match (
        after[..digits].parse::<u32>(),
        after[digits..].strip_prefix(':'),
    ) {
        (Ok(line), Some(rest)) => (
            Some(Location::line(line)),
            rest.strip_prefix(' ').unwrap_or(rest),
        ),
        _ => (None, message),
    }
}

/// Whether Lua itself ran out of stack: its own "stack overflow" (Lua
/// stack) or "C stack overflow", or "error in error handling" (what a
/// recursion in message handlers ends with). Not a library function's
/// "stack overflow (string slice too long)": that is an argument too big.
fn is_stack_overflow(message: &str) -> bool {
    message.ends_with("stack overflow") || message.contains("error in error handling")
}

/// A compile-time (syntax) error in the chunk named `chunk`.
pub(crate) fn compile(err: &mlua::Error, script_id: ScriptId, chunk: &str) -> Error {
    let text = message_of(root(err));
    let (location, message) = split_location(&text, chunk);
    Error::Compile {
        engine: EngineKind::Lua,
        script_id,
        location,
        message: message.to_owned(),
    }
}

/// An error while preparing a Lua state (before any script code ran).
pub(crate) fn setup(err: &mlua::Error, script_id: ScriptId) -> Error {
    Error::Runtime {
        engine: EngineKind::Lua,
        script_id,
        message: format!("cannot set up a Lua state: {}", message_of(root(err))),
        location: None,
    }
}

/// An error raised while the chunk named `chunk` ran.
pub(crate) fn runtime(err: &mlua::Error, guard: &Guard<'_>, chunk: &str) -> Error {
    let err = root(err);
    let text = message_of(err);
    // A memory error that reached the top through `coroutine.wrap` is a
    // plain runtime error carrying Lua's memory message.
    let memory = matches!(err, mlua::Error::MemoryError(_))
        || (guard.limits().memory_bytes.is_some() && watch::is_memory_error_text(text.as_bytes()));
    if memory {
        return guard.limit_error(LimitKind::Memory, text);
    }
    if is_stack_overflow(&text) {
        return guard.limit_error(LimitKind::CallDepth, text);
    }
    let (location, message) = split_location(&text, chunk);
    guard.runtime_error(message, location)
}

/// Data that cannot cross (`direction`) in this eval.
pub(crate) fn data(err: DataError, direction: Direction, guard: &Guard<'_>) -> Error {
    err.into_error(direction, EngineKind::Lua, guard.script_id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leading_position_becomes_the_location() {
        assert_eq!(
            split_location("greet.lua:12: attempt to index a nil value", "greet.lua"),
            (Some(Location::line(12)), "attempt to index a nil value")
        );
        // Only Lua's own prefix, not a position quoted later in the text.
        assert_eq!(
            split_location("boom greet.lua:3: x", "greet.lua"),
            (None, "boom greet.lua:3: x")
        );
        assert_eq!(
            split_location("other.lua:3: boom", "greet.lua"),
            (None, "other.lua:3: boom")
        );
        assert_eq!(
            split_location("script:5: script:3: nested", "script"),
            (Some(Location::line(5)), "script:3: nested")
        );
    }

    #[test]
    fn raised_tables_are_named_not_addressed() {
        assert_eq!(
            error_object("table: 0x55d4c0ffee00").as_deref(),
            Some("(error object is a table value)")
        );
        assert_eq!(error_object("boom: 0xzz"), None);
    }
}
