//! What can go wrong inside the worker thread, sent back to the caller, and
//! how it becomes a [`polyscript_core::Error`].

use polyscript_core::data::{DataError, Direction};
use polyscript_core::{EngineKind, Error, Guard, LimitKind, Location, ScriptId};

/// A failed eval or instantiation, as the worker thread reports it. The
/// caller turns it into an [`Error`] with its [`Guard`].
#[derive(Debug)]
pub(crate) enum Failure {
    /// The deadline passed.
    Timeout,
    /// The cancel token was triggered.
    Cancelled,
    /// A limit was hit.
    Limit(LimitKind, String),
    /// A thrown JavaScript error.
    Runtime(String, Option<Location>),
    /// Input or result data refused by the data bounds or the number rule.
    Data(DataError, Direction),
    /// The script does not compile in this instance.
    Compile(String, Option<Location>),
    /// boa panicked (or reported an internal panic error).
    Panic(String),
    /// A host call ended the eval with this error (already complete: it
    /// names the engine and script).
    Host(Box<Error>),
}

impl Failure {
    /// Whether the worker must not run another eval after this.
    pub(crate) fn poisons(&self) -> bool {
        matches!(
            self,
            Failure::Timeout
                | Failure::Cancelled
                | Failure::Limit(..)
                | Failure::Panic(_)
                | Failure::Host(_)
        )
    }

    /// The error for an eval guarded by `guard`.
    pub(crate) fn into_error(self, guard: &Guard<'_>) -> Error {
        match self {
            Failure::Timeout => guard.timeout_error(),
            Failure::Cancelled => guard.cancelled_error(),
            Failure::Limit(kind, message) => guard.limit_error(kind, message),
            Failure::Runtime(message, location) => guard.runtime_error(message, location),
            Failure::Data(error, direction) => {
                error.into_error(direction, EngineKind::JavaScript, guard.script_id())
            }
            other => other.into_setup_error(guard.script_id()),
        }
    }

    /// The error for a failure outside an eval (instantiation).
    pub(crate) fn into_setup_error(self, script_id: ScriptId) -> Error {
        let engine = EngineKind::JavaScript;
        match self {
            Failure::Compile(message, location) => Error::Compile {
                engine,
                script_id,
                message,
                location,
            },
            Failure::Runtime(message, location) => Error::Runtime {
                engine,
                script_id,
                message,
                location,
            },
            Failure::Data(error, direction) => error.into_error(direction, engine, script_id),
            Failure::Timeout => Error::Timeout {
                engine,
                script_id,
                limit: std::time::Duration::ZERO,
            },
            Failure::Cancelled => Error::Cancelled { engine, script_id },
            Failure::Limit(limit, message) => Error::LimitExceeded {
                engine,
                script_id,
                limit,
                message,
            },
            Failure::Panic(message) => Error::EnginePanic {
                engine,
                script_id,
                message,
            },
            Failure::Host(error) => *error,
        }
    }
}
