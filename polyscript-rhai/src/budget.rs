//! The per-eval budget rhai's `on_progress` hook enforces: the operation
//! budget, the wall-clock deadline, cancellation, the memory meter and the
//! native stack. Once any of them is hit the eval is *tripped*: the trip is
//! remembered, every later progress call stops the script again, and the
//! engine turns the trip into the eval's error when rhai returns, whatever a
//! built-in (a sort comparator, a `map` callback...) did with the first stop.
//!
//! # Why a thread-local
//!
//! rhai has one `on_progress` callback per `rhai::Engine`, set when the
//! engine is built, so the callback cannot capture one eval's budget (boxing
//! a new callback per eval would allocate). Its only argument is rhai's
//! operation count. A rhai eval runs synchronously on the calling thread, so
//! the cheapest correct mechanism is thread-local cells: [`install`] puts the
//! current eval's budget there for the duration of the eval (restoring
//! whatever was there before, so nested evals on one thread work) and
//! [`on_progress`] reads them.
//!
//! # Why polyscript counts operations itself
//!
//! rhai's own `set_max_operations` counts in its global runtime state, and a
//! native function calling back into the script (`map`, `filter`, `sort`,
//! `reduce`...) runs the callback on a *copy* of that state: the operations a
//! callback performs are forgotten when it returns, so a callback that loops
//! for just under the budget, once per element, never trips it. `on_progress`
//! is called once per operation wherever it runs, so counting the calls
//! counts every operation of the eval.
//!
//! # Cost
//!
//! Every operation: one thread-local increment and compare (operations and
//! the next clock check), one thread-local read (the allocator's "limit
//! crossed" flag) and one stack-pointer compare. The clock and the
//! cancellation token are read every [`CHECK_EVERY`] operations.
//!
//! # The eval, for host functions
//!
//! The same installation gives host functions (see [`crate::host`]) the
//! eval they are called from: its [`Guard`] ([`current_guard`]), and a way
//! to stop it with an error of their own ([`stop_with`]), which is as
//! sticky as every other trip.

use std::cell::Cell;
use std::marker::PhantomData;
use std::time::Duration;

use polyscript_core::alloc::MemoryMeter;
use polyscript_core::clock::Instant;
use polyscript_core::{CancelToken, Error, Guard};
use rhai::{Dynamic, EvalAltResult, Position};

/// The clock and the cancellation token are checked once per this many
/// operations. One rhai operation is tens of nanoseconds, so a stop request
/// is seen within microseconds.
pub(crate) const CHECK_EVERY: u64 = 256;

/// The `ErrorTerminated` token `on_progress` stops a script with; the trip,
/// not the token, says why.
const INTERRUPTED: rhai::INT = 1;

/// Why an eval was stopped. Sticky: once set it stays until the eval ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    /// Past the deadline.
    Timeout,
    /// The cancellation token was cancelled.
    Cancelled,
    /// More operations than the budget.
    Operations,
    /// The memory meter crossed its limit, or a built-in was about to
    /// allocate more than is left.
    Memory,
    /// The native stack is nearly used up (runaway recursion).
    Stack,
    /// A host call stopped the eval with its own error (an interrupt the
    /// host function reported, an argument or result past the memory
    /// limit): [`Installed::finish`] hands it over.
    Host,
}

/// Why a finished eval was stopped.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// By one of the budget's limits.
    Trip(Trip),
    /// By a host call, with this error.
    Host(Box<Error>),
}

/// The current eval's budget. Plain `Cell`s with constant initialisers and
/// no destructor: reading them is a bare thread-local load.
struct State {
    /// Operations so far in this eval.
    ops: Cell<u64>,
    /// The operation count at which the slow path runs next (the next clock
    /// check or one past the budget); 0 once tripped.
    next_event: Cell<u64>,
    /// The operation budget (`u64::MAX`: none).
    op_limit: Cell<u64>,
    deadline: Cell<Option<Instant>>,
    /// The eval's token; valid while an [`Installed`] lives.
    cancel: Cell<*const CancelToken>,
    /// The eval's memory meter (null: none); valid while an [`Installed`]
    /// lives.
    meter: Cell<*const MemoryMeter>,
    /// Below this stack address the eval is stopped (0: no check).
    stack_floor: Cell<usize>,
    trip: Cell<Option<Trip>>,
    /// The eval's `Guard` (a `*const Guard<'_>`, null: none); valid while
    /// an [`Installed`] lives.
    guard: Cell<*const ()>,
    /// The error a host call stopped the eval with ([`Trip::Host`]): a
    /// `Box::into_raw`, owned by the installation (null: none). A raw
    /// pointer keeps `State` free of drop glue.
    host_stop: Cell<*mut Error>,
}

