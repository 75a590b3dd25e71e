//! [`DataError`]: what is wrong with a value and where it is.

use std::fmt::{self, Write as _};

use crate::engine::EngineKind;
use crate::error::{Error, LimitKind};
use crate::script_id::ScriptId;

/// One step of the path to a value: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A map key.
    Key(String),
    /// A list index (0-based).
    Index(usize),
}

/// Which way the data was crossing: names the root of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Into a script (the root is `ctx`).
    Input,
    /// Out of a script (the root is `result`).
    Result,
}

impl Direction {
    fn root(self) -> &'static str {
        match self {
            Direction::Input => "ctx",
            Direction::Result => "result",
        }
    }
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DataErrorKind {
    /// Nested deeper than the bound.
    TooDeep {
        /// The bound.
        limit: u32,
    },
    /// Converting it needs more than the memory limit.
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// A NaN or an infinity (JSON has neither).
    NonFinite(f64),
    /// An integer the engine cannot hold exactly.
    IntegerOutOfRange {
        /// The integer, as text.
        value: String,
        /// What the engine can hold, e.g. "a JavaScript safe integer".
        range: &'static str,
    },
    /// A map key that is empty.
    EmptyKey,
    /// A value that refers to itself.
    Cycle,
    /// A value with no JSON form (a function, a userdata, a symbol...).
    Unsupported(String),
    /// Anything else (e.g. a serializer's own message).
    Other(String),
}

impl fmt::Display for DataErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataErrorKind::TooDeep { limit } => {
                write!(f, "nested deeper than {limit} levels (Limits::data_depth)")
            }
            DataErrorKind::TooLarge { limit } => {
                write!(
                    f,
                    "converting it needs more than the {limit}-byte memory limit"
                )
            }
            DataErrorKind::NonFinite(v) => write!(f, "the number {v} has no JSON form"),
            DataErrorKind::IntegerOutOfRange { value, range } => {
                write!(f, "the integer {value} does not fit {range}")
            }
            DataErrorKind::EmptyKey => f.write_str("empty map key"),
            DataErrorKind::Cycle => f.write_str("the value contains itself (a cycle)"),
            DataErrorKind::Unsupported(what) => write!(f, "{what} has no JSON form"),
            DataErrorKind::Other(message) => f.write_str(message),
        }
    }
}

/// A value that was refused, and the path to it (built as the error travels
/// back up the walk: converters pay nothing for paths on success).
#[derive(Debug, Clone, PartialEq)]
pub struct DataError {
    kind: DataErrorKind,
    /// Innermost segment first.
    reversed_path: Vec<Segment>,
}

/// Longest key shown in a path, in characters.
const KEY_SHOWN: usize = 40;
/// Paths with more segments show the first and last few.
const SEGMENTS_SHOWN: usize = 12;

impl DataError {
    /// An error about the value at the root of the walk.
    pub fn new(kind: DataErrorKind) -> Self {
        DataError {
            kind,
            reversed_path: Vec::new(),
        }
    }

    /// Shorthand for [`DataErrorKind::TooDeep`].
    pub fn too_deep(limit: u32) -> Self {
        Self::new(DataErrorKind::TooDeep { limit })
    }

    /// Shorthand for [`DataErrorKind::Unsupported`].
    pub fn unsupported(what: impl Into<String>) -> Self {
        Self::new(DataErrorKind::Unsupported(what.into()))
    }

