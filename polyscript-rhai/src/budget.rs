//! The per-eval budget that rhai's `on_progress` hook enforces: wall-clock
//! deadline and cancellation. (The operation budget is rhai's own
//! `set_max_operations`, set on the instance's engine before every eval:
//! each instance owns its `rhai::Engine`, so a per-call budget is one store.)
//!
//! # Why a thread-local
//!
//! rhai has one `on_progress` callback per `rhai::Engine`, set when the
//! engine is built, so the callback cannot capture one eval's deadline or
//! token (boxing a new callback per eval would allocate). Its only argument
//! is the operation count. rhai's other per-run channel, the `tag` of the
//! global runtime state, is reachable from native functions but not from
//! `on_progress`, and `call_fn_with_options` would force scripts into
//! functions. A rhai eval runs synchronously on the calling thread, so the
//! cheapest correct mechanism is thread-local slots: [`install`] puts the
//! current eval's deadline and token there for the duration of the eval
//! (restoring whatever was there before, so nested evals on one thread
//! work), and [`on_progress`] reads them every [`CHECK_EVERY`] operations.
//! Every other operation it only tests the count's low bits.
//!
//! rhai calls the callback on every operation: measured on the greeting
//! workload it is ~4% of an eval, the price of a deadline and cancellation
//! in rhai (it has no other interrupt).

use std::cell::{Cell, RefCell};

use polyscript_core::clock::Instant;
use polyscript_core::{CancelToken, Guard};
use rhai::Dynamic;

/// The clock and the cancellation token are checked once per this many rhai
/// operations (a power of two). One rhai operation is tens of nanoseconds, so
/// a stop request is seen within microseconds.
pub(crate) const CHECK_EVERY: u64 = 256;

/// The `ErrorTerminated` token `on_progress` stops a script with (the
/// guard, not the token, says whether it was the deadline or cancellation).
const INTERRUPTED: rhai::INT = 1;

thread_local! {
    /// The current eval's deadline. A plain `Cell` with a constant
    /// initialiser and no destructor: reading it is a bare thread-local load.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The current eval's cancellation token.
    static CANCEL: RefCell<Option<CancelToken>> = const { RefCell::new(None) };
}

/// Keeps a budget installed; dropping it (also while unwinding) restores the
/// previous one.
pub(crate) struct Installed {
    deadline: Option<Instant>,
    cancel: Option<CancelToken>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        DEADLINE.set(self.deadline);
        let cancel = self.cancel.take();
        let _ = CANCEL.try_with(|slot| *slot.borrow_mut() = cancel);
    }
}

/// Installs `guard`'s deadline and token for the eval that runs on this
/// thread until the result is dropped.
pub(crate) fn install(guard: &Guard<'_>) -> Installed {
    let cancel = Some(guard.cancel_token().clone());
    Installed {
        deadline: DEADLINE.replace(guard.deadline()),
        cancel: CANCEL.with(|slot| slot.replace(cancel)),
    }
}

/// rhai's `on_progress` callback: `Some(token)` stops the script.
pub(crate) fn on_progress(operations: u64) -> Option<Dynamic> {
    if operations.is_multiple_of(CHECK_EVERY) && interrupted() {
        return Some(Dynamic::from_int(INTERRUPTED));
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
    cancelled || DEADLINE.get().is_some_and(Instant::has_passed)
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
    fn cancel_and_deadline_are_seen_every_check_and_restored() {
        let outer_token = CancelToken::new();
        let past = std::time::Instant::now();
        let outer = install(&Guard::new(
            EngineKind::Rhai,
            ScriptId::of(b"t"),
            Limits::unlimited(),
            Some(past),
            &outer_token,
        ));
        assert!(on_progress(CHECK_EVERY).is_some(), "past the deadline");
        {
            let token = CancelToken::new();
            let _inner = install(&guard(&token, Limits::unlimited()));
            assert!(
                on_progress(CHECK_EVERY).is_none(),
                "the inner eval has no deadline"
            );
            token.cancel();
            assert!(
                on_progress(CHECK_EVERY - 1).is_none(),
                "checked every CHECK_EVERY ops"
            );
            assert!(on_progress(CHECK_EVERY).is_some(), "cancelled");
        }
        // The outer budget is back.
        assert!(on_progress(2 * CHECK_EVERY).is_some());
        drop(outer);
        assert!(on_progress(CHECK_EVERY).is_none());
    }
}
