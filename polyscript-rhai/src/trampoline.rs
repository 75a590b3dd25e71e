//! Host calls back on the thread's own stack.
//!
//! Evals run on the thread's eval stack (see [`crate::stack`]), which
//! `stacker` knows nothing about: it keeps the bounds of the thread's own
//! stack, so on the eval stack every `stacker::maybe_grow` finds no room and
//! maps a fresh 2 MiB segment — and polyscript's data walks
//! ([`polyscript_core::data::with_stack`]) call it once per container level
//! (the registry's serializer once per *element*): a host function returning
//! a list of 1 000 records would map and unmap 1 000 segments. Host code may
//! also rely on `stacker` (or on a thread's usual stack) itself.
//!
//! While an eval runs on its stack, the thread's own stack below the frames
//! that switched to it is unused. So before switching, [`leave`] records
//! that free part (where `stacker`'s bounds are right), and [`run`] runs a
//! host call there: a stack switch (a few instructions) instead of a
//! mapping per walk. Where the free part is small (a thread already deep in
//! its stack) or unknown, the call runs where it is, as it would without
//! this.

use std::cell::Cell;

use crate::budget;

/// Left unused above the free part: the frames between where [`leave`]
/// runs and the switch to the eval stack (the eval stack's own, `psm`'s),
/// generously for debug builds.
const GAP: usize = 64 << 10;

/// Smallest free part worth switching to.
const MIN_FREE: usize = 256 << 10;

/// Alignment of the free part's ends (a page: valid stack alignment on
/// every target).
const ALIGN: usize = 4096;

thread_local! {
    /// The free part of this thread's own stack while an eval runs on an
    /// eval stack: (lowest, highest address), or `(0, 0)` for none.
    static FREE: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Restores the free part that was recorded before (nested evals), when
/// dropped.
pub(crate) struct Left {
    previous: (usize, usize),
}

impl Drop for Left {
    fn drop(&mut self) {
        FREE.set(self.previous);
    }
}

/// Records the free part of the current stack, before an eval switches to
/// its own; the returned value takes the record back.
pub(crate) fn leave() -> Left {
    let here = budget::stack_address();
    let free = match stacker::remaining_stack() {
        Some(left) if left <= here && left > GAP + MIN_FREE => {
            let low = (here - left).next_multiple_of(ALIGN);
            let high = (here - GAP) / ALIGN * ALIGN;
            if high >= low + MIN_FREE {
                (low, high)
            } else {
                (0, 0)
            }
        }
        _ => (0, 0),
    };
    Left {
        previous: FREE.replace(free),
    }
}

/// Runs `f` (a host call) on the free part of the thread's own stack, if
/// one was recorded; else right here.
pub(crate) fn run<R>(f: impl FnOnce() -> R) -> R {
    let (low, high) = FREE.get();
    if high == 0 {
        return f();
    }
    // A nested host call (an eval inside this one records its own) runs
    // where it is: the free part is in use.
    let _busy = Left {
        previous: FREE.replace((0, 0)),
    };
    switch::on_stack(low, high - low, f)
}

#[cfg(unix)]
psm::psm_stack_manipulation! {
    yes {
        mod switch {
            use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

            /// Runs `f` on the stack `[base, base + size)`; a panic resumes
            /// after the switch back.
            pub(super) fn on_stack<R>(base: usize, size: usize, f: impl FnOnce() -> R) -> R {
                // SAFETY: `[base, base + size)` is part of this thread's own
                // stack below every live frame (recorded by `leave` before
                // the switch to the eval stack, and not handed out twice),
                // page-aligned at both ends; the closure does not unwind.
                let outcome = unsafe {
                    psm::on_stack(base as *mut u8, size, move || catch_unwind(AssertUnwindSafe(f)))
                };
                match outcome {
                    Ok(value) => value,
                    Err(payload) => resume_unwind(payload),
                }
            }
        }
    }
    no {
        mod switch {
            pub(super) fn on_stack<R>(_base: usize, _size: usize, f: impl FnOnce() -> R) -> R {
                f()
            }
        }
    }
}

#[cfg(not(unix))]
mod switch {
    pub(super) fn on_stack<R>(_base: usize, _size: usize, f: impl FnOnce() -> R) -> R {
        f()
    }
}
