//! Why a running script is stopped, decided on the thread that runs it.
//!
//! One flag per runtime interrupts the script (see `watchdog.rs` and boa's
//! patched `Context::set_interrupt_flag`). Three things raise it: the
//! watchdog (deadline, cancellation), the accounting allocator (the eval's
//! [`MemoryMeter`] crossed its limit) and the memory pre-checks of the
//! allocating built-ins (`memory.rs`). When the VM finds it raised it asks
//! [`decide`] (through the `HostHooks::interrupt_requested` hook), which
//! records the reason and says whether to stop.
//!
//! The memory meter counts every byte the eval's thread holds, including
//! garbage boa's collector has not reclaimed yet (boa_gc collects by the
//! size of its own object headers, so big arrays turned garbage can pile
//! up). So when the meter trips, [`decide`] runs the collector once: if
//! what is still held is under [`GC_KEEP_GOING`] of the limit, the eval goes
//! on with a fresh meter for the rest of its budget; otherwise it ends with
//! `LimitExceeded(Memory)`.
//!
//! A host call that must end the eval (see `host/call.rs`) records its
//! error as the reason ([`stop`]) the same way.
//!
//! The state lives in a thread-local for the length of one eval: the host
//! hook has no other way to reach it, and a thread runs one eval at a time.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use boa_engine::JsError;
use boa_engine::error::RuntimeLimitError;
use polyscript_core::alloc::MemoryMeter;

use crate::watchdog::{Fired, Slot};

/// After a collection, the eval goes on if it holds less than this share of
/// its memory limit (numerator / denominator): each further collection then
/// needs at least a quarter of the limit to be allocated first, so
/// collections stay rare.
const GC_KEEP_GOING: (u64, u64) = (3, 4);

/// After an eval that still holds more than 1/this of its memory limit
/// when it ends, boa's collector runs.
const AFTER_EVAL_GC_SHARE: u64 = 8;

/// Why an eval was stopped.
#[derive(Debug)]
pub(crate) enum Reason {
    /// The deadline passed.
    Timeout,
    /// The cancel token was cancelled.
    Cancelled,
    /// The memory limit was reached (what, in words).
    Memory(String),
    /// A host call ended the eval with this error (its deadline or
    /// cancellation seen by the registry, a function's own stop, a panic in
    /// the binding): boxed, so the common reasons stay small.
    Host(Box<polyscript_core::Error>),
    /// An entry of a lazy `ctx` could not be converted (see
    /// `convert/lazy.rs`): the eval's input error.
    Input(Box<polyscript_core::data::DataError>),
}

/// The running eval's interrupt state.
struct EvalState {
    slot: Arc<Slot>,
    flag: Arc<AtomicBool>,
    /// `Limits::memory_bytes`.
    limit: Option<u64>,
    /// Meters the eval's allocations (accounting allocator installed).
    meter: Option<MemoryMeter>,
    /// Bytes held when the meter was last restarted after a collection.
    carried: u64,
    reason: Option<Reason>,
}

thread_local! {
    static CURRENT: RefCell<Option<EvalState>> = const { RefCell::new(None) };
}

/// The interrupt state of one eval on this thread; [`Scope::finish`] ends
/// it (dropping it also does, forgetting the reason).
pub(crate) struct Scope {
    /// The state this one replaced (evals do not nest on a thread today,
    /// but nothing breaks if one day they do).
    previous: Option<EvalState>,
    active: bool,
}

/// Starts an eval on this thread: `flag` (the runtime's, already lowered)
/// is what `slot`'s watchdog raises; `limit` is the memory limit.
pub(crate) fn begin(slot: &Arc<Slot>, flag: &Arc<AtomicBool>, limit: Option<u64>) -> Scope {
    let meter = limit.and_then(|limit| MemoryMeter::start_with_flag(limit, Arc::clone(flag)));
    let state = EvalState {
        slot: Arc::clone(slot),
        flag: Arc::clone(flag),
        limit,
        meter,
        carried: 0,
        reason: None,
    };
    Scope {
        previous: CURRENT.with(|current| current.replace(Some(state))),
        active: true,
    }
}

impl Scope {
    /// Ends the eval: the reason it was stopped, if it was. A flag raised
    /// after the script's last check (e.g. a memory limit crossed by its
    /// last step) is decided here too.
    pub(crate) fn finish(mut self) -> Option<Reason> {
        let mut state = self.end()?;
        if state.reason.is_none() && state.flag.load(Ordering::Acquire) {
            state.decide();
        }
        // An eval that left much garbage behind (everything it built is
        // garbage now: its result is already converted) gets it collected
        // before the next eval, instead of whenever boa's collector, which
        // only counts its own object headers, gets round to it.
        if let Some(limit) = state.limit
            && state.meter.is_some()
            && state.held() > limit / AFTER_EVAL_GC_SHARE
        {
            boa_gc::force_collect();
        }
        state.reason
    }

