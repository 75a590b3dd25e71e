//! The one error type every engine reports through.

use std::fmt;
use std::time::Duration;

use crate::engine::EngineKind;
use crate::script_id::ScriptId;

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in a script an error was found (1-based, as editors count). Build
/// one with [`Location::new`], [`Location::line`] or [`Location::at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Location {
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number, starting at 1, where the engine reports one.
    pub column: Option<u32>,
}

impl Location {
    /// A location with a line and a column.
    pub fn new(line: u32, column: u32) -> Self {
        Self {
            line,
            column: Some(column),
        }
    }

    /// A location where only the line is known.
    pub fn line(line: u32) -> Self {
        Self { line, column: None }
    }

    /// A location with a line and, if known, a column.
    pub fn at(line: u32, column: Option<u32>) -> Self {
        Self { line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}, column {}", self.line, column),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// Formats an optional location as ` at line L, column C` (or nothing).
struct At(Option<Location>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(location) => write!(f, " at {location}"),
            None => Ok(()),
        }
    }
}

/// Formats an optional data path as ` at PATH`.
struct InPath<'a>(Option<&'a str>);

impl fmt::Display for InPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, " at {path}"),
            None => Ok(()),
        }
    }
}

/// Formats an optional engine and script as ` (ENGINE script ID)`.
struct InScript(Option<EngineKind>, Option<ScriptId>);

impl fmt::Display for InScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Some(engine), Some(id)) => write!(f, " ({engine} script {id})"),
            (Some(engine), None) => write!(f, " ({engine})"),
            (None, Some(id)) => write!(f, " (script {id})"),
            (None, None) => Ok(()),
        }
    }
}

/// Which of the [`Limits`](crate::Limits) a script ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// Memory (bytes, WASM pages, string/array/map sizes).
    Memory,
    /// Operation count, instruction count or fuel.
    Operations,
    /// Call depth / recursion / stack.
    CallDepth,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Memory => "memory",
            LimitKind::Operations => "operations",
            LimitKind::CallDepth => "call depth",
        })
    }
}

