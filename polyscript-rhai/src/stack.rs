//! [`run`]: the native stack evals run on, one per thread.
//!
//! rhai walks values recursively in plain Rust code that calls no hook:
//! cloning (every read of a variable), dropping, hashing (`switch`) a value
//! nested *n* deep takes *n* nested native calls. A script can nest values as
//! deep as its memory allows (an array level is 40 bytes, a closure capturing
//! the previous one 120 bytes), and those walks need up to ~250 bytes of stack
//! per level (measured on debug builds), so on a thread's own 2 MiB stack a
//! script of a few thousand levels — well within any memory limit — would
//! abort the process with a stack overflow.
//!
//! So evals run on a stack of their own, sized from the limits
//! ([`Sizes`]): a *data reserve* of [`DATA_STACK_PER_MEMORY_BYTE`] × the
//! memory limit, enough for rhai to clone or drop the deepest value the memory
//! limit lets a script build, plus room for the script's own calls
//! ([`CALL_STACK_PER_LEVEL`] × the call-depth limit). The eval runs on it
//! (`psm::on_stack`, a few instructions per switch); `on_progress` stops the
//! script with a call-depth error when its recursion reaches the data reserve,
//! and the recursive built-ins polyscript overrides do the same
//! ([`budget::ensure_stack`](crate::budget::ensure_stack)). The stack is the
//! thread's, not the instance's: evals on one thread run one at a time, so a
//! process holding thousands of instances maps a stack per thread that
//! evals, not per instance (each was a mapping pair and up to 4 GiB of
//! address space). The memory is
//! reserved, not committed (`MAP_NORESERVE`): only pages a deep eval touches
//! become resident, and those are given back after the eval
//! ([`RECLAIM_ABOVE`]).
//!
//! Where the stack cannot be switched (not Unix, or the platform has no
//! `psm` support) or reserved (`mmap` refused), evals run on the calling
//! thread's stack: the call-depth guard still holds, but rhai's walks over
//! values nested deeper than that stack allows are not protected.

use std::cell::Cell;

use polyscript_core::Limits;

use crate::budget;

/// Stack reserved for the script's own calls (its recursion through script
/// functions, closures and callbacks) per level of the call-depth limit:
/// ~7 KiB per rhai call level in debug builds, 13 KiB through a callback;
/// the rest is for the recursive built-ins (printing, comparing) on nested
/// values, ~700 bytes a level (about 23 000 levels with the default limits).
pub(crate) const CALL_STACK_PER_LEVEL: usize = 64 << 10;

/// Smallest and largest stack for the script's calls. Without a call-depth
/// limit, the memory limit's worth (between the two): recursion then stops
/// at the stack guard, having used no more stack than the heap it may use.
pub(crate) const MIN_CALL_STACK: usize = 4 << 20;
/// See [`MIN_CALL_STACK`].
pub(crate) const MAX_CALL_STACK: usize = 256 << 20;

/// Stack bytes reserved per byte of the memory limit: the deepest value a
/// script can afford is ~40 bytes a level, and rhai's deepest walk over it
/// (cloning) takes up to ~212 bytes of stack a level; 8 leaves room.
pub(crate) const DATA_STACK_PER_MEMORY_BYTE: u64 = 8;

/// The data reserve when the accounting allocator is not installed, per
/// byte of the memory limit: arrays are then bounded by rhai's per-value
/// limit of `memory / 16` elements (one level each, ~212 bytes of stack).
pub(crate) const UNMETERED_DATA_STACK_PER_MEMORY_BYTE: u64 = 16;

/// ... and per operation of the budget: without the meter nothing counts the
/// memory of closures capturing closures (~250 bytes of stack a level, at
/// least ~6 operations a level), so the operation budget bounds their depth.
pub(crate) const UNMETERED_DATA_STACK_PER_OPERATION: u64 = 48;

/// Smallest and largest data reserve. Without a memory limit the largest.
pub(crate) const MIN_DATA_STACK: usize = 16 << 20;
/// See [`MIN_DATA_STACK`].
pub(crate) const MAX_DATA_STACK: usize = 4 << 30;

/// On a thread's own stack, the guard stops the script this far from its end.
const THREAD_STACK_RESERVE: usize = 256 << 10;

/// Stack bytes the top of the stack keeps resident between evals; an eval
/// that went deeper gets the pages below given back to the OS afterwards.
pub(crate) const RECLAIM_ABOVE: usize = 1 << 20;

/// How an eval's stack is divided: its calls may use the top `calls` bytes;
/// below them at least `data` bytes stay free for rhai's walks over values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sizes {
    pub(crate) calls: usize,
    pub(crate) data: usize,
}

