//! The trait each engine crate implements, and the per-eval [`Guard`].

use std::fmt;
use std::time::Duration;

use crate::clock::Instant;

use serde::{Deserialize, Serialize};

use crate::cancel::CancelToken;
use crate::error::{Error, LimitKind, Location, Result};
use crate::host::HostData;
use crate::input::EvalInput;
use crate::limits::Limits;
use crate::script_id::ScriptId;
use crate::source::Source;
use crate::value::Value;

/// Which engine runs a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EngineKind {
    /// Rhai.
    Rhai,
    /// Lua 5.4 (mlua).
    Lua,
    /// JavaScript (boa).
    JavaScript,
    /// Extism WebAssembly plugins.
    Extism,
    /// Plain WASI command modules (wasmtime).
    Wasi,
    /// An engine outside this project (a user's own [`Engine`] impl).
    Other(&'static str),
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EngineKind::Rhai => "rhai",
            EngineKind::Lua => "lua",
            EngineKind::JavaScript => "js",
            EngineKind::Extism => "extism",
            EngineKind::Wasi => "wasi",
            EngineKind::Other(name) => name,
        })
    }
}

/// A script engine, in three steps so that the expensive one happens once:
///
/// 1. [`compile`](Engine::compile) once per script: parse, validate, compile.
///    Every error that can be found without running is found here.
/// 2. [`instantiate`](Engine::instantiate) once per pooled instance: a ready
///    VM with the program loaded.
/// 3. [`eval`](Engine::eval) many times: run once against one input. Never
///    re-parses or re-compiles.
///
/// Evals are independent: nothing one eval leaves behind may be visible to the
/// next on the same instance. Engines honour the [`Guard`]'s deadline,
/// cancellation token and limits.
pub trait Engine: Send + Sync + 'static {
    /// The compiled script, shared by all instances.
    type Program: Send + Sync + 'static;
    /// One ready VM. `Send` (it moves between threads with the pool) but not
    /// necessarily `Sync`.
    type Instance: Send + 'static;

    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// Parses and compiles `source`. `limits` are the evaluator's, for engines
    /// that fix some limits at compile time.
    fn compile(&self, source: &Source, limits: &Limits) -> Result<Self::Program>;

    /// Creates one ready instance of `program`.
    fn instantiate(&self, program: &Self::Program, limits: &Limits) -> Result<Self::Instance>;

    /// Runs `program` once on `instance` with `input` as the script's `ctx`.
    ///
    /// `input` is usually one map ([`EvalInput::as_map`]); a composite
    /// provider's is several layers, read as their deep merge
    /// ([`EvalInput::get`] per key, or [`EvalInput::to_map`] for all of it).
    fn eval(
        &self,
        instance: &mut Self::Instance,
        program: &Self::Program,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Value>;

    /// Like [`eval`](Engine::eval), for engines whose result is not always
    /// a [`Value`]: a WASM guest's raw output bytes, say, which no `Value`
    /// holds losslessly. The evaluator calls this one; the default wraps
    /// `eval`'s value, so engines that only return values implement `eval`
    /// alone.
    fn eval_output(
        &self,
        instance: &mut Self::Instance,
        program: &Self::Program,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Output> {
        self.eval(instance, program, input, guard)
            .map(Output::Value)
    }

    /// Whether the engine honours a per-call
    /// [`Guard::entry_point`] (default `false`: the evaluator then refuses a
    /// context that names one with [`Error::Unsupported`], rather than
    /// running the configured entry point instead).
    fn supports_entry_points(&self) -> bool {
        false
    }

    /// Whether `instance` must be thrown away after `error` instead of going
    /// back to the pool. Defaults to [`Error::is_fatal_for_instance`].
    fn discard_after(&self, error: &Error) -> bool {
        error.is_fatal_for_instance()
    }
}

/// What one eval produced (see [`Engine::eval_output`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// A value: what every engine's script returns.
    Value(Value),
    /// Raw bytes, exactly as the script (a WASM guest) wrote them; the
    /// [`Response`](crate::Response) carries them in
    /// [`bytes`](crate::Response::bytes) and its value is `null`.
    Bytes(Vec<u8>),
}

/// Everything an engine needs to keep one eval within bounds: the effective
/// limits, the deadline, the cancellation token, and what to name in errors.
#[derive(Debug, Clone)]
pub struct Guard<'a> {
    engine: EngineKind,
    script_id: ScriptId,
    limits: Limits,
    started: Instant,
    deadline: Option<Instant>,
    cancel: &'a CancelToken,
    host_data: Option<&'a HostData>,
    entry_point: Option<&'a str>,
}

impl<'a> Guard<'a> {
    /// A guard for an eval starting now. The deadline is the earlier of
    /// `limits.timeout` from now and `deadline` (a context's deadline, on the
    /// standard clock).
    pub fn new(
        engine: EngineKind,
        script_id: ScriptId,
        limits: Limits,
        deadline: Option<std::time::Instant>,
        cancel: &'a CancelToken,
    ) -> Self {
        Self::starting_at(engine, script_id, limits, deadline, cancel, Instant::now())
    }

