//! rhai errors → [`polyscript_core::Error`].

use polyscript_core::{EngineKind, Error, Guard, LimitKind, Location, ScriptId};
use rhai::{EvalAltResult, ParseError, Position};

/// A rhai position as a 1-based [`Location`] (`None` when rhai has none).
pub(crate) fn location(pos: Position) -> Option<Location> {
    let line = u32::try_from(pos.line()?).ok()?;
    Some(Location {
        line,
        column: pos.position().and_then(|c| u32::try_from(c).ok()),
    })
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

/// Maps an eval error to the matching polyscript error: interrupts to
/// `Timeout`/`Cancelled`, rhai's limits to `LimitExceeded`, everything else
/// to `Runtime` with rhai's line and column.
pub(crate) fn eval(error: &EvalAltResult, guard: &Guard<'_>) -> Error {
    let limit = |kind: LimitKind| guard.limit_error(kind, error.unwrap_inner().to_string());
    match error.unwrap_inner() {
        // Only polyscript's `on_progress` stops a script (it replaces any
        // configured one): the guard says whether the deadline or the token.
        EvalAltResult::ErrorTerminated(..) => guard.interrupt_error(),
        EvalAltResult::ErrorTooManyOperations(_) => guard.limit_error(
            LimitKind::Operations,
            format!(
                "more than {} rhai operations",
                guard.limits().operations.unwrap_or(u64::MAX)
            ),
        ),
        EvalAltResult::ErrorStackOverflow(_) => limit(LimitKind::CallDepth),
        EvalAltResult::ErrorDataTooLarge(..)
        | EvalAltResult::ErrorTooManyVariables(_)
        | EvalAltResult::ErrorTooManyModules(_) => limit(LimitKind::Memory),
        _ => guard.runtime_error(error.to_string(), innermost_location(error)),
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
    }
}