impl Sizes {
    /// The sizes for an eval with `limits`, metered or not.
    pub(crate) fn for_limits(limits: &Limits, metered: bool) -> Sizes {
        let calls = match limits.call_depth {
            Some(depth) => (depth as usize).saturating_mul(CALL_STACK_PER_LEVEL),
            None => limits
                .memory_bytes
                .map_or(MAX_CALL_STACK, |m| usize::try_from(m).unwrap_or(usize::MAX)),
        };
        Sizes {
            calls: calls.clamp(MIN_CALL_STACK, MAX_CALL_STACK),
            data: data_reserve(limits, metered),
        }
    }

    fn total(self) -> usize {
        self.calls + self.data
    }
}

/// The data reserve for an eval with `limits`, metered or not.
fn data_reserve(limits: &Limits, metered: bool) -> usize {
    let reserve = if metered {
        limits
            .memory_bytes
            .map_or(u64::MAX, |m| m.saturating_mul(DATA_STACK_PER_MEMORY_BYTE))
    } else {
        match (limits.memory_bytes, limits.operations) {
            (Some(memory), Some(ops)) => memory
                .saturating_mul(UNMETERED_DATA_STACK_PER_MEMORY_BYTE)
                .max(ops.saturating_mul(UNMETERED_DATA_STACK_PER_OPERATION)),
            _ => u64::MAX,
        }
    };
    reserve.clamp(MIN_DATA_STACK as u64, MAX_DATA_STACK as u64) as usize
}

thread_local! {
    /// This thread's eval stack while no eval runs on it (`None` before the
    /// first eval, and while one runs).
    static STACK: Cell<Option<region::Region>> = const { Cell::new(None) };
}

/// Runs `f` on the calling thread's eval stack, giving it the stack floor
/// below which the script must stop: `sizes.calls` below the top.
///
/// One stack per thread, shared by every instance that evals there, mapped
/// on the thread's first eval and grown when an eval's `sizes` need more
/// (it keeps the largest): an idle instance costs no stack, no address space
/// and no mapping, however many a process holds. A nested eval (a host
/// function evaluating another script on this thread) finds the stack in use
/// and runs on a stack of its own, mapped for it (the larger of the two is
/// kept afterwards). With `host_calls`, the script may call host functions,
/// which then run on the calling thread's stack
/// ([`trampoline`](crate::trampoline)).
pub(crate) fn run<R>(sizes: Sizes, host_calls: bool, f: impl FnOnce(usize) -> R) -> R {
    let mut region = STACK.try_with(Cell::take).ok().flatten();
    if region.as_ref().is_none_or(|r| r.size() < sizes.total()) {
        // The old one first: the address space of both is not needed.
        drop(region.take());
        region = region::Region::map(sizes.total());
    }
    match region {
        Some(region) => {
            let mut kept = Keep(Some(region));
            let region = kept.0.as_mut().expect("just set");
            let floor = region.base() + region.size() - sizes.calls;
            let _left = host_calls.then(crate::trampoline::leave);
            region.run(move || f(floor))
        }
        None => f(thread_floor()),
    }
}

/// Gives the stack back to the thread when the eval ends, returns or
/// unwinds (keeping the larger one if a nested eval left its own).
struct Keep(Option<region::Region>);

impl Drop for Keep {
    fn drop(&mut self) {
        let Some(ours) = self.0.take() else { return };
        let _ = STACK.try_with(|slot| {
            let larger = match slot.take() {
                Some(theirs) if theirs.size() > ours.size() => theirs,
                _ => ours,
            };
            slot.set(Some(larger));
        });
    }
}

/// Whether this thread has an eval stack of its own now.
#[cfg(test)]
pub(crate) fn thread_has_stack() -> bool {
    STACK.with(|slot| {
        let region = slot.take();
        let has = region.is_some();
        slot.set(region);
        has
    })
}

/// The stack floor on the calling thread's own stack (0: unknown).
fn thread_floor() -> usize {
    match stacker::remaining_stack() {
        Some(left) => (budget::stack_address() - left.min(budget::stack_address()))
            .saturating_add(THREAD_STACK_RESERVE),
        None => 0,
    }
}