thread_local! {
    static STATE: State = const {
        State {
            ops: Cell::new(0),
            next_event: Cell::new(u64::MAX),
            op_limit: Cell::new(u64::MAX),
            deadline: Cell::new(None),
            cancel: Cell::new(std::ptr::null()),
            meter: Cell::new(std::ptr::null()),
            stack_floor: Cell::new(0),
            trip: Cell::new(None),
            guard: Cell::new(std::ptr::null()),
            host_stop: Cell::new(std::ptr::null_mut()),
        }
    };
}

/// The state an [`Installed`] replaced, restored when it is dropped.
struct Saved {
    ops: u64,
    next_event: u64,
    op_limit: u64,
    deadline: Option<Instant>,
    cancel: *const CancelToken,
    meter: *const MemoryMeter,
    stack_floor: usize,
    trip: Option<Trip>,
    guard: *const (),
    host_stop: *mut Error,
}

/// Keeps one eval's budget installed on this thread; dropping it (also while
/// unwinding) restores the previous one. Borrows the guard, the token and
/// the meter it points the thread-local at, so none can go away first.
pub(crate) struct Installed<'a> {
    saved: Saved,
    _borrows: PhantomData<(&'a Guard<'a>, &'a CancelToken, &'a MemoryMeter)>,
    /// Must be dropped on the thread that installed it.
    _not_send: PhantomData<*const ()>,
}

/// Installs `guard`'s operation budget, deadline and token, `meter` and the
/// stack floor for the eval that runs on this thread until the result is
/// dropped.
pub(crate) fn install<'a>(
    guard: &'a Guard<'a>,
    meter: Option<&'a MemoryMeter>,
    stack_floor: usize,
) -> Installed<'a> {
    let op_limit = guard.limits().operations.unwrap_or(u64::MAX);
    STATE.with(|s| Installed {
        saved: Saved {
            ops: s.ops.replace(0),
            next_event: s.next_event.replace(next_event(0, op_limit)),
            op_limit: s.op_limit.replace(op_limit),
            deadline: s.deadline.replace(guard.deadline()),
            cancel: s.cancel.replace(guard.cancel_token()),
            meter: s.meter.replace(meter.map_or(std::ptr::null(), |m| m)),
            stack_floor: s.stack_floor.replace(stack_floor),
            trip: s.trip.replace(None),
            guard: s.guard.replace((guard as *const Guard<'a>).cast()),
            host_stop: s.host_stop.replace(std::ptr::null_mut()),
        },
        _borrows: PhantomData,
        _not_send: PhantomData,
    })
}

impl Installed<'_> {
    /// Why the eval was stopped, if it was; ends the installation.
    pub(crate) fn finish(self) -> Option<Stopped> {
        STATE.with(|s| match s.trip.get()? {
            Trip::Host => {
                let error = s.host_stop.replace(std::ptr::null_mut());
                // SAFETY: set by `stop_with` from `Box::into_raw` during this
                // installation, and taken only here (or freed on drop).
                (!error.is_null()).then(|| Stopped::Host(unsafe { Box::from_raw(error) }))
            }
            trip => Some(Stopped::Trip(trip)),
        })
    }
}

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        let saved = &self.saved;
        let _ = STATE.try_with(|s| {
            s.ops.set(saved.ops);
            s.next_event.set(saved.next_event);
            s.op_limit.set(saved.op_limit);
            s.deadline.set(saved.deadline);
            s.cancel.set(saved.cancel);
            s.meter.set(saved.meter);
            s.stack_floor.set(saved.stack_floor);
            s.trip.set(saved.trip);
            s.guard.set(saved.guard);
            let host_stop = s.host_stop.replace(saved.host_stop);
            if !host_stop.is_null() {
                // SAFETY: as in `finish`: this installation's, not taken.
                drop(unsafe { Box::from_raw(host_stop) });
            }
        });
    }
}

