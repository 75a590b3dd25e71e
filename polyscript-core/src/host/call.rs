//! [`CallContext`]: what a host function knows about the eval calling it.

use std::time::Duration;

use crate::cancel::CancelToken;
use crate::clock::Instant;
use crate::engine::{EngineKind, Guard};
use crate::error::Result;
use crate::script_id::ScriptId;

/// The eval a host function is called from: its deadline, cancellation
/// token, script and engine, and the host data the caller attached to the
/// [`EvalContext`](crate::EvalContext) (typed, see
/// [`EvalContext::with_host_data`](crate::EvalContext::with_host_data)).
pub struct CallContext<'a> {
    guard: &'a Guard<'a>,
    function: &'a str,
}

impl<'a> CallContext<'a> {
    pub(crate) fn new(guard: &'a Guard<'a>, function: &'a str) -> Self {
        CallContext { guard, function }
    }

    /// The name the function was called by.
    pub fn function(&self) -> &str {
        self.function
    }

    /// The engine running the script.
    pub fn engine(&self) -> EngineKind {
        self.guard.engine()
    }

    /// The script calling.
    pub fn script_id(&self) -> ScriptId {
        self.guard.script_id()
    }

    /// The eval's deadline, on polyscript's [`clock`](crate::clock).
    pub fn deadline(&self) -> Option<Instant> {
        self.guard.deadline()
    }

    /// Time left before the deadline (`None`: no deadline). A function that
    /// waits (I/O, a lock) should wait at most this long.
    pub fn remaining(&self) -> Option<Duration> {
        self.guard.remaining()
    }

    /// The eval's cancellation token.
    pub fn cancel_token(&self) -> &CancelToken {
        self.guard.cancel_token()
    }

    /// `Err(Timeout)` / `Err(Cancelled)` once the eval should stop: a long
    /// function can call this between steps.
    pub fn check(&self) -> Result<()> {
        self.guard.check()
    }

    /// The host data of type `T` attached to the eval's context, if any.
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.guard.host_data().and_then(|data| data.get::<T>())
    }

    /// The eval's guard (limits and all).
    pub fn guard(&self) -> &Guard<'a> {
        self.guard
    }
}

/// An owned [`CallContext`], for async host functions whose future outlives
/// the call's borrow of the eval: the same facts, cloned.
#[derive(Debug, Clone)]
pub struct HostCallInfo {
    function: String,
    engine: EngineKind,
    script_id: ScriptId,
    deadline: Option<Instant>,
    cancel: CancelToken,
    host_data: crate::host::HostData,
}

impl HostCallInfo {
    pub(crate) fn of(call: &CallContext<'_>) -> Self {
        HostCallInfo {
            function: call.function().to_owned(),
            engine: call.engine(),
            script_id: call.script_id(),
            deadline: call.deadline(),
            cancel: call.cancel_token().clone(),
            host_data: call.guard().host_data().cloned().unwrap_or_default(),
        }
    }

    /// The name the function was called by.
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The engine running the script.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The script calling.
    pub fn script_id(&self) -> ScriptId {
        self.script_id
    }

    /// The eval's deadline, on polyscript's [`clock`](crate::clock).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (`None`: no deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The eval's cancellation token.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }

    /// The host data of type `T` attached to the eval's context, if any.
    pub fn data<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.host_data.get::<T>()
    }
}