    fn end(&mut self) -> Option<EvalState> {
        if !self.active {
            return None;
        }
        self.active = false;
        let previous = self.previous.take();
        CURRENT
            .try_with(|current| current.replace(previous))
            .ok()
            .flatten()
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        drop(self.end());
    }
}

/// The host hook: the flag was found raised; `true` stops the script.
pub(crate) fn decide() -> bool {
    CURRENT
        .try_with(|current| current.borrow_mut().as_mut().is_none_or(EvalState::decide))
        .unwrap_or(true)
}

/// Ends the eval with `LimitExceeded(Memory)` (an uncatchable error for the
/// built-in that found it would allocate too much).
pub(crate) fn memory_exceeded(message: String) -> JsError {
    stop(Reason::Memory(message))
}

/// Ends the eval with `reason` (unless it already has one): the
/// uncatchable error for the host call that found it must stop.
pub(crate) fn stop(reason: Reason) -> JsError {
    let _ = CURRENT.try_with(|current| {
        if let Some(state) = current.borrow_mut().as_mut() {
            state.reason.get_or_insert(reason);
            state.flag.store(true, Ordering::Release);
        }
    });
    JsError::from(RuntimeLimitError::Interrupted)
}

/// Whether the running eval has been stopped (its reason is decided): a
/// host call made while the script unwinds runs no host code.
pub(crate) fn is_stopped() -> bool {
    CURRENT
        .try_with(|current| {
            current
                .borrow()
                .as_ref()
                .is_some_and(|s| s.reason.is_some())
        })
        .unwrap_or(true)
}

/// Whether the running eval is metered by the accounting allocator.
pub(crate) fn is_metered() -> bool {
    CURRENT
        .try_with(|current| current.borrow().as_ref().is_some_and(|s| s.meter.is_some()))
        .unwrap_or(false)
}

/// Bytes the running eval may still allocate: what its meter has left, or
/// (without the accounting allocator) its whole limit, which then bounds
/// each value separately. `u64::MAX` without a limit.
pub(crate) fn memory_left() -> u64 {
    CURRENT
        .try_with(|current| {
            current
                .borrow()
                .as_ref()
                .map_or(u64::MAX, |state| match (&state.meter, state.limit) {
                    (Some(meter), _) => meter.remaining(),
                    (None, Some(limit)) => limit,
                    (None, None) => u64::MAX,
                })
        })
        .unwrap_or(u64::MAX)
}

impl EvalState {
    fn decide(&mut self) -> bool {
        if self.reason.is_some() {
            return true;
        }
        if let Some(fired) = self.slot.fired() {
            self.reason = Some(match fired {
                Fired::Timeout => Reason::Timeout,
                Fired::Cancelled => Reason::Cancelled,
            });
            return true;
        }
        if self.meter.as_ref().is_some_and(MemoryMeter::exceeded) {
            return self.collect_or_stop();
        }
        // Nothing explains the flag (it was raised for a memory limit
        // already dealt with): carry on.
        self.flag.store(false, Ordering::Release);
        false
    }

    /// The meter tripped: collect garbage, then stop or go on.
    fn collect_or_stop(&mut self) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        boa_gc::force_collect();
        let held = self.held();
        let (num, den) = GC_KEEP_GOING;
        if held > limit / den * num {
            self.reason = Some(Reason::Memory(format!(
                "the script holds about {held} bytes; the limit is {limit} bytes"
            )));
            return true;
        }
        // A fresh meter for what is left (the old one stays tripped).
        self.meter = None;
        self.carried = held;
        self.meter = MemoryMeter::start_with_flag(limit - held, Arc::clone(&self.flag));
        self.flag.store(false, Ordering::Release);
        // The watchdog raises the flag again on its next tick if the eval is
        // late; a late eval found here is stopped now.
        if let Some(fired) = self.slot.fired() {
            self.reason = Some(match fired {
                Fired::Timeout => Reason::Timeout,
                Fired::Cancelled => Reason::Cancelled,
            });
            return true;
        }
        false
    }

    /// Bytes the eval holds now, counted from its start.
    fn held(&self) -> u64 {
        let metered = self.meter.as_ref().map_or(0, |m| m.used().max(0) as u64);
        self.carried.saturating_add(metered)
    }
}
