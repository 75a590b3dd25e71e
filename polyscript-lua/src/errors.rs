//! From mlua errors to `polyscript_core::Error`, with the script's line.

use polyscript_core::{EngineKind, Error, Guard, LimitKind, Location, ScriptId};

/// The error mlua wrapped (callback and context layers removed).
fn root(err: &mlua::Error) -> &mlua::Error {
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
    match text.find("\nstack traceback:") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// Finds `chunk:LINE:` (Lua's own error prefix) in `message`.
pub(crate) fn location_in(message: &str, chunk: &str) -> Option<Location> {
    let prefix = format!("{chunk}:");
    let mut rest = message;
    while let Some(at) = rest.find(&prefix) {
        let after = &rest[at + prefix.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(':') {
            return after[..digits].parse().ok().map(Location::line);
        }
        rest = after;
    }
    None
}

/// Whether Lua itself ran out of stack (Lua stack or C stack).
fn is_stack_overflow(message: &str) -> bool {
    message.contains("stack overflow") || message.contains("error in error handling")
}

/// A compile-time (syntax) error.
pub(crate) fn compile(err: &mlua::Error, script_id: ScriptId, chunk: &str) -> Error {
    let message = message_of(root(err));
    Error::Compile {
        engine: EngineKind::Lua,
        script_id,
        location: location_in(&message, chunk),
        message,
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

/// An error raised while the script ran.
pub(crate) fn runtime(err: &mlua::Error, guard: &Guard<'_>, chunk: &str) -> Error {
    let err = root(err);
    let message = message_of(err);
    if matches!(err, mlua::Error::MemoryError(_)) {
        return guard.limit_error(LimitKind::Memory, message);
    }
    if is_stack_overflow(&message) {
        return guard.limit_error(LimitKind::CallDepth, message);
    }
    let location = location_in(&message, chunk);
    guard.runtime_error(message, location)
}

/// An error converting data between JSON and Lua.
pub(crate) fn data(err: &mlua::Error, guard: &Guard<'_>, what: &str) -> Error {
    let err = root(err);
    let message = message_of(err);
    if matches!(err, mlua::Error::MemoryError(_)) {
        return guard.limit_error(LimitKind::Memory, message);
    }
    Error::invalid_data(format!("{what}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_after_the_chunk_name() {
        assert_eq!(
            location_in("greet.lua:12: attempt to index a nil value", "greet.lua"),
            Some(Location::line(12))
        );
        assert_eq!(
            location_in("x greet.lua:oops greet.lua:3: boom", "greet.lua"),
            Some(Location::line(3))
        );
        assert_eq!(location_in("other.lua:3: boom", "greet.lua"), None);
    }
}
