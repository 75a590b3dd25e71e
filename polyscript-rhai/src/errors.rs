//! rhai errors → [`polyscript_core::Error`].

use std::fmt::{self, Write as _};

use polyscript_core::host::HostFunctions;
use polyscript_core::{EngineKind, Error, Guard, LimitKind, Location, ScriptId};
use rhai::{Dynamic, EvalAltResult, ParseError, Position};

use crate::budget::{Stopped, Trip};

/// A rhai position as a 1-based [`Location`] (`None` when rhai has none).
pub(crate) fn location(pos: Position) -> Option<Location> {
    let line = u32::try_from(pos.line()?).ok()?;
    Some(Location::at(
        line,
        pos.position().and_then(|c| u32::try_from(c).ok()),
    ))
}

/// A parse error as [`Error::Compile`] with rhai's line and column. The
/// message is rhai's own, without the position (the location carries it).
pub(crate) fn compile(script_id: ScriptId, error: &ParseError) -> Error {
    Error::Compile {
        engine: EngineKind::Rhai,
        script_id,
        message: error.err_type().to_string(),
        location: location(error.position()),
    }
}

/// The innermost position that has a line: where the failure happened, even
/// when rhai wraps it in "error in call to function ..." layers.
fn innermost_location(error: &EvalAltResult) -> Option<Location> {
    let inner = match error {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => innermost_location(inner),
        _ => None,
    };
    inner.or_else(|| location(error.position()))
}

/// The error for an eval that was stopped (see [`crate::budget`]).
pub(crate) fn stopped(stopped: Stopped, guard: &Guard<'_>) -> Error {
    match stopped {
        Stopped::Trip(trip) => tripped(trip, guard),
        Stopped::Host(error) => *error,
    }
}

/// The error for an eval stopped by `trip`.
fn tripped(trip: Trip, guard: &Guard<'_>) -> Error {
    let limits = guard.limits();
    match trip {
        Trip::Timeout => guard.timeout_error(),
        Trip::Cancelled => guard.cancelled_error(),
        Trip::Operations => guard.limit_error(
            LimitKind::Operations,
            format!(
                "more than {} rhai operations",
                limits.operations.unwrap_or(u64::MAX)
            ),
        ),
        Trip::Memory => guard.limit_error(
            LimitKind::Memory,
            format!(
                "the script allocated more than its {} bytes",
                limits.memory_bytes.unwrap_or(u64::MAX)
            ),
        ),
        Trip::Stack => guard.limit_error(
            LimitKind::CallDepth,
            "the script's calls (or values nested in its calls) need more native \
             stack than the eval has",
        ),
        // A host stop always carries its error (`Stopped::Host`); this is
        // the stop of a host call made outside any installed eval.
        Trip::Host => guard.interrupt_error(),
    }
}

/// Maps an eval error to the matching polyscript error: rhai's limits to
/// `LimitExceeded`, everything else to `Runtime` with rhai's line and column
/// (in the location only: the message carries no position). A call of a
/// host function that does not exist says so, with the names in `host`.
pub(crate) fn eval(error: &EvalAltResult, guard: &Guard<'_>, host: &HostFunctions) -> Error {
    let limit = |kind: LimitKind| guard.limit_error(kind, message(error.unwrap_inner()));
    match error.unwrap_inner() {
        // Only polyscript's `on_progress` and built-ins stop a script, and
        // they record why (the engine checks that first); without a record,
        // the guard says whether the deadline or the token.
        EvalAltResult::ErrorTerminated(..) => guard.interrupt_error(),
        EvalAltResult::ErrorTooManyOperations(_) => limit(LimitKind::Operations),
        EvalAltResult::ErrorStackOverflow(_) => limit(LimitKind::CallDepth),
        EvalAltResult::ErrorDataTooLarge(..)
        | EvalAltResult::ErrorTooManyVariables(_)
        | EvalAltResult::ErrorTooManyModules(_) => limit(LimitKind::Memory),
        _ => {
            let mut out = Bounded::default();
            let _ = write_message(&mut out, error, Some(host));
            guard.runtime_error(out.finish(), innermost_location(error))
        }
    }
}

/// Longest message kept from rhai (a thrown value can be any size).
const MESSAGE_BYTES: usize = 4096;
/// Deepest nesting of a thrown value shown in a message.
const VALUE_DEPTH: usize = 16;

/// rhai's message for `error` without the positions rhai appends to every
/// layer (the innermost one is the error's location), with the call sites of
/// wrapping function calls, at most [`MESSAGE_BYTES`] long.
pub(crate) fn message(error: &EvalAltResult) -> String {
    let mut out = Bounded::default();
    let _ = write_message(&mut out, error, None);
    out.finish()
}

