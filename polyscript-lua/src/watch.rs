//! Deadline, cancellation, operation, call-depth and memory checks: from a
//! Lua instruction-count hook, from native code that runs long without Lua
//! instructions (the pattern matcher, the table functions), and from the
//! sandbox's protected calls.
//!
//! The hook is a C function set once per Lua state with `lua_sethook`
//! (coroutines inherit it from the thread that creates them); each eval only
//! re-arms the shared [`Watch`] with its [`Guard`]'s deadline, token and
//! limits. While an eval is armed, the thread running it knows its watch and
//! its guard (thread-local pointers), so the hook and native functions can
//! [`poll`] it, and host functions reach the eval's [`Guard`]
//! ([`current_guard`]), without any per-call lookup. Arming saves what the
//! thread pointed at before and disarming restores it, so an eval a host
//! function starts on the same thread (another state, with its own watch)
//! leaves the outer eval's checks as they were.
//!
//! The hook is not mlua's: an error raised from mlua's hook callback first
//! truncates the running function's stack (`lua_settop`), which runs its
//! to-be-closed variables' `__close` right there, inside the hook, where Lua
//! runs no hooks: `local x <close> = ...` with a looping `__close` then
//! never ends. This hook raises with `lua_error` alone, so `__close` runs
//! later, at the protected call that catches the error, with hooks on.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mlua::Lua;
use mlua::ffi::{self, lua_Debug, lua_State};
use polyscript_core::clock::Instant;
use polyscript_core::{CancelToken, Error, Guard, LimitKind};

/// The message Lua's allocator failure leaves as the error value (Lua's
/// `MEMERRMSG`).
const MEMORY_ERROR: &[u8] = b"not enough memory";

/// The error every check raises once the eval has been stopped (what the
/// caller sees is the limit's own error, not this).
pub(crate) const INTERRUPTED_C: &std::ffi::CStr = c"polyscript: eval interrupted";

/// Why an eval was stopped.
#[derive(Debug)]
pub(crate) enum Trip {
    /// Past the deadline.
    Timeout,
    /// The cancel token fired.
    Cancelled,
    /// More instructions (and native steps) than `Limits::operations`.
    Operations(u64),
    /// Deeper than `Limits::call_depth`.
    CallDepth(u32),
    /// Lua's allocator refused memory (the limit, in bytes), and the script
    /// caught the error: the eval ends anyway.
    Memory(u64),
    /// A host call ended the eval with this error: its deadline or
    /// cancellation (seen by the registry around the call), or a result too
    /// large for the memory limit.
    Host(Box<Error>),
}

impl Trip {
    /// The error reported for this trip.
    pub(crate) fn into_error(self, guard: &Guard<'_>) -> Error {
        match self {
            Trip::Timeout => guard.timeout_error(),
            Trip::Cancelled => guard.cancelled_error(),
            Trip::Operations(limit) => guard.limit_error(
                LimitKind::Operations,
                format!(
                    "more than {limit} operations (Lua instructions and pattern-matching steps)"
                ),
            ),
            Trip::CallDepth(limit) => {
                guard.limit_error(LimitKind::CallDepth, format!("call depth above {limit}"))
            }
            Trip::Memory(limit) => guard.limit_error(
                LimitKind::Memory,
                format!("not enough memory (the limit is {limit} bytes)"),
            ),
            Trip::Host(error) => *error,
        }
    }
}

#[derive(Debug, Default)]
struct Armed {
    /// Instructions between two hook calls (set once, at install).
    every: u32,
    deadline: Option<Instant>,
    cancel: Option<CancelToken>,
    operations: Option<u64>,
    used: u64,
    call_depth: Option<u32>,
    memory: Option<u64>,
    trip: Option<Trip>,
}

impl Armed {
    /// The checks that need no Lua state: cancellation, deadline and the
    /// operation budget (charged `steps`).
    fn check_budget(&mut self, steps: u64) -> Option<Trip> {
        if self.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            return Some(Trip::Cancelled);
        }
        if self.deadline.is_some_and(Instant::has_passed) {
            return Some(Trip::Timeout);
        }
        if let Some(limit) = self.operations {
            self.used = self.used.saturating_add(steps);
            if self.used > limit {
                return Some(Trip::Operations(limit));
            }
        }
        None
    }

    /// The hook's checks: the budget (charged one hook interval) and the
    /// call depth of `l`.
    fn check(&mut self, l: *mut lua_State) -> Option<Trip> {
        if let Some(trip) = self.check_budget(u64::from(self.every)) {
            return Some(trip);
        }
        if let Some(depth) = self.call_depth {
            let mut ar = std::mem::MaybeUninit::<lua_Debug>::uninit();
            let level = std::ffi::c_int::try_from(depth).unwrap_or(std::ffi::c_int::MAX);
            // SAFETY: lua_getstack only fills `ar` (when the level exists).
            if unsafe { ffi::lua_getstack(l, level, ar.as_mut_ptr()) } != 0 {
                return Some(Trip::CallDepth(depth));
            }
        }
        None
    }
}