/// Every failure polyscript reports.
///
/// Script-related variants carry the engine and the [`ScriptId`]; compile and
/// runtime errors also carry the [`Location`] where the engine knows it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The script could not be parsed, validated or compiled.
    #[error("{engine} compile error in script {script_id}{}: {message}", At(*.location))]
    Compile {
        /// Engine that compiled the script.
        engine: EngineKind,
        /// Script that failed.
        script_id: ScriptId,
        /// The engine's message.
        message: String,
        /// Where in the script, if known.
        location: Option<Location>,
    },

    /// The script failed while running (a thrown error, a type error, a trap).
    #[error("{engine} runtime error in script {script_id}{}: {message}", At(*.location))]
    Runtime {
        /// Engine that ran the script.
        engine: EngineKind,
        /// Script that failed.
        script_id: ScriptId,
        /// The engine's (or guest's) message.
        message: String,
        /// Where in the script, if known.
        location: Option<Location>,
    },

    /// The eval ran past its wall-clock budget or the context's deadline.
    #[error("{engine} script {script_id} timed out after {limit:?}")]
    Timeout {
        /// Engine that ran the script.
        engine: EngineKind,
        /// Script that was stopped.
        script_id: ScriptId,
        /// The budget it had.
        limit: Duration,
    },

    /// The eval was cancelled through its [`CancelToken`](crate::CancelToken).
    #[error("{engine} script {script_id} was cancelled")]
    Cancelled {
        /// Engine that ran the script.
        engine: EngineKind,
        /// Script that was stopped.
        script_id: ScriptId,
    },

    /// The script exceeded a memory, operation or call-depth limit.
    #[error("{engine} script {script_id} exceeded its {limit} limit: {message}")]
    LimitExceeded {
        /// Engine that ran the script.
        engine: EngineKind,
        /// Script that was stopped.
        script_id: ScriptId,
        /// Which limit.
        limit: LimitKind,
        /// The engine's message.
        message: String,
    },

    /// A script or module could not be loaded.
    ///
    /// When an I/O operation failed, `message` says which one and `source`
    /// is the operating system's error (returned by
    /// [`source()`](std::error::Error::source), not repeated in the Display).
    #[error("cannot load {origin}: {message}")]
    Load {
        /// The path, URL (credentials removed) or other origin.
        origin: String,
        /// What went wrong.
        message: String,
        /// The I/O error behind it, if any.
        #[source]
        source: Option<std::io::Error>,
    },

    /// Data was rejected: an empty key, a wrong type, nesting past
    /// [`Limits::data_depth`](crate::Limits::data_depth), a number the
    /// engine cannot hold exactly (see [`data`](crate::data)), a result that
    /// has no JSON form or does not deserialize.
    #[error("invalid data{}{}: {message}", InPath(path.as_deref()), InScript(*engine, *script_id))]
    InvalidData {
        /// What is wrong.
        message: String,
        /// Where, from the root (`ctx.user.tags[3]`, `result.a`), when known.
        path: Option<String>,
        /// The engine the data was crossing into or out of, if any.
        engine: Option<EngineKind>,
        /// The script, if any.
        script_id: Option<ScriptId>,
    },

    /// A WASM module (or a script) lacks the entry point it was asked to call.
    #[error("{engine} script {script_id} has no entry point `{entry_point}` (available: {})", available.join(", "))]
    EntryPointNotFound {
        /// Engine that looked.
        engine: EngineKind,
        /// Script or module.
        script_id: ScriptId,
        /// The requested entry point.
        entry_point: String,
        /// What the module does export.
        available: Vec<String>,
    },

    /// No instance became free within the pool's acquire timeout.
    #[error(
        "{engine} pool for script {script_id} exhausted: all {max_size} instances busy for {waited:?}"
    )]
    PoolExhausted {
        /// Engine of the pooled instances.
        engine: EngineKind,
        /// Script of the pool.
        script_id: ScriptId,
        /// The pool's maximum size.
        max_size: usize,
        /// How long the caller waited.
        waited: Duration,
    },

    /// The engine panicked; the instance it ran on was discarded.
    #[error("{engine} panicked while running script {script_id}: {message}")]
    EnginePanic {
        /// Engine that panicked.
        engine: EngineKind,
        /// Script it was running.
        script_id: ScriptId,
        /// The panic payload, when it was a string.
        message: String,
    },

    /// A step of a coordinated operation (a pipeline stage, a map-reduce
    /// chunk) failed; `source` is its own error. The Display says which step
    /// failed; the step's error is [`source()`](std::error::Error::source)
    /// (error reporters print the chain, so it is not repeated here).
    #[error("{kind} {index} ({engine} script {script_id}) failed")]
    Step {
        /// Stage or chunk.
        kind: crate::coordinate::StepKind,
        /// Its position, from 0.
        index: usize,
        /// Engine of the step's evaluator.
        engine: EngineKind,
        /// Script of the step's evaluator.
        script_id: ScriptId,
        /// What went wrong in that step.
        source: Box<Error>,
    },

    /// The requested engine or loader is not compiled in, or the operation is
    /// not supported by this engine.
    #[error("unsupported: {message}")]
    Unsupported {
        /// What is missing and how to get it (e.g. the Cargo feature).
        message: String,
    },
}

impl Error {
    /// Shorthand for an [`Error::InvalidData`].
    pub fn invalid_data(message: impl Into<String>) -> Self {
        Error::InvalidData {
            message: message.into(),
            path: None,
            engine: None,
            script_id: None,
        }
    }

    /// Shorthand for an [`Error::Load`] with no I/O error behind it.
    pub fn load(origin: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::Load {
            origin: origin.to_string(),
            message: message.to_string(),
            source: None,
        }
    }

    /// An [`Error::Load`] for a failed I/O operation: `what` names it
    /// ("cannot open the file"), `error` becomes the error's source.
    pub fn load_io(
        origin: impl fmt::Display,
        what: impl fmt::Display,
        error: std::io::Error,
    ) -> Self {
        Error::Load {
            origin: origin.to_string(),
            message: what.to_string(),
            source: Some(error),
        }
    }

