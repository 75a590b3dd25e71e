//! One shared thread that raises the interrupt flag of evals whose deadline
//! has passed or whose cancel token was cancelled.
//!
//! Each runtime (one boa `Context`) owns a [`Slot`] holding its interrupt
//! flag (set on the context with boa's `Context::set_interrupt_flag`, a
//! polyscript patch: see `vendor/PATCHES.md`). An eval arms the slot with its
//! deadline and token and disarms it when it ends; the watchdog looks at
//! every armed slot each [`TICK`] and raises the flag of the late or
//! cancelled ones, again on every tick until they disarm. The VM reads the
//! flag before every instruction, in every object internal method and in
//! regex backtracking, so the script stops wherever it is, also inside a
//! native call. No thread is started per eval or per instance.
//!
//! While evals keep coming the watchdog keeps ticking, and arming a slot
//! only takes the slot's own lock (a cache line no other thread writes in
//! the common case). After [`IDLE_TICKS`] ticks with nothing armed the
//! watchdog parks, and the next arm wakes it (a `SeqCst` flag both sides
//! check, so a wake-up cannot be lost).
//!
//! A slot's lock is held while the watchdog decides about it and while an
//! eval arms or disarms it, so once [`Slot::disarm`] has returned the
//! watchdog cannot raise that slot's flag for the eval that ended: the next
//! eval starts with a lowered flag that stays lowered until it is late
//! itself.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

use polyscript_core::CancelToken;
use polyscript_core::clock::Instant;

/// How often armed slots are checked: a late eval stops within this of its
/// deadline (plus the time its thread needs to notice the flag).
const TICK: Duration = Duration::from_millis(5);

/// Ticks with nothing armed before the watchdog parks (one second).
const IDLE_TICKS: u32 = 200;

/// Why the watchdog raised a slot's flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fired {
    /// The deadline passed.
    Timeout,
    /// The cancel token was cancelled.
    Cancelled,
}

const NOT_FIRED: u8 = 0;
const FIRED_TIMEOUT: u8 = 1;
const FIRED_CANCELLED: u8 = 2;

/// What an armed slot is watched for.
struct Armed {
    deadline: Option<Instant>,
    cancel: CancelToken,
}

/// One runtime's interrupt flag and what its running eval is watched for.
pub(crate) struct Slot {
    flag: Arc<AtomicBool>,
    armed: Mutex<Option<Armed>>,
    /// Why the flag was raised by the watchdog during the current eval.
    fired: AtomicU8,
}

impl Slot {
    /// A new slot for `flag`, registered with the watchdog (started on the
    /// first registration).
    pub(crate) fn new(flag: Arc<AtomicBool>) -> Arc<Slot> {
        let slot = Arc::new(Slot {
            flag,
            armed: Mutex::new(None),
            fired: AtomicU8::new(NOT_FIRED),
        });
        watchdog().register(&slot);
        slot
    }

    /// Watches the eval about to run: its flag is raised once `deadline`
    /// passes or `cancel` is cancelled.
    pub(crate) fn arm(&self, deadline: Option<Instant>, cancel: &CancelToken) {
        self.fired.store(NOT_FIRED, Ordering::Relaxed);
        *lock(&self.armed) = Some(Armed {
            deadline,
            cancel: cancel.clone(),
        });
        let dog = watchdog();
        if dog.parked.load(Ordering::SeqCst) {
            dog.wake();
        }
    }

    /// Stops watching; after this returns the watchdog no longer touches
    /// the flag.
    pub(crate) fn disarm(&self) {
        lock(&self.armed).take();
    }

    /// Why the watchdog raised the flag during this eval, if it did.
    pub(crate) fn fired(&self) -> Option<Fired> {
        match self.fired.load(Ordering::Acquire) {
            FIRED_TIMEOUT => Some(Fired::Timeout),
            FIRED_CANCELLED => Some(Fired::Cancelled),
            _ => None,
        }
    }