    /// Shorthand for [`DataErrorKind::Other`].
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(DataErrorKind::Other(message.into()))
    }

    /// The same error one level further out: the value was under `key`.
    #[must_use]
    pub fn at_key(mut self, key: impl Into<String>) -> Self {
        self.reversed_path.push(Segment::Key(key.into()));
        self
    }

    /// The same error one level further out: the value was at `index`.
    #[must_use]
    pub fn at_index(mut self, index: usize) -> Self {
        self.reversed_path.push(Segment::Index(index));
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &DataErrorKind {
        &self.kind
    }

    /// The path from the root, outermost segment first.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.reversed_path.iter().rev()
    }

    /// The path as text from `root`: `ctx.user["first name"][0]`, shortened
    /// in the middle (`…`) when long.
    pub fn path(&self, root: &str) -> String {
        let mut out = String::from(root);
        let segments: Vec<&Segment> = self.segments().collect();
        let n = segments.len();
        for (i, segment) in segments.iter().enumerate() {
            if n > SEGMENTS_SHOWN && i == SEGMENTS_SHOWN / 2 {
                let _ = write!(out, "…({} more)…", n - SEGMENTS_SHOWN);
            }
            if n > SEGMENTS_SHOWN && i >= SEGMENTS_SHOWN / 2 && i < n - SEGMENTS_SHOWN / 2 {
                continue;
            }
            match segment {
                Segment::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
                Segment::Key(key) if is_identifier(key) && key.len() <= KEY_SHOWN => {
                    out.push('.');
                    out.push_str(key);
                }
                Segment::Key(key) => {
                    let shown: String = key.chars().take(KEY_SHOWN).collect();
                    let ellipsis = if shown.len() < key.len() { "…" } else { "" };
                    let quoted = serde_json::to_string(&shown).unwrap_or_default();
                    let _ = write!(out, "[{quoted}{ellipsis}]");
                }
            }
        }
        out
    }

    /// The [`Error`] this becomes for data crossing `direction` in an eval of
    /// `script_id` on `engine`: [`Error::LimitExceeded`] (memory) for
    /// [`DataErrorKind::TooLarge`], [`Error::InvalidData`] naming the path
    /// for everything else.
    pub fn into_error(
        self,
        direction: Direction,
        engine: EngineKind,
        script_id: ScriptId,
    ) -> Error {
        let path = self.path(direction.root());
        match self.kind {
            DataErrorKind::TooLarge { limit } => Error::LimitExceeded {
                engine,
                script_id,
                limit: LimitKind::Memory,
                message: format!(
                    "converting the {} needs more than {limit} bytes (stopped at {path})",
                    match direction {
                        Direction::Input => "input",
                        Direction::Result => "result",
                    }
                ),
            },
            kind => Error::InvalidData {
                message: kind.to_string(),
                path: Some(path),
                engine: Some(engine),
                script_id: Some(script_id),
            },
        }
    }

    /// The [`Error`] for data refused before any script is involved (a
    /// context's or a provider's data): [`Error::InvalidData`] with the path
    /// from `root`.
    pub fn into_plain_error(self, root: &str) -> Error {
        Error::InvalidData {
            message: self.kind.to_string(),
            path: Some(self.path(root)),
            engine: None,
            script_id: None,
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.kind, self.path("$"))
    }
}

impl std::error::Error for DataError {}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_code() {
        let err = DataError::new(DataErrorKind::EmptyKey)
            .at_index(0)
            .at_key("first name")
            .at_key("user");
        assert_eq!(err.path("ctx"), r#"ctx.user["first name"][0]"#);
    }

    #[test]
    fn long_paths_are_shortened_in_the_middle() {
        let mut err = DataError::too_deep(128);
        for _ in 0..200 {
            err = err.at_index(0);
        }
        let path = err.path("ctx");
        assert!(path.starts_with("ctx[0][0]"), "{path}");
        assert!(path.contains("…(188 more)…"), "{path}");
        assert!(path.len() < 80, "{path}");
    }

    #[test]
    fn too_large_is_a_memory_limit_and_the_rest_invalid_data() {
        let id = ScriptId::of(b"s");
        let err = DataError::new(DataErrorKind::TooLarge { limit: 10 })
            .at_key("x")
            .into_error(Direction::Result, EngineKind::Lua, id);
        assert!(matches!(
            err,
            Error::LimitExceeded {
                limit: LimitKind::Memory,
                ..
            }
        ));
        let err = DataError::new(DataErrorKind::NonFinite(f64::NAN))
            .at_key("x")
            .into_error(Direction::Input, EngineKind::Lua, id);
        let text = err.to_string();
        assert!(text.contains("ctx.x") && text.contains("NaN"), "{text}");
        assert_eq!(err.engine(), Some(EngineKind::Lua));
        assert_eq!(err.script_id(), Some(id));
    }
}
