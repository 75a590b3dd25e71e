//! Memory accounting for engines that cannot count their own allocations.
//!
//! Lua counts every byte a state allocates and WebAssembly has a linear
//! memory with a page limit, but Rhai and boa allocate through Rust's global
//! allocator like any other Rust code. To bound the *total* memory an eval
//! takes in those engines (not just the size of each value), polyscript
//! counts allocations itself:
//!
//! * [`Accounting`] is a [`GlobalAlloc`] that wraps another allocator
//!   ([`System`] by default) and keeps, per thread, the net number of bytes
//!   allocated. It adds a thread-local add and compare to each allocation.
//!   The `polyscript` facade installs it by default (feature
//!   `accounting-allocator`); a program with its own global allocator wraps
//!   it instead: `#[global_allocator] static A: Accounting<MyAlloc> =
//!   Accounting::new(MyAlloc);`.
//! * A [`MemoryMeter`] meters one eval on the thread that runs it: the bytes
//!   the thread holds beyond what it held when the eval started. Engines
//!   check [`MemoryMeter::exceeded`] at their interrupt points (every rhai
//!   operation, every boa instruction); the allocator also sets the eval's
//!   interrupt flag the moment the limit is crossed, for engines that poll a
//!   flag.
//!
//! An allocation cannot be refused without aborting the process (Rust's
//! allocation-error handler aborts, and a global allocator must not
//! unwind), so the limit is enforced *after* the allocation that crosses it:
//! the next interrupt point ends the eval. Engines pre-check the built-ins
//! that allocate in proportion to an argument (`repeat`, `pad`, ...) so no
//! single step can take much more than the limit.
//!
//! When [`Accounting`] is not the global allocator, [`MemoryMeter::start`]
//! returns `None` and engines fall back to their own per-value size checks
//! (each engine crate's docs say what then holds).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// A global allocator that counts, per thread, the bytes allocated through
/// it, so that [`MemoryMeter`]s can bound what an eval takes.
///
/// ```no_run
/// use polyscript_core::alloc::Accounting;
///
/// #[global_allocator]
/// static ALLOCATOR: Accounting = Accounting::system();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Accounting<A = System> {
    inner: A,
}

impl Accounting<System> {
    /// Accounting over the system allocator.
    pub const fn system() -> Self {
        Accounting { inner: System }
    }
}

impl<A> Accounting<A> {
    /// Accounting over `inner` (mimalloc, jemalloc, ...).
    pub const fn new(inner: A) -> Self {
        Accounting { inner }
    }
}

/// One thread's counters. Plain `Cell`s with a constant initialiser and no
/// destructor: reading them is a bare thread-local load, and they stay
/// usable while the thread is torn down (the allocator runs then too).
struct Ledger {
    /// Bytes allocated minus bytes freed by this thread, ever.
    net: Cell<i64>,
    /// `net` above this trips the running eval's meter.
    ceiling: Cell<i64>,
    /// Whether the running eval's meter has tripped.
    tripped: Cell<bool>,
    /// The running eval's interrupt flag, set when the meter trips (null:
    /// none). Points into an `Arc` the meter holds for as long as it is set.
    flag: Cell<*const AtomicBool>,
}

thread_local! {
    static LEDGER: Ledger = const {
        Ledger {
            net: Cell::new(0),
            ceiling: Cell::new(i64::MAX),
            tripped: Cell::new(false),
            flag: Cell::new(std::ptr::null()),
        }
    };
}

#[inline]
fn record(delta: i64) {
    // `try_with`: never fails for a const, destructor-less key, but the
    // allocator must not panic whatever happens.
    let _ = LEDGER.try_with(|ledger| {
        let net = ledger.net.get().wrapping_add(delta);
        ledger.net.set(net);
        if net > ledger.ceiling.get() && !ledger.tripped.get() {
            ledger.tripped.set(true);
            let flag = ledger.flag.get();
            if !flag.is_null() {
                // SAFETY: `flag` is set only by a live `MemoryMeter` on this
                // thread, which keeps the `Arc` it points into alive and
                // clears the pointer when dropped.
                unsafe { (*flag).store(true, Ordering::Release) };
            }
        }
    });
}

