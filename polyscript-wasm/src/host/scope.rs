//! The eval a host function is called from.
//!
//! wasmtime calls host functions synchronously, on the thread that called
//! into the guest, and gives them only the store's data, which must be
//! `'static`; the eval's [`Guard`] borrows the caller's context. So the
//! engine publishes the guard in a thread-local for exactly the duration of
//! the guest call ([`run`]), and host functions read it back
//! ([`with_current`]). The function also leaves here the error that must end
//! the eval (a deadline, a cancellation, a limit) before trapping, so the
//! engine reports that error rather than the trap wrapping it.
//!
//! Hand-written rather than `scoped-tls` (which needs a `'static` type):
//! the guard's lifetime is erased while published and restored, shortened to
//! the closure, when read.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use polyscript_core::{Error, Guard};

/// What one guest call publishes.
struct Published<'a> {
    guard: &'a Guard<'a>,
    stop: RefCell<Option<Error>>,
}

thread_local! {
    /// The innermost guest call on this thread (a host function may itself
    /// run an eval, which nests).
    static CURRENT: Cell<Option<NonNull<Published<'static>>>> = const { Cell::new(None) };
}

/// Restores the previous call's publication, also when the call panics.
struct Restore(Option<NonNull<Published<'static>>>);

impl Drop for Restore {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

/// Runs `call` (a call into the guest) with `guard` published to host
/// functions; returns its result and the error a host function asked to end
/// the eval with, if any.
pub(crate) fn run<R>(guard: &Guard<'_>, call: impl FnOnce() -> R) -> (R, Option<Error>) {
    let published = Published {
        guard,
        stop: RefCell::new(None),
    };
    // The lifetime is erased only while `published` is alive: `Restore`
    // takes the pointer back out before `published` goes out of scope.
    let pointer = NonNull::from(&published).cast::<Published<'static>>();
    let restore = Restore(CURRENT.with(|current| current.replace(Some(pointer))));
    let result = call();
    drop(restore);
    (result, published.stop.into_inner())
}

/// Calls `f` with the guard of the guest call running on this thread, if
/// any (`None`: the guest was called outside an eval, e.g. through
/// `ExtismInstance::call`).
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Guard<'_>>) -> R) -> R {
    match CURRENT.with(Cell::get) {
        // SAFETY: the pointer was published by `run` on this thread and is
        // removed before the `Published` it points to is dropped; the
        // reference handed to `f` cannot outlive this call.
        Some(pointer) => f(Some(unsafe { pointer.as_ref() }.guard)),
        None => f(None),
    }
}

/// Records `error` as the reason the running eval must end (the host
/// function then traps). The first one recorded wins.
pub(crate) fn stop_with(error: Error) {
    if let Some(pointer) = CURRENT.with(Cell::get) {
        // SAFETY: as in `with_current`.
        let published = unsafe { pointer.as_ref() };
        let mut stop = published.stop.borrow_mut();
        if stop.is_none() {
            *stop = Some(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::{CancelToken, EngineKind, Limits, ScriptId};

    fn guard(token: &CancelToken) -> Guard<'_> {
        Guard::new(
            EngineKind::Wasi,
            ScriptId::of(b"x"),
            Limits::default(),
            None,
            token,
        )
    }

    #[test]
    fn the_guard_is_visible_only_during_the_call_and_nests() {
        let token = CancelToken::new();
        let outer = guard(&token);
        assert!(with_current(|g| g.is_none()));
        let ((), stop) = run(&outer, || {
            assert!(with_current(|g| g.is_some()));
            let inner_token = CancelToken::new();
            inner_token.cancel();
            let inner = guard(&inner_token);
            let ((), inner_stop) = run(&inner, || {
                assert!(with_current(|g| g.unwrap().cancel_token().is_cancelled()));
                stop_with(inner.cancelled_error());
            });
            assert!(matches!(inner_stop, Some(Error::Cancelled { .. })));
            assert!(with_current(|g| !g.unwrap().cancel_token().is_cancelled()));
        });
        assert!(stop.is_none());
        assert!(with_current(|g| g.is_none()));
    }

    #[test]
    fn a_panicking_call_unpublishes_its_guard() {
        let token = CancelToken::new();
        let g = guard(&token);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&g, || panic!("boom"));
        }));
        assert!(caught.is_err());
        assert!(with_current(|g| g.is_none()));
    }
}