/// [`message`]; with `host`, a missing host function is explained.
fn write_message(
    out: &mut Bounded,
    error: &EvalAltResult,
    host: Option<&HostFunctions>,
) -> fmt::Result {
    match error {
        EvalAltResult::ErrorInFunctionCall(name, _source, inner, pos) => {
            write_message(out, inner, host)?;
            if name.starts_with("anon$") {
                out.write_str("\nin closure call")?;
            } else {
                write!(out, "\nin call to function '{name}'")?;
            }
            write_call_site(out, *pos)
        }
        EvalAltResult::ErrorInModule(name, inner, pos) => {
            write_message(out, inner, host)?;
            match name.as_str() {
                "" => out.write_str("\nin module")?,
                name => write!(out, "\nin module '{name}'")?,
            }
            write_call_site(out, *pos)
        }
        // Thrown values and indices are shown by polyscript (bounded), not
        // by rhai's `Display`, which recurses without bound.
        EvalAltResult::ErrorRuntime(value, _) => {
            out.write_str("Runtime error")?;
            if !(value.is_unit() || value.as_immutable_string_ref().is_ok_and(|s| s.is_empty())) {
                out.write_str(": ")?;
                write_value(out, value, false, 0)?;
            }
            Ok(())
        }
        EvalAltResult::ErrorIndexNotFound(index, _) => {
            out.write_str("Invalid index: ")?;
            write_value(out, index, false, 0)
        }
        EvalAltResult::ErrorFunctionNotFound(signature, _)
            if let Some(text) = host.and_then(|h| crate::host::not_found(signature, h)) =>
        {
            out.write_str(&text)
        }
        leaf => {
            // rhai's text of a leaf ends with " (<position>)" when it has one.
            let text = leaf.to_string();
            let suffix = format!(" ({})", leaf.position());
            let text = match leaf.position().is_none() {
                false => text.strip_suffix(&suffix).unwrap_or(&text),
                true => &text,
            };
            out.write_str(text)
        }
    }
}

fn write_call_site(out: &mut Bounded, pos: Position) -> fmt::Result {
    match location(pos) {
        Some(Location {
            line,
            column: Some(column),
            ..
        }) => write!(out, " (called at line {line}, column {column})"),
        Some(Location {
            line, column: None, ..
        }) => write!(out, " (called at line {line})"),
        None => Ok(()),
    }
}

/// A value as rhai's `Display` shows it (strings bare at the top, quoted
/// inside containers), cut at [`VALUE_DEPTH`] levels.
fn write_value(out: &mut Bounded, value: &Dynamic, nested: bool, depth: usize) -> fmt::Result {
    if depth >= VALUE_DEPTH {
        return out.write_str("…");
    }
    if value.is_shared() {
        return match value.read_lock::<Dynamic>() {
            Some(inner) => write_value(out, &inner, nested, depth),
            None => out.write_str("<shared>"),
        };
    }
    if let Ok(array) = value.as_array_ref() {
        out.write_str("[")?;
        for (i, item) in array.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            write_value(out, item, true, depth + 1)?;
        }
        return out.write_str("]");
    }
    if let Ok(map) = value.as_map_ref() {
        out.write_str("#{")?;
        for (i, (key, item)) in map.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            write!(out, "{:?}: ", key.as_str())?;
            write_value(out, item, true, depth + 1)?;
        }
        return out.write_str("}");
    }
    if let Some(f) = value.read_lock::<rhai::FnPtr>() {
        // The name only: the curried values may refer back to this one.
        return write!(out, "Fn({})", f.fn_name());
    }
    if nested {
        write!(out, "{value:?}")
    } else {
        write!(out, "{value}")
    }
}

/// A `String` that stops growing at [`MESSAGE_BYTES`] (on a character
/// boundary, marked with "…"): writing more fails, which ends formatting.
#[derive(Default)]
struct Bounded {
    text: String,
    full: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.full {
            return Err(fmt::Error);
        }
        let room = MESSAGE_BYTES - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&s[..cut]);
        self.text.push('…');
        self.full = true;
        Err(fmt::Error)
    }
}

impl Bounded {
    fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_become_one_based_locations() {
        assert_eq!(location(Position::NONE), None);
        assert_eq!(location(Position::new(3, 7)), Some(Location::new(3, 7)));
        assert_eq!(location(Position::new(2, 0)), Some(Location::line(2)));
    }

    #[test]
    fn the_innermost_position_wins() {
        let inner = EvalAltResult::ErrorRuntime("boom".into(), Position::new(5, 3));
        let outer = EvalAltResult::ErrorInFunctionCall(
            "f".into(),
            String::new(),
            Box::new(inner),
            Position::new(9, 1),
        );
        assert_eq!(innermost_location(&outer), Some(Location::new(5, 3)));
        assert_eq!(
            message(&outer),
            "Runtime error: boom\nin call to function 'f' (called at line 9, column 1)"
        );
    }

    #[test]
    fn messages_carry_no_position() {
        let err =
            EvalAltResult::ErrorFunctionNotFound("undefined_fn ()".into(), Position::new(2, 5));
        assert_eq!(message(&err), "Function not found: undefined_fn ()");
    }

    #[test]
    fn thrown_values_are_shown_bounded() {
        let mut deep = Dynamic::from_array(vec![]);
        for _ in 0..100 {
            deep = Dynamic::from_array(vec![deep]);
        }
        let err = EvalAltResult::ErrorRuntime(deep, Position::NONE);
        let text = message(&err);
        assert!(text.starts_with("Runtime error: [[[["), "{text}");
        assert!(text.contains('…') && text.len() < 100, "{text}");

        let big = Dynamic::from("x".repeat(100_000));
        let text = message(&EvalAltResult::ErrorRuntime(big, Position::NONE));
        assert!(text.len() <= MESSAGE_BYTES + 3, "{}", text.len());
        assert!(text.ends_with('…'));
    }
}