/// The count hook: checks the armed eval's watch, and raises once it is
/// stopped (again on every call, until the script is unwound; the
/// sandbox's protected calls rethrow meanwhile).
unsafe extern "C-unwind" fn count_hook(l: *mut lua_State, _ar: *mut lua_Debug) {
    let current = CURRENT.with(Cell::get);
    if current.is_null() {
        return;
    }
    let stopped = {
        // SAFETY: as in `poll`.
        let shared = unsafe { &*current };
        let mut armed = shared.lock();
        if armed.trip.is_none() {
            armed.trip = armed.check(l);
            if armed.trip.is_some() {
                shared.note(&armed);
            }
        }
        armed.trip.is_some()
    };
    if stopped {
        // SAFETY: the lock is released; nothing here needs dropping.
        unsafe {
            ffi::lua_pushstring(l, INTERRUPTED_C.as_ptr());
            ffi::lua_error(l);
        }
    }
}

thread_local! {
    /// The watch of the eval running on this thread (null: none).
    static CURRENT: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
    /// The guard of that eval (null: none). Its lifetime is erased: it is
    /// set only by a live [`ArmedEval`], which borrows the guard and clears
    /// the pointer when dropped.
    static GUARD: Cell<*const Guard<'static>> = const { Cell::new(std::ptr::null()) };
}

/// The guard of the eval running on this thread, if one is armed.
///
/// # Safety
///
/// The reference must not be kept past the native call it was obtained in:
/// the eval (and its guard) outlives every call into Lua it makes, but not
/// longer.
pub(crate) unsafe fn current_guard<'a>() -> Option<&'a Guard<'a>> {
    let guard = GUARD.with(Cell::get);
    // SAFETY: non-null only while the `ArmedEval` that borrows the guard is
    // alive (see `GUARD`); the caller keeps the reference within that time.
    unsafe { guard.cast::<Guard<'a>>().as_ref() }
}

/// Stops the eval running on this thread with `trip`, unless it was
/// stopped already (the first reason wins). The caller then raises
/// [`INTERRUPTED_C`]. Outside an armed eval it does nothing.
pub(crate) fn stop(trip: Trip) {
    let current = CURRENT.with(Cell::get);
    if current.is_null() {
        return;
    }
    // SAFETY: as in `poll`.
    let shared = unsafe { &*current };
    let mut armed = shared.lock();
    if armed.trip.is_none() {
        armed.trip = Some(trip);
        shared.note(&armed);
    }
}

/// Whether the eval running on this thread has been stopped (no new checks:
/// those run in the hook and in [`poll`]). Takes no lock: cheap enough for
/// every host call.
pub(crate) fn is_stopped() -> bool {
    let current = CURRENT.with(Cell::get);
    // SAFETY: as in `poll`.
    unsafe { current.as_ref() }.is_some_and(|shared| shared.stopped.load(Ordering::Relaxed))
}

/// Native steps between two polls of the watch (each poll charges them as
/// operations).
pub(crate) const STEPS_PER_POLL: u32 = 1000;

thread_local! {
    /// Steps left before the next poll, carried from one native call to the
    /// next so that many short calls are charged as well as one long one.
    static STEPS_LEFT: Cell<u32> = const { Cell::new(STEPS_PER_POLL) };
}

/// A step counter for native code: counts locally (a decrement per step),
/// polls the eval's watch every [`STEPS_PER_POLL`] steps. Plain data, so it
/// may be alive when Lua raises an error (the uncharged steps of that call
/// are then simply not carried over).
#[derive(Debug)]
pub(crate) struct Steps {
    left: u32,
}

impl Steps {
    /// Continues the count of this thread.
    pub(crate) fn start() -> Self {
        Steps {
            left: STEPS_LEFT.with(Cell::get),
        }
    }

    /// Charges `n` steps; `Err(())` when the eval has been stopped.
    #[inline]
    pub(crate) fn charge(&mut self, n: u32) -> Result<(), ()> {
        if self.left > n {
            self.left -= n;
            return Ok(());
        }
        let used = STEPS_PER_POLL - self.left.min(STEPS_PER_POLL) + n;
        self.left = STEPS_PER_POLL;
        poll(u64::from(used))
    }

    /// Hands the count on to the next native call on this thread.
    pub(crate) fn finish(self) {
        STEPS_LEFT.with(|c| c.set(self.left));
    }
}

/// Charges `steps` native steps to the eval running on this thread and
/// checks its deadline, token and operation budget. `Err(())` when the eval
/// has been stopped (now or earlier): the caller raises [`INTERRUPTED_C`].
/// Outside an armed eval (a plain Lua state) it always succeeds.
pub(crate) fn poll(steps: u64) -> Result<(), ()> {
    let current = CURRENT.with(Cell::get);
    if current.is_null() {
        return Ok(());
    }
    // SAFETY: `CURRENT` is set only by a live `ArmedEval`, which borrows the
    // `Watch` owning this state and clears the pointer when dropped.
    let shared = unsafe { &*current };
    let mut armed = shared.lock();
    if armed.trip.is_none() {
        armed.trip = armed.check_budget(steps);
        if armed.trip.is_some() {
            shared.note(&armed);
        }
    }
    if armed.trip.is_some() {
        Err(())
    } else {
        Ok(())
    }
}