    /// The engine involved, for script-related errors.
    pub fn engine(&self) -> Option<EngineKind> {
        match self {
            Error::Compile { engine, .. }
            | Error::Runtime { engine, .. }
            | Error::Timeout { engine, .. }
            | Error::Cancelled { engine, .. }
            | Error::LimitExceeded { engine, .. }
            | Error::EntryPointNotFound { engine, .. }
            | Error::PoolExhausted { engine, .. }
            | Error::EnginePanic { engine, .. }
            | Error::Step { engine, .. } => Some(*engine),
            Error::InvalidData { engine, .. } => *engine,
            Error::Load { .. } | Error::Unsupported { .. } => None,
        }
    }

    /// The script involved, for script-related errors.
    pub fn script_id(&self) -> Option<ScriptId> {
        match self {
            Error::Compile { script_id, .. }
            | Error::Runtime { script_id, .. }
            | Error::Timeout { script_id, .. }
            | Error::Cancelled { script_id, .. }
            | Error::LimitExceeded { script_id, .. }
            | Error::EntryPointNotFound { script_id, .. }
            | Error::PoolExhausted { script_id, .. }
            | Error::EnginePanic { script_id, .. }
            | Error::Step { script_id, .. } => Some(*script_id),
            Error::InvalidData { script_id, .. } => *script_id,
            Error::Load { .. } | Error::Unsupported { .. } => None,
        }
    }

    /// The location in the script, for compile and runtime errors that have one.
    pub fn location(&self) -> Option<Location> {
        match self {
            Error::Compile { location, .. } | Error::Runtime { location, .. } => *location,
            Error::Step { source, .. } => source.location(),
            _ => None,
        }
    }

    /// Whether the instance that produced this error must not be reused:
    /// after a panic, a timeout, a cancellation or a limit its state is suspect.
    pub fn is_fatal_for_instance(&self) -> bool {
        matches!(
            self,
            Error::EnginePanic { .. }
                | Error::Timeout { .. }
                | Error::Cancelled { .. }
                | Error::LimitExceeded { .. }
        )
    }
}

/// The text of a caught panic's payload (what [`Error::EnginePanic`] carries):
/// the message of `panic!("...")`, or a placeholder for a non-string payload.
/// For engines that catch panics themselves, e.g. on their own threads.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_error_names_engine_script_and_location() {
        let err = Error::Compile {
            engine: EngineKind::Lua,
            script_id: ScriptId::of(b"x"),
            message: "unexpected symbol".into(),
            location: Some(Location::new(3, 7)),
        };
        let text = err.to_string();
        assert!(text.contains("lua"), "{text}");
        assert!(text.contains(ScriptId::of(b"x").as_str()), "{text}");
        assert!(text.contains("line 3, column 7"), "{text}");
        assert_eq!(err.location(), Some(Location::new(3, 7)));
        assert_eq!(err.engine(), Some(EngineKind::Lua));
    }

    #[test]
    fn a_step_error_names_the_step_once_and_chains_its_cause() {
        use std::error::Error as _;
        let inner = Error::Runtime {
            engine: EngineKind::Lua,
            script_id: ScriptId::of(b"x"),
            message: "boom".into(),
            location: None,
        };
        let err = Error::Step {
            kind: crate::coordinate::StepKind::Stage,
            index: 1,
            engine: EngineKind::Lua,
            script_id: ScriptId::of(b"x"),
            source: Box::new(inner),
        };
        let text = err.to_string();
        assert!(text.contains("stage 1"), "{text}");
        assert!(
            !text.contains("boom"),
            "the cause is the source, not the text: {text}"
        );
        assert!(err.source().is_some_and(|s| s.to_string().contains("boom")));
    }

    #[test]
    fn a_load_error_keeps_its_io_error_as_source() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = Error::load_io("a.lua", "cannot open the file", io);
        assert_eq!(err.to_string(), "cannot load a.lua: cannot open the file");
        let source = err.source().expect("the io error");
        assert_eq!(source.to_string(), "gone");
        assert!(Error::load("a.lua", "bad").source().is_none());
    }

    #[test]
    fn entry_point_error_lists_exports() {
        let err = Error::EntryPointNotFound {
            engine: EngineKind::Extism,
            script_id: ScriptId::of(b"m"),
            entry_point: "nope".into(),
            available: vec!["greet".into(), "fail".into()],
        };
        assert!(err.to_string().contains("`nope` (available: greet, fail)"));
    }
}