#[cfg(unix)]
psm::psm_stack_manipulation! {
    yes {
        mod region {
            //! An `mmap`ed stack with a guard page below it.

            use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

            use super::RECLAIM_ABOVE;

            /// A byte pattern no stack frame writes by chance.
            const CANARY: [u64; 8] = [0x5CA1_AB1E_0DDB_A11C; 8];

            #[derive(Debug)]
            pub(crate) struct Region {
                /// The whole mapping, guard page first.
                mapping: *mut u8,
                mapping_len: usize,
                /// Usable bytes above the guard page.
                size: usize,
                page: usize,
            }

            // SAFETY: the region is plain memory owned by this value; it is
            // only used through `&mut self` (`run`) or read by address.
            unsafe impl Send for Region {}
            // SAFETY: `&Region` gives no access to the memory.
            unsafe impl Sync for Region {}

            impl Region {
                /// Reserves `size` bytes (rounded up to pages), or halves the
                /// request until the OS agrees (down to 4 MiB); `None` if not
                /// even that can be had.
                pub(crate) fn map(size: usize) -> Option<Region> {
                    // The floor and the canary assume a stack that grows
                    // down, as on every platform rhai runs on in practice.
                    if psm::StackDirection::new() != psm::StackDirection::Descending {
                        return None;
                    }
                    // SAFETY: sysconf has no preconditions.
                    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
                        .ok()
                        .filter(|p| p.is_power_of_two())
                        .unwrap_or(4096);
                    let mut size = size.next_multiple_of(page);
                    loop {
                        if let Some(region) = Self::try_map(size, page) {
                            return Some(region);
                        }
                        if size <= 4 << 20 {
                            tracing::warn!(
                                "polyscript-rhai could not reserve an eval stack; \
                                 evals run on the calling thread's stack"
                            );
                            return None;
                        }
                        size = (size / 2).next_multiple_of(page);
                    }
                }

                fn try_map(size: usize, page: usize) -> Option<Region> {
                    let mapping_len = size.checked_add(page)?;
                    #[cfg(any(target_os = "linux", target_os = "android"))]
                    let flags = libc::MAP_PRIVATE
                        | libc::MAP_ANONYMOUS
                        | libc::MAP_NORESERVE
                        | libc::MAP_STACK;
                    #[cfg(not(any(target_os = "linux", target_os = "android")))]
                    let flags = libc::MAP_PRIVATE | libc::MAP_ANON;
                    // SAFETY: an anonymous private mapping at an address of
                    // the kernel's choice touches no existing memory.
                    let mapping = unsafe {
                        libc::mmap(
                            std::ptr::null_mut(),
                            mapping_len,
                            libc::PROT_READ | libc::PROT_WRITE,
                            flags,
                            -1,
                            0,
                        )
                    };
                    if mapping == libc::MAP_FAILED {
                        return None;
                    }
                    let region = Region {
                        mapping: mapping.cast(),
                        mapping_len,
                        size,
                        page,
                    };
                    // SAFETY: the first page of our own mapping becomes the
                    // guard page: an overflow faults instead of running into
                    // other memory.
                    if unsafe { libc::mprotect(mapping, page, libc::PROT_NONE) } != 0 {
                        return None; // `region` unmaps on drop
                    }
                    #[cfg(any(target_os = "linux", target_os = "android"))]
                    // SAFETY: advice on our own mapping. A huge page would
                    // make the first eval commit 2 MiB instead of a few KiB.
                    unsafe {
                        libc::madvise(mapping, mapping_len, libc::MADV_NOHUGEPAGE);
                    }
                    region.write_canary();
                    Some(region)
                }

                /// Lowest usable address.
                pub(crate) fn base(&self) -> usize {
                    self.mapping as usize + self.page
                }

                /// Usable bytes.
                pub(crate) fn size(&self) -> usize {
                    self.size
                }

                fn canary(&self) -> *mut [u64; 8] {
                    (self.base() + self.size - RECLAIM_ABOVE - size_of::<[u64; 8]>())
                        as *mut [u64; 8]
                }

                fn write_canary(&self) {
                    // SAFETY: inside our mapping, above the guard page, not
                    // in use by any frame (no eval is running).
                    unsafe { self.canary().write_volatile(CANARY) };
                }

                /// Runs `f` on this stack; a panic in `f` resumes here.
                pub(crate) fn run<R>(&mut self, f: impl FnOnce() -> R) -> R {
                    // SAFETY: `base` is page-aligned and `size` a multiple of
                    // the page size; the closure does not unwind (panics are
                    // caught and resumed after the switch back).
                    let outcome = unsafe {
                        psm::on_stack(self.base() as *mut u8, self.size, move || {
                            catch_unwind(AssertUnwindSafe(f))
                        })
                    };
                    self.reclaim();
                    match outcome {
                        Ok(value) => value,
                        Err(payload) => resume_unwind(payload),
                    }
                }

                /// Gives back the pages of a deep eval: if a frame reached
                /// the canary below the top [`RECLAIM_ABOVE`] bytes, the pages
                /// below that are discarded (they read as zero if touched
                /// again).
                fn reclaim(&self) {
                    // SAFETY: as in `write_canary`.
                    if unsafe { self.canary().read_volatile() } == CANARY {
                        return;
                    }
                    let below = self.base() + self.size - RECLAIM_ABOVE - self.page;
                    // SAFETY: advice on the unused lower part of our own
                    // mapping (no eval is running on it).
                    unsafe {
                        libc::madvise(
                            self.base() as *mut libc::c_void,
                            below - self.base(),
                            libc::MADV_DONTNEED,
                        );
                    }
                    self.write_canary();
                }
            }

            impl Drop for Region {
                fn drop(&mut self) {
                    // SAFETY: unmaps exactly the mapping made in `try_map`;
                    // nothing runs on it any more.
                    unsafe {
                        libc::munmap(self.mapping.cast(), self.mapping_len);
                    }
                }
            }
        }
    }
    no {
        mod region {
            //! No stack switching on this platform.

            #[derive(Debug)]
            pub(crate) enum Region {}

            impl Region {
                pub(crate) fn map(_size: usize) -> Option<Region> {
                    None
                }
                pub(crate) fn base(&self) -> usize {
                    match *self {}
                }
                pub(crate) fn size(&self) -> usize {
                    match *self {}
                }
                pub(crate) fn run<R>(&mut self, _f: impl FnOnce() -> R) -> R {
                    match *self {}
                }
            }
        }
    }
}