/// What the checks of one instance share.
#[derive(Debug, Default)]
struct Shared {
    armed: Mutex<Armed>,
    /// `armed.trip.is_some()`, readable without the lock (host calls check
    /// it on every call). Written under the lock, read on the eval's thread.
    stopped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Armed> {
        // A poisoned lock only means a panic elsewhere; the data is plain.
        self.armed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Mirrors `armed`'s trip into `stopped` (call after setting it).
    fn note(&self, armed: &Armed) {
        self.stopped.store(armed.trip.is_some(), Ordering::Relaxed);
    }
}

/// The per-instance state the checks read; cheap to clone (one `Arc`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch(Arc<Shared>);

/// One armed eval on the current thread; disarms when dropped (also while
/// unwinding), so no thread is left pointing at a watch or a guard, and
/// restores what the thread pointed at before (an outer eval's, when a host
/// function runs an eval).
pub(crate) struct ArmedEval<'a> {
    watch: &'a Watch,
    previous: *const Shared,
    previous_guard: *const Guard<'static>,
    previous_steps: u32,
    /// The guard `GUARD` points at must outlive this value.
    _guard: PhantomData<&'a Guard<'a>>,
}

impl ArmedEval<'_> {
    /// Ends the eval: forgets the token, returns why the eval was stopped.
    pub(crate) fn disarm(self) -> Option<Trip> {
        let mut armed = self.watch.lock();
        armed.cancel = None;
        let trip = armed.trip.take();
        self.watch.0.note(&armed);
        trip
    }
}

impl Drop for ArmedEval<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
        GUARD.with(|c| c.set(self.previous_guard));
        STEPS_LEFT.with(|c| c.set(self.previous_steps));
    }
}

impl Watch {
    fn lock(&self) -> MutexGuard<'_, Armed> {
        self.0.lock()
    }

    /// Installs the hook on `lua`, checking every `every` instructions.
    pub(crate) fn install(&self, lua: &Lua, every: u32) -> mlua::Result<()> {
        let every = every.clamp(1, i32::MAX as u32);
        self.lock().every = every;
        crate::raw::with_raw_state(lua, (), |l| {
            // SAFETY: `l` is the main state; coroutines created later
            // inherit the hook.
            unsafe { ffi::lua_sethook(l, Some(count_hook), ffi::LUA_MASKCOUNT, every as _) }
        })
    }

    /// Arms the watch for one eval on this thread, with `guard` as the
    /// eval's guard for host functions until the returned value drops.
    pub(crate) fn arm<'a>(&'a self, guard: &'a Guard<'_>) -> ArmedEval<'a> {
        let limits = guard.limits();
        let mut armed = self.lock();
        *armed = Armed {
            every: armed.every,
            deadline: guard.deadline(),
            cancel: Some(guard.cancel_token().clone()),
            operations: limits.operations,
            used: 0,
            call_depth: limits.call_depth,
            memory: limits.memory_bytes,
            trip: None,
        };
        self.0.note(&armed);
        drop(armed);
        let previous = CURRENT.with(|c| c.replace(Arc::as_ptr(&self.0)));
        let erased = std::ptr::from_ref(guard).cast::<Guard<'static>>();
        let previous_guard = GUARD.with(|c| c.replace(erased));
        // Each eval counts its native steps from a full interval, and an
        // outer eval continues its own count afterwards.
        let previous_steps = STEPS_LEFT.with(|c| c.replace(STEPS_PER_POLL));
        ArmedEval {
            watch: self,
            previous,
            previous_guard,
            previous_steps,
            _guard: PhantomData,
        }
    }

    /// Whether the current eval has been stopped, counting `error` (what a
    /// protected call just caught): a memory error stops the eval for good,
    /// so that a script cannot catch one and carry on.
    pub(crate) fn stops_on(&self, error: &mlua::Value) -> bool {
        let mut armed = self.lock();
        if armed.trip.is_some() {
            return true;
        }
        if let Some(limit) = armed.memory
            && is_memory_error(error)
        {
            armed.trip = Some(Trip::Memory(limit));
            self.0.note(&armed);
            return true;
        }
        false
    }
}

/// Whether `error` is what Lua raises when its allocator refuses memory:
/// the bare `not enough memory` string, or mlua's memory error (a Rust
/// function's allocation failed).
///
/// A script's own `error("not enough memory", 0)` looks the same and so also
/// ends the eval as out of memory: the only way to tell them apart would be
/// the status code of the protected call, which Lua does not give to Lua
/// code.
pub(crate) fn is_memory_error(error: &mlua::Value) -> bool {
    match error {
        mlua::Value::String(s) => is_memory_error_text(&s.as_bytes()),
        mlua::Value::Error(e) => matches!(crate::errors::root(e), mlua::Error::MemoryError(_)),
        _ => false,
    }
}

/// Whether `text` is Lua's memory error message.
pub(crate) fn is_memory_error_text(text: &[u8]) -> bool {
    text == MEMORY_ERROR
}
