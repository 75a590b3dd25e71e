//! Errors of host functions: [`HostError`] (what a function returns) and
//! [`HostCallError`] (what a call reports to the engine).

use std::fmt;

use crate::engine::Guard;
use crate::error::Error;

/// The error a host function returns. Scripts see its message, prefixed by
/// the function's name, as a catchable error.
#[derive(Debug)]
pub struct HostError {
    message: String,
    /// Set when the function gave up because the eval must stop (an async
    /// function's wait cut short by the deadline or cancellation).
    interrupt: Option<Box<Error>>,
}

impl HostError {
    /// An error with `message`.
    pub fn new(message: impl fmt::Display) -> Self {
        HostError {
            message: message.to_string(),
            interrupt: None,
        }
    }

    /// The error for a function that stopped because the eval must stop
    /// (`error` is the eval's `Timeout` or `Cancelled`): the engine ends the
    /// eval with it instead of raising a catchable error.
    pub fn interrupt(error: Error) -> Self {
        HostError {
            message: error.to_string(),
            interrupt: Some(Box::new(error)),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The eval's stop, if this is one; else the error itself.
    pub(crate) fn into_interrupt(self) -> Result<Error, HostError> {
        match self.interrupt {
            Some(error) => Ok(*error),
            None => Err(self),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostError {}

impl From<String> for HostError {
    fn from(message: String) -> Self {
        HostError::new(message)
    }
}

impl From<&str> for HostError {
    fn from(message: &str) -> Self {
        HostError::new(message)
    }
}

/// What went wrong in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostCallErrorKind {
    /// No function of that name is registered.
    NotFound,
    /// The arguments do not fit the function (count or type).
    Arguments,
    /// The function returned an error (or panicked, or its result has no
    /// JSON form).
    Failed,
    /// The eval is past its deadline or cancelled: the engine must stop the
    /// script (not raise a catchable error).
    Interrupted,
}

/// A failed host call, as the engine receives it.
#[derive(Debug)]
pub struct HostCallError {
    kind: HostCallErrorKind,
    message: String,
    interrupt: Option<Box<Error>>,
}

impl HostCallError {
    pub(crate) fn not_found<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Self {
        let known: Vec<&str> = known.collect();
        let message = if known.is_empty() {
            format!("no host function named `{name}` (none is registered)")
        } else {
            format!(
                "no host function named `{name}` (registered: {})",
                known.join(", ")
            )
        };
        HostCallError {
            kind: HostCallErrorKind::NotFound,
            message,
            interrupt: None,
        }
    }

    pub(crate) fn arguments(name: &str, what: String) -> Self {
        HostCallError {
            kind: HostCallErrorKind::Arguments,
            message: format!("{name}: {what}"),
            interrupt: None,
        }
    }

    pub(crate) fn failed(name: &str, what: impl fmt::Display) -> Self {
        HostCallError {
            kind: HostCallErrorKind::Failed,
            message: format!("{name}: {what}"),
            interrupt: None,
        }
    }

    pub(crate) fn interrupted(error: Error) -> Self {
        HostCallError {
            kind: HostCallErrorKind::Interrupted,
            message: error.to_string(),
            interrupt: Some(Box::new(error)),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> HostCallErrorKind {
        self.kind
    }

    /// Whether the engine must stop the script rather than raise a
    /// catchable error.
    pub fn is_interrupt(&self) -> bool {
        self.kind == HostCallErrorKind::Interrupted
    }

    /// The message a script sees (`NAME: MESSAGE`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error the eval ends with when the script does not catch this
    /// one: the `Timeout` / `Cancelled` for an interrupt, else an
    /// [`Error::Runtime`] with the message.
    pub fn into_error(self, guard: &Guard<'_>) -> Error {
        match self.interrupt {
            Some(error) => *error,
            None => guard.runtime_error(format!("host function {}", self.message), None),
        }
    }
}

impl fmt::Display for HostCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostCallError {}