    /// Like [`new`](Self::new) for an eval that started at `started` (saves a
    /// clock read when the caller already has one).
    pub fn starting_at(
        engine: EngineKind,
        script_id: ScriptId,
        limits: Limits,
        deadline: Option<std::time::Instant>,
        cancel: &'a CancelToken,
        started: Instant,
    ) -> Self {
        // Most evals have no context deadline; converting one reads both clocks.
        let deadline = deadline.and_then(Instant::from_std);
        let by_timeout = limits.timeout.and_then(|t| started.checked_add(t));
        let deadline = match (by_timeout, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Guard {
            engine,
            script_id,
            limits,
            started,
            deadline,
            cancel,
            host_data: None,
            entry_point: None,
        }
    }

    /// This guard with the host data its context carries (what host
    /// functions see through [`CallContext::data`](crate::host::CallContext::data)).
    pub fn with_host_data(mut self, data: &'a HostData) -> Self {
        self.host_data = Some(data);
        self
    }

    /// This guard with an entry point chosen for this call (see
    /// [`EvalContext::with_entry_point`](crate::EvalContext::with_entry_point)).
    pub fn with_entry_point(mut self, name: &'a str) -> Self {
        self.entry_point = Some(name);
        self
    }

    /// The host data of the eval's context, if any.
    pub fn host_data(&self) -> Option<&'a HostData> {
        self.host_data
    }

    /// The entry point this call asked for, if any (engines that call one
    /// function of a module or script use it instead of their configured
    /// one; others refuse it with [`Error::Unsupported`]).
    pub fn entry_point(&self) -> Option<&'a str> {
        self.entry_point
    }

    /// The engine running the eval.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The script being run.
    pub fn script_id(&self) -> ScriptId {
        self.script_id
    }

    /// The effective limits (per-call ones if the context had them).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// When the eval started, on polyscript's [`clock`](crate::clock).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The effective deadline, if any, on polyscript's
    /// [`clock`](crate::clock): compare it with
    /// [`clock::Instant::now`](crate::clock::Instant::now).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline (`None` when there is no deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The cancellation token; clone it into `'static` interrupt callbacks.
    pub fn cancel_token(&self) -> &'a CancelToken {
        self.cancel
    }

    /// `Err(Cancelled)` if cancelled, `Err(Timeout)` if past the deadline.
    /// Engines call this from their interrupt hooks.
    #[inline]
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(self.cancelled_error());
        }
        if let Some(deadline) = self.deadline
            && deadline.has_passed()
        {
            return Err(self.timeout_error());
        }
        Ok(())
    }

    /// The [`Error::Timeout`] for this eval.
    pub fn timeout_error(&self) -> Error {
        let limit = self
            .deadline
            .map(|d| d.saturating_duration_since(self.started))
            .unwrap_or_default();
        Error::Timeout {
            engine: self.engine,
            script_id: self.script_id,
            limit,
        }
    }

    /// The [`Error::Cancelled`] for this eval.
    pub fn cancelled_error(&self) -> Error {
        Error::Cancelled {
            engine: self.engine,
            script_id: self.script_id,
        }
    }

    /// The timeout or cancellation error that explains why an engine stopped
    /// the script after an interrupt: cancellation wins over the deadline.
    pub fn interrupt_error(&self) -> Error {
        if self.cancel.is_cancelled() {
            self.cancelled_error()
        } else {
            self.timeout_error()
        }
    }

    /// An [`Error::LimitExceeded`] for this eval.
    pub fn limit_error(&self, limit: LimitKind, message: impl Into<String>) -> Error {
        Error::LimitExceeded {
            engine: self.engine,
            script_id: self.script_id,
            limit,
            message: message.into(),
        }
    }

    /// An [`Error::Runtime`] for this eval.
    pub fn runtime_error(&self, message: impl Into<String>, location: Option<Location>) -> Error {
        Error::Runtime {
            engine: self.engine,
            script_id: self.script_id,
            message: message.into(),
            location,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_the_earlier_of_timeout_and_context() {
        let token = CancelToken::new();
        let soon = std::time::Instant::now() + Duration::from_millis(10);
        let g = Guard::new(
            EngineKind::Rhai,
            ScriptId::of(b"s"),
            Limits::default(),
            Some(soon),
            &token,
        );
        let left = g.deadline().expect("a deadline") - Instant::now();
        assert!(
            left <= Duration::from_millis(10),
            "the context's deadline, not 5 s"
        );
        let g = Guard::new(
            EngineKind::Rhai,
            ScriptId::of(b"s"),
            Limits::unlimited(),
            None,
            &token,
        );
        assert_eq!(g.deadline(), None);
        assert!(g.check().is_ok());
    }

    #[test]
    fn check_reports_cancel_before_timeout() {
        let token = CancelToken::new();
        let past = std::time::Instant::now();
        let g = Guard::new(
            EngineKind::Lua,
            ScriptId::of(b"s"),
            Limits::unlimited(),
            Some(past),
            &token,
        );
        assert!(matches!(g.check(), Err(Error::Timeout { .. })));
        token.cancel();
        assert!(matches!(g.check(), Err(Error::Cancelled { .. })));
        assert!(matches!(g.interrupt_error(), Error::Cancelled { .. }));
    }
}