/// The operation count at which the slow path must run after `ops`: the next
/// multiple of [`CHECK_EVERY`], or one past the budget if that comes first.
#[inline]
fn next_event(ops: u64, op_limit: u64) -> u64 {
    let next_check = (ops / CHECK_EVERY + 1) * CHECK_EVERY;
    next_check.min(op_limit.saturating_add(1))
}

/// An address on the current stack, close to the stack pointer.
#[inline(always)]
pub(crate) fn stack_address() -> usize {
    let probe = 0u8;
    std::hint::black_box(&probe) as *const u8 as usize
}

#[inline]
fn memory_exceeded(s: &State) -> bool {
    let meter = s.meter.get();
    // SAFETY: a non-null `meter` was set by `install` from a reference the
    // live `Installed` borrows; it is reset before that borrow ends.
    !meter.is_null() && unsafe { (*meter).exceeded() }
}

/// rhai's `on_progress` callback: `Some(token)` stops the script. rhai's own
/// count is ignored (see the module docs).
pub(crate) fn on_progress(_rhai_count: u64) -> Option<Dynamic> {
    STATE.with(|s| {
        let ops = s.ops.get().wrapping_add(1);
        s.ops.set(ops);
        if ops < s.next_event.get() && !memory_exceeded(s) && stack_address() > s.stack_floor.get()
        {
            return None;
        }
        slow_progress(s, ops)
    })
}

#[cold]
fn slow_progress(s: &State, ops: u64) -> Option<Dynamic> {
    if s.trip.get().is_none() {
        match check(s, ops) {
            Some(trip) => trip_state(s, trip),
            None => s.next_event.set(next_event(ops, s.op_limit.get())),
        }
    }
    s.trip.get().map(|_| Dynamic::from_int(INTERRUPTED))
}

/// What, if anything, stops the eval after `ops` operations.
fn check(s: &State, ops: u64) -> Option<Trip> {
    if ops > s.op_limit.get() {
        return Some(Trip::Operations);
    }
    if memory_exceeded(s) {
        return Some(Trip::Memory);
    }
    if stack_address() <= s.stack_floor.get() {
        return Some(Trip::Stack);
    }
    if ops.is_multiple_of(CHECK_EVERY) {
        return interrupted(s);
    }
    None
}

/// Cancellation or the deadline (cancellation wins).
fn interrupted(s: &State) -> Option<Trip> {
    let cancel = s.cancel.get();
    // SAFETY: as for the meter in `memory_exceeded`.
    if !cancel.is_null() && unsafe { (*cancel).is_cancelled() } {
        return Some(Trip::Cancelled);
    }
    if s.deadline.get().is_some_and(Instant::has_passed) {
        return Some(Trip::Timeout);
    }
    None
}

fn trip_state(s: &State, trip: Trip) {
    if s.trip.get().is_none() {
        s.trip.set(Some(trip));
    }
    s.next_event.set(0);
}

/// Trips the current eval (if none is installed, nothing is remembered) and
/// returns the error that stops the script: not catchable by `try`/`catch`.
pub(crate) fn trip(trip: Trip) -> Box<EvalAltResult> {
    let _ = STATE.try_with(|s| trip_state(s, trip));
    terminated()
}

/// Stops the current eval with `error` (see [`Trip::Host`]): sticky like
/// every trip, and the error the eval ends with unless it was stopped
/// before. Returns the error that stops the script. Without an
/// installation the error is dropped (and the script still stopped).
pub(crate) fn stop_with(error: Error) -> Box<EvalAltResult> {
    let _ = STATE.try_with(|s| {
        if s.trip.get().is_none() && !s.guard.get().is_null() {
            s.host_stop.set(Box::into_raw(Box::new(error)));
        }
        trip_state(s, Trip::Host);
    });
    terminated()
}

/// Whether the current eval has been stopped.
#[inline]
pub(crate) fn is_tripped() -> bool {
    STATE.with(|s| s.trip.get().is_some())
}

