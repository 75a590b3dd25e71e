//! The per-eval budget that rhai's `on_progress` hook enforces: wall-clock
//! deadline, cancellation and the operation budget.
//!
//! # Why a thread-local
//!
//! rhai has one `on_progress` callback per `rhai::Engine`, and the engine is
//! shared (immutably, across threads) by every eval of a compiled script, so
//! the callback cannot capture one eval's deadline or token. Its only argument
//! is the operation count. rhai's other per-run channel, the `tag` of the
//! global runtime state, is reachable from native functions but not from
//! `on_progress`, and `call_fn_with_options` would force scripts into
//! functions. A rhai eval runs synchronously on the calling thread, so the
//! cheapest correct mechanism is thread-local slots: [`install`] puts the
//! current eval's budget there for the duration of the eval (restoring
//! whatever was there before, so nested evals on one thread work), and
//! [`on_progress`] reads it. That costs one thread-local load and a compare
//! per rhai operation; the clock and the cancellation flag are only looked at
//! every [`CHECK_EVERY`] operations.
//!
//! # Why operations are counted here and not with `set_max_operations`
//!
//! `rhai::Engine::set_max_operations` is engine-wide, like `on_progress`, so
//! it cannot carry a per-call override ([`EvalContext::with_limits`]). rhai
//! passes `on_progress` the very counter that `set_max_operations` compares,
//! so checking the effective budget here is the same limit, per call.
//!
//! [`EvalContext::with_limits`]: polyscript_core::EvalContext::with_limits

use std::cell::{Cell, RefCell};
use std::time::Instant;

use polyscript_core::{CancelToken, Guard};
use rhai::{Dynamic, INT};

/// The clock and the cancellation token are checked once per this many rhai
/// operations (a power of two). One rhai operation is tens of nanoseconds, so
/// a stop request is seen within microseconds.
pub(crate) const CHECK_EVERY: u64 = 256;

/// Why `on_progress` stopped a script; carried as the `ErrorTerminated` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Past the deadline, or cancelled (the guard says which).
    Interrupted,
    /// More operations than the budget allows.
    Operations,
}

impl Stop {
    const INTERRUPTED: INT = 1;
    const OPERATIONS: INT = 2;

    fn token(self) -> Dynamic {
        Dynamic::from_int(match self {
            Stop::Interrupted => Self::INTERRUPTED,
            Stop::Operations => Self::OPERATIONS,
        })
    }

    /// The reason encoded in an `ErrorTerminated` token, if it is one of ours.
    pub(crate) fn from_token(token: &Dynamic) -> Option<Stop> {
        match token.as_int().ok()? {
            Self::INTERRUPTED => Some(Stop::Interrupted),
            Self::OPERATIONS => Some(Stop::Operations),
            _ => None,
        }
    }
}

thread_local! {
    /// The current eval's operation budget (`u64::MAX` when none is
    /// installed). Plain `Cell`s with constant initialisers and no
    /// destructor: reading them on every rhai operation is a bare
    /// thread-local load, no lazy-initialisation or borrow-flag check.
    static MAX_OPERATIONS: Cell<u64> = const { Cell::new(u64::MAX) };
    /// The current eval's deadline.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The current eval's cancellation token; read every [`CHECK_EVERY`]
    /// operations only.
    static CANCEL: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// Keeps a budget installed; dropping it (also while unwinding) restores the
/// previous one.
pub(crate) struct Installed {
    max_operations: u64,
    deadline: Option<Instant>,
    cancel: Option<CancelToken>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        MAX_OPERATIONS.set(self.max_operations);
        DEADLINE.set(self.deadline);
        let cancel = self.cancel.take();
        let _ = CANCEL.try_with(|slot| *slot.borrow_mut() = cancel);
    }
}

/// Installs `guard`'s deadline, token and operation budget for the eval that
/// runs on this thread until the result is dropped.
pub(crate) fn install(guard: &Guard<'_>) -> Installed {
    let cancel = Some(guard.cancel_token().clone());
    Installed {
        max_operations: MAX_OPERATIONS.replace(guard.limits().operations.unwrap_or(u64::MAX)),
        deadline: DEADLINE.replace(guard.deadline()),
        cancel: CANCEL.with(|slot| slot.replace(cancel)),
    }
}

/// rhai's `on_progress` callback: `Some(token)` stops the script.
pub(crate) fn on_progress(operations: u64) -> Option<Dynamic> {
    if operations > MAX_OPERATIONS.get() {
        return Some(Stop::Operations.token());
    }
    if operations.is_multiple_of(CHECK_EVERY) && interrupted() {
        return Some(Stop::Interrupted.token());
    }
    None
}

/// Whether the current eval is cancelled or past its deadline.
fn interrupted() -> bool {
    let cancelled = CANCEL.with(|slot| {
        slot.borrow()
            .as_ref()
            .is_some_and(CancelToken::is_cancelled)
    });
    cancelled || DEADLINE.get().is_some_and(|d| Instant::now() >= d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::{EngineKind, Limits, ScriptId};

    fn guard(token: &CancelToken, limits: Limits) -> Guard<'_> {
        Guard::new(EngineKind::Rhai, ScriptId::of(b"t"), limits, None, token)
    }

    #[test]
    fn nothing_installed_means_no_stop() {
        assert!(on_progress(CHECK_EVERY).is_none());
    }

    #[test]
    fn operations_budget_and_cancel_are_seen_and_restored() {
        let token = CancelToken::new();
        let outer = install(&guard(&token, Limits::unlimited().with_operations(10)));
        assert!(on_progress(10).is_none());
        let stop = on_progress(11).and_then(|t| Stop::from_token(&t));
        assert_eq!(stop, Some(Stop::Operations));
        {
            let _inner = install(&guard(&token, Limits::unlimited()));
            assert!(on_progress(11).is_none());
            token.cancel();
            assert!(
                on_progress(CHECK_EVERY - 1).is_none(),
                "checked every CHECK_EVERY ops"
            );
            let stop = on_progress(CHECK_EVERY).and_then(|t| Stop::from_token(&t));
            assert_eq!(stop, Some(Stop::Interrupted));
        }
        // The outer budget is back.
        let stop = on_progress(11).and_then(|t| Stop::from_token(&t));
        assert_eq!(stop, Some(Stop::Operations));
        drop(outer);
        assert!(on_progress(CHECK_EVERY).is_none());
    }
}