    /// Looks at the slot once (watchdog thread): `true` if it is armed.
    fn check(&self, now: Instant) -> bool {
        let armed = lock(&self.armed);
        let Some(armed) = armed.as_ref() else {
            return false;
        };
        let fired = if armed.cancel.is_cancelled() {
            FIRED_CANCELLED
        } else if armed.deadline.is_some_and(|d| now >= d) {
            FIRED_TIMEOUT
        } else {
            return true;
        };
        // The first reason stays; the flag is raised again on every tick
        // (the eval's memory check may lower it, see `interrupt.rs`).
        let _ = self
            .fired
            .compare_exchange(NOT_FIRED, fired, Ordering::Release, Ordering::Relaxed);
        self.flag.store(true, Ordering::Release);
        true
    }
}

struct Watchdog {
    slots: Mutex<Vec<Weak<Slot>>>,
    wake: Condvar,
    /// The watchdog waits for a wake-up rather than ticking.
    parked: AtomicBool,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let dog: &'static Watchdog = Box::leak(Box::new(Watchdog {
            slots: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            parked: AtomicBool::new(false),
        }));
        let spawned = std::thread::Builder::new()
            .name("polyscript-js-watchdog".into())
            .spawn(move || dog.run());
        if let Err(e) = spawned {
            // Without the thread only the operation limit and the memory
            // limit can stop a script; deadlines and cancellation cannot.
            tracing::error!(error = %e, "cannot start the JavaScript watchdog thread");
        }
        dog
    })
}

impl Watchdog {
    fn register(&self, slot: &Arc<Slot>) {
        lock(&self.slots).push(Arc::downgrade(slot));
    }

    fn wake(&self) {
        let _slots = lock(&self.slots);
        self.wake.notify_one();
    }

    fn run(&self) {
        let mut slots = lock(&self.slots);
        let mut idle_ticks = 0;
        loop {
            let any_armed = Self::check_all(&mut slots);
            if any_armed {
                idle_ticks = 0;
            } else {
                idle_ticks += 1;
            }
            if idle_ticks >= IDLE_TICKS {
                self.parked.store(true, Ordering::SeqCst);
                // An eval that armed before seeing `parked` is found here;
                // one that arms later sees `parked` and wakes us.
                if !Self::check_all(&mut slots) {
                    slots = self
                        .wake
                        .wait(slots)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                self.parked.store(false, Ordering::SeqCst);
                idle_ticks = 0;
                continue;
            }
            slots = self
                .wake
                .wait_timeout(slots, TICK)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
    }

    /// Checks every live slot, dropping dead ones; whether any is armed.
    fn check_all(slots: &mut Vec<Weak<Slot>>) -> bool {
        let now = Instant::now();
        let mut any_armed = false;
        slots.retain(|weak| match weak.upgrade() {
            Some(slot) => {
                any_armed |= slot.check(now);
                true
            }
            None => false,
        });
        any_armed
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_eval_gets_its_flag_raised_and_a_disarmed_one_never() {
        let flag = Arc::new(AtomicBool::new(false));
        let slot = Slot::new(Arc::clone(&flag));
        let token = CancelToken::new();
        slot.arm(
            Instant::now().checked_add(Duration::from_millis(30)),
            &token,
        );
        let start = std::time::Instant::now();
        while !flag.load(Ordering::Acquire) {
            assert!(start.elapsed() < Duration::from_secs(5), "never raised");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(slot.fired(), Some(Fired::Timeout));
        slot.disarm();
        flag.store(false, Ordering::Release);
        std::thread::sleep(TICK * 4);
        assert!(!flag.load(Ordering::Acquire), "raised after disarm");

        slot.arm(None, &token);
        assert_eq!(slot.fired(), None);
        token.cancel();
        let start = std::time::Instant::now();
        while !flag.load(Ordering::Acquire) {
            assert!(start.elapsed() < Duration::from_secs(5), "never raised");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(slot.fired(), Some(Fired::Cancelled));
        slot.disarm();
    }
}