/// The guard of the eval running on this thread, if one is.
///
/// # Safety
/// The reference must not outlive the current native call into the
/// script's eval (a host call): the installation it comes from ends with
/// the eval, which cannot end while one of its calls runs.
pub(crate) unsafe fn current_guard<'a>() -> Option<&'a Guard<'a>> {
    let guard = STATE.with(|s| s.guard.get()).cast::<Guard<'a>>();
    // SAFETY: a non-null pointer was set by `install` from a reference the
    // live `Installed` borrows (the caller keeps within its lifetime).
    unsafe { guard.as_ref() }
}

/// The script id of the eval running on this thread, if one is (for
/// `print` and `debug`, whose engine serves many scripts).
pub(crate) fn current_script_id() -> Option<polyscript_core::ScriptId> {
    // SAFETY: the id is copied out before this returns.
    unsafe { current_guard() }.map(Guard::script_id)
}

/// The error `on_progress` stops a script with.
pub(crate) fn terminated() -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from_int(INTERRUPTED), Position::NONE).into()
}

/// Whether this eval has a memory meter (the accounting allocator is
/// installed and the eval has a memory limit).
pub(crate) fn metered() -> bool {
    STATE.with(|s| !s.meter.get().is_null())
}

/// Bytes the eval may still allocate (`None`: no meter).
pub(crate) fn memory_remaining() -> Option<u64> {
    STATE.with(|s| {
        let meter = s.meter.get();
        // SAFETY: as in `memory_exceeded`.
        (!meter.is_null()).then(|| unsafe { (*meter).remaining() })
    })
}

/// For built-ins about to allocate about `bytes` in one step: trips the
/// eval with [`Trip::Memory`] if the meter has less left. Without a meter
/// this always passes (rhai's own size limits apply instead).
pub(crate) fn reserve(bytes: u64) -> Result<(), Box<EvalAltResult>> {
    match memory_remaining() {
        Some(left) if bytes > left => Err(trip(Trip::Memory)),
        _ => Ok(()),
    }
}

/// For built-ins in the middle of a long allocation (formatting a big
/// value): trips the eval once the meter has crossed its limit.
pub(crate) fn check_memory() -> Result<(), Box<EvalAltResult>> {
    if STATE.with(memory_exceeded) {
        Err(trip(Trip::Memory))
    } else {
        Ok(())
    }
}

/// For built-ins that recurse over values: trips the eval with
/// [`Trip::Stack`] when the native stack is down to its reserve.
#[inline]
pub(crate) fn ensure_stack() -> Result<(), Box<EvalAltResult>> {
    if stack_address() <= STATE.with(|s| s.stack_floor.get()) {
        Err(trip(Trip::Stack))
    } else {
        Ok(())
    }
}

/// Longest single sleep between checks of the deadline and the token.
const SLEEP_SLICE: Duration = Duration::from_millis(10);

