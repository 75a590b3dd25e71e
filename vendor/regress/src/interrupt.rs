//! polyscript patch: lets the embedding engine stop a match.
//!
//! A backtracking regex can take exponential time (`/(a+)+$/` against
//! `"aaaa…!"`), and a host that bounds how long a script runs must be able
//! to stop it. The host makes its interrupt flag visible for the duration of
//! a match with [`with_interrupt_flag`]; the backtracking executor reads it
//! every [`CHECK_INTERVAL`] backtracking steps and, once it is raised, gives
//! up: the match reports no match, and the host (which raised the flag)
//! treats the whole execution as interrupted.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Backtracking steps between two looks at the flag (a power of two).
pub(crate) const CHECK_INTERVAL: u32 = 4096;

std::thread_local! {
    static FLAG: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Runs `f` (typically one match) with `flag` as this thread's interrupt
/// flag: a backtracking match running inside `f` stops (finds no match) soon
/// after the flag is raised. The previous flag is restored afterwards, also
/// when `f` panics.
pub fn with_interrupt_flag<R>(flag: Option<Arc<AtomicBool>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<AtomicBool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            let _ = FLAG.try_with(|cell| *cell.borrow_mut() = previous);
        }
    }
    let previous = FLAG.try_with(|cell| cell.replace(flag)).unwrap_or(None);
    let _restore = Restore(previous);
    f()
}

/// Whether this thread's interrupt flag is raised.
pub(crate) fn interrupted() -> bool {
    FLAG.try_with(|cell| {
        cell.borrow()
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    })
    .unwrap_or(false)
}