// SAFETY: every method forwards to `inner` with the same arguments and only
// adds bookkeeping in thread-local cells, which neither allocates nor unwinds.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Accounting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size() as i64);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size() as i64);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as `alloc`.
        unsafe { self.inner.dealloc(ptr, layout) };
        record(-(layout.size() as i64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `alloc`.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(new_size as i64 - layout.size() as i64);
        }
        new
    }
}

/// Whether [`Accounting`] is the global allocator of this process (found
/// out once, by watching whether an allocation is counted).
pub fn is_installed() -> bool {
    // 0: not known yet, 1: no, 2: yes.
    static STATE: AtomicU8 = AtomicU8::new(0);
    match STATE.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let before = thread_net();
            let probe = std::hint::black_box(Box::new([0u8; 64]));
            let installed = thread_net() != before;
            drop(probe);
            STATE.store(if installed { 2 } else { 1 }, Ordering::Relaxed);
            installed
        }
    }
}

fn thread_net() -> i64 {
    LEDGER.try_with(|l| l.net.get()).unwrap_or(0)
}

/// Meters one eval's allocations on the current thread until dropped.
///
/// Meters nest (an eval inside a host function inside an eval): each
/// restores the one it replaced. A meter must be dropped on the thread that
/// started it (it is neither `Send` nor `Sync`).
#[derive(Debug)]
pub struct MemoryMeter {
    baseline: i64,
    limit: u64,
    previous: Saved,
    /// Keeps the flag the ledger points at alive.
    _flag: Option<Arc<AtomicBool>>,
    _not_send: std::marker::PhantomData<*const ()>,
}

#[derive(Debug)]
struct Saved {
    ceiling: i64,
    tripped: bool,
    flag: *const AtomicBool,
}

impl MemoryMeter {
    /// Starts metering with `limit` bytes, or `None` when [`Accounting`] is
    /// not the global allocator.
    pub fn start(limit: u64) -> Option<MemoryMeter> {
        Self::start_inner(limit, None)
    }

    /// Like [`start`](Self::start), and sets `flag` the moment the limit is
    /// crossed (for engines that poll one interrupt flag).
    pub fn start_with_flag(limit: u64, flag: Arc<AtomicBool>) -> Option<MemoryMeter> {
        Self::start_inner(limit, Some(flag))
    }

    fn start_inner(limit: u64, flag: Option<Arc<AtomicBool>>) -> Option<MemoryMeter> {
        if !is_installed() {
            return None;
        }
        let flag_ptr = flag.as_ref().map_or(std::ptr::null(), Arc::as_ptr);
        LEDGER
            .try_with(|ledger| {
                let baseline = ledger.net.get();
                let ceiling = baseline.saturating_add(i64::try_from(limit).unwrap_or(i64::MAX));
                MemoryMeter {
                    baseline,
                    limit,
                    previous: Saved {
                        ceiling: ledger.ceiling.replace(ceiling),
                        tripped: ledger.tripped.replace(false),
                        flag: ledger.flag.replace(flag_ptr),
                    },
                    _flag: flag,
                    _not_send: std::marker::PhantomData,
                }
            })
            .ok()
    }

    /// Whether the eval has held more than its limit at some point since the
    /// meter started.
    #[inline]
    pub fn exceeded(&self) -> bool {
        LEDGER.try_with(|l| l.tripped.get()).unwrap_or(false)
    }

    /// Bytes the thread holds now beyond what it held when the meter started
    /// (negative when the eval freed memory it did not allocate).
    pub fn used(&self) -> i64 {
        thread_net() - self.baseline
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes that may still be allocated before the limit (0 once past it).
    /// Engines pre-check an allocation they are about to make with it.
    pub fn remaining(&self) -> u64 {
        let used = self.used().max(0) as u64;
        self.limit.saturating_sub(used)
    }
}

impl Drop for MemoryMeter {
    fn drop(&mut self) {
        let _ = LEDGER.try_with(|ledger| {
            ledger.ceiling.set(self.previous.ceiling);
            ledger.flag.set(self.previous.flag);
            // What this eval allocated counts for the one around it too.
            let tripped = self.previous.tripped || ledger.net.get() > self.previous.ceiling;
            if tripped && !self.previous.tripped && !self.previous.flag.is_null() {
                // SAFETY: the outer meter that set this pointer is still
                // alive (meters are dropped in reverse order on one thread).
                unsafe { (*self.previous.flag).store(true, Ordering::Release) };
            }
            ledger.tripped.set(tripped);
        });
    }
}