/// rhai's `sleep`, bounded by the eval's deadline and cancellation: sleeps in
/// short slices and stops the script as soon as either is hit.
pub(crate) fn sleep(duration: Duration) -> Result<(), Box<EvalAltResult>> {
    let start = std::time::Instant::now();
    loop {
        if let Some(trip) = STATE.with(interrupted) {
            return Err(self::trip(trip));
        }
        let left = duration.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLEEP_SLICE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyscript_core::{EngineKind, Limits, ScriptId};

    fn guard(token: &CancelToken, limits: Limits) -> Guard<'_> {
        Guard::new(EngineKind::Rhai, ScriptId::of(b"t"), limits, None, token)
    }

    fn trip_of(stopped: Option<Stopped>) -> Option<Trip> {
        match stopped? {
            Stopped::Trip(trip) => Some(trip),
            Stopped::Host(error) => panic!("stopped by a host call: {error}"),
        }
    }

    fn run_ops(n: u64) -> Option<Dynamic> {
        (0..n).fold(None, |last, i| last.or(on_progress(i)))
    }

    #[test]
    fn nothing_installed_means_no_stop() {
        assert!(run_ops(3 * CHECK_EVERY).is_none());
    }

    #[test]
    fn the_operation_budget_trips_and_stays_tripped() {
        let token = CancelToken::new();
        let guard = guard(&token, Limits::unlimited().with_operations(10));
        let installed = install(&guard, None, 0);
        assert!(
            run_ops(10).is_none(),
            "10 operations are within a budget of 10"
        );
        assert!(on_progress(0).is_some(), "the 11th is not");
        assert!(on_progress(0).is_some(), "and the trip is sticky");
        assert_eq!(trip_of(installed.finish()), Some(Trip::Operations));
        assert!(run_ops(100).is_none(), "uninstalled: no budget");
    }

    #[test]
    fn cancel_and_deadline_are_seen_every_check_and_restored() {
        let outer_token = CancelToken::new();
        let past = std::time::Instant::now();
        let outer_guard = Guard::new(
            EngineKind::Rhai,
            ScriptId::of(b"t"),
            Limits::unlimited(),
            Some(past),
            &outer_token,
        );
        let outer = install(&outer_guard, None, 0);
        assert!(run_ops(CHECK_EVERY).is_some(), "past the deadline");
        {
            let token = CancelToken::new();
            let inner_guard = guard(&token, Limits::unlimited());
            let inner = install(&inner_guard, None, 0);
            assert!(
                run_ops(CHECK_EVERY).is_none(),
                "the inner eval has no deadline"
            );
            token.cancel();
            assert!(
                run_ops(CHECK_EVERY - 1).is_none(),
                "checked every CHECK_EVERY ops"
            );
            assert!(on_progress(0).is_some(), "cancelled");
            assert_eq!(trip_of(inner.finish()), Some(Trip::Cancelled));
        }
        // The outer budget (and its trip) is back.
        assert!(on_progress(0).is_some());
        assert_eq!(trip_of(outer.finish()), Some(Trip::Timeout));
    }

    #[test]
    fn a_stack_floor_above_the_stack_pointer_trips() {
        let token = CancelToken::new();
        let guard = guard(&token, Limits::unlimited());
        let installed = install(&guard, None, usize::MAX);
        assert!(on_progress(0).is_some());
        assert!(ensure_stack().is_err());
        assert_eq!(trip_of(installed.finish()), Some(Trip::Stack));
        assert!(ensure_stack().is_ok(), "no floor once uninstalled");
    }

    #[test]
    fn a_host_stop_is_sticky_and_ends_the_eval_with_its_error() {
        let token = CancelToken::new();
        let guard = guard(&token, Limits::unlimited());
        let installed = install(&guard, None, 0);
        // SAFETY: used while `installed` lives.
        let current = unsafe { current_guard() }.expect("installed");
        assert_eq!(current.script_id(), guard.script_id());
        assert!(!is_tripped());
        let stop = guard.limit_error(polyscript_core::LimitKind::Memory, "too big");
        assert!(!stop_with(stop).is_catchable());
        assert!(is_tripped() && on_progress(0).is_some(), "sticky");
        // A later stop does not replace the first.
        let _ = stop_with(guard.cancelled_error());
        let _ = trip(Trip::Operations);
        match installed.finish() {
            Some(Stopped::Host(error)) => assert!(error.to_string().contains("too big"), "{error}"),
            other => panic!("expected the host stop, got {other:?}"),
        }
        // SAFETY: as above (nothing is installed now).
        assert!(unsafe { current_guard() }.is_none());
        assert!(!is_tripped());
    }

    #[test]
    fn a_host_stop_inside_a_nested_eval_stays_there() {
        let token = CancelToken::new();
        let outer_guard = guard(&token, Limits::unlimited());
        let outer = install(&outer_guard, None, 0);
        {
            let inner_guard = guard(&token, Limits::unlimited());
            let inner = install(&inner_guard, None, 0);
            let _ = stop_with(inner_guard.cancelled_error());
            // Dropped without `finish`: the error is freed with it.
            drop(inner);
        }
        assert!(!is_tripped(), "the outer eval was not stopped");
        assert!(outer.finish().is_none());
    }

    #[test]
    fn sleep_ends_at_the_deadline() {
        let token = CancelToken::new();
        let soon = std::time::Instant::now() + Duration::from_millis(30);
        let guard = Guard::new(
            EngineKind::Rhai,
            ScriptId::of(b"t"),
            Limits::unlimited(),
            Some(soon),
            &token,
        );
        let installed = install(&guard, None, 0);
        let start = std::time::Instant::now();
        assert!(sleep(Duration::from_secs(3600)).is_err());
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(trip_of(installed.finish()), Some(Trip::Timeout));
        assert!(sleep(Duration::from_millis(1)).is_ok());
    }
}