#[cfg(not(unix))]
mod region {
    //! No stack switching on this platform.

    #[derive(Debug)]
    pub(crate) enum Region {}

    impl Region {
        pub(crate) fn map(_size: usize) -> Option<Region> {
            None
        }
        pub(crate) fn base(&self) -> usize {
            match *self {}
        }
        pub(crate) fn size(&self) -> usize {
            match *self {}
        }
        pub(crate) fn run<R>(&mut self, _f: impl FnOnce() -> R) -> R {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_part_follows_the_call_depth_or_the_memory_limit() {
        let default = Sizes::for_limits(&Limits::default(), true);
        assert_eq!(default.calls, 256 * CALL_STACK_PER_LEVEL);
        let unlimited_calls = Limits::default()
            .with_memory_bytes(8 << 20)
            .without_call_depth_limit();
        assert_eq!(Sizes::for_limits(&unlimited_calls, true).calls, 8 << 20);
        assert_eq!(
            Sizes::for_limits(&Limits::unlimited(), true).calls,
            MAX_CALL_STACK
        );
    }

    #[test]
    fn data_reserve_scales_with_the_limits_and_is_clamped() {
        let limits = Limits::default();
        assert_eq!(data_reserve(&limits, true), 512 << 20);
        assert_eq!(
            data_reserve(&limits, false),
            MAX_DATA_STACK,
            "100M operations"
        );
        let few_ops = limits.with_operations(1_000_000);
        assert_eq!(data_reserve(&few_ops, false), 1 << 30, "16 x 64 MiB");
        assert_eq!(
            data_reserve(&limits.with_memory_bytes(1024), true),
            MIN_DATA_STACK
        );
        assert_eq!(data_reserve(&Limits::unlimited(), true), MAX_DATA_STACK);
        assert_eq!(data_reserve(&Limits::unlimited(), false), MAX_DATA_STACK);
    }

    #[cfg(unix)]
    #[test]
    fn deep_recursion_fits_on_the_eval_stack_and_pages_are_reclaimed() {
        fn depth(n: u64) -> u64 {
            let pad = std::hint::black_box([n; 16]);
            if n == 0 { 0 } else { 1 + depth(pad[0] - 1) }
        }
        let sizes = Sizes {
            calls: MIN_CALL_STACK,
            data: MIN_DATA_STACK,
        };
        // Mapped on the thread's first eval, where it can be.
        run(sizes, false, |_| ());
        if !thread_has_stack() {
            return;
        }
        // ~200 bytes a level: 50 000 levels need ~10 MiB, far more than a
        // test thread's 2 MiB.
        let got = run(sizes, false, |floor| {
            assert!(budget::stack_address() > floor);
            depth(50_000)
        });
        assert_eq!(got, 50_000);
        // A panic on the stack comes back as a panic.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(sizes, false, |_| panic!("boom"))
        }));
        assert!(caught.is_err());
        // A larger request grows the stack.
        let bigger = Sizes {
            calls: 2 * MIN_CALL_STACK,
            ..sizes
        };
        assert_eq!(run(bigger, false, |_| 7), 7);
        assert!(thread_has_stack(), "given back after a panic and a growth");
        // A nested eval runs on a stack of its own: the outer one is in use.
        let nested = run(sizes, false, |outer_floor| {
            assert!(!thread_has_stack());
            run(sizes, false, |inner_floor| {
                assert_ne!(outer_floor, inner_floor);
                depth(50_000)
            })
        });
        assert_eq!(nested, 50_000);
        assert!(thread_has_stack());
    }
}
