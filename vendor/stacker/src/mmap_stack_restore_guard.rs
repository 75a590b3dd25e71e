use crate::{get_stack_limit, set_stack_limit};
use std::cell::Cell;

// polyscript patch: a grown stack is kept by the thread and reused by its
// next `grow` (upstream maps a new segment for every call and unmaps it on
// return). Mapping, protecting and unmapping a segment, and the page faults
// of touching its fresh pages again, cost tens of microseconds per call:
// more than the work itself for the small parses and walks polyscript runs
// on a grown stack many times per second. A segment that a deep call used
// beyond its top `KEEP_RESIDENT` bytes gives the pages below back to the OS
// when it is put aside, so what a thread keeps resident stays small.

/// polyscript patch: bytes at the top of a kept segment that stay resident
/// between uses; deeper pages are discarded after a call that touched them.
const KEEP_RESIDENT: usize = 256 * 1024;

/// polyscript patch: a byte pattern no stack frame writes by chance, just
/// below the top `KEEP_RESIDENT` bytes: overwritten means the call went
/// deeper.
const CANARY: [u64; 8] = [0x5CA1_AB1E_0DDB_A11C; 8];

/// polyscript patch: a mapped stack segment with a guard page at each end.
struct Segment {
    mapping: *mut u8,
    size_with_guard: usize,
    page_size: usize,
}

thread_local! {
    /// polyscript patch: the segment this thread's last `grow` used, while
    /// no `grow` uses it.
    static SPARE: Cell<Option<Segment>> = const { Cell::new(None) };
}

impl Segment {
    fn map(requested_size: usize) -> Segment {
        // For maximum portability we want to produce a stack that is aligned to a page and has
        // a size that’s a multiple of page size. It is natural to use mmap to allocate
        // these pages. Furthermore, we want to allocate two extras pages for the stack guard.
        // To achieve that we do our calculations in number of pages and convert to bytes last.
        let page_size = page_size();
        let size_with_guard = size_with_guard(requested_size, page_size);

        unsafe {
            let new_stack = libc::mmap(
                std::ptr::null_mut(),
                size_with_guard,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANON,
                -1, // Some implementations assert fd = -1 if MAP_ANON is specified
                0,
            );
            assert_ne!(
                new_stack,
                libc::MAP_FAILED,
                "mmap failed to allocate stack: {}",
                std::io::Error::last_os_error()
            );
            let segment = Segment {
                mapping: new_stack as *mut u8,
                page_size,
                size_with_guard,
            };
            // We leave two guard pages without read/write access in our allocation.
            // There is one guard page below the stack and another above it.
            let above_guard_page = new_stack.add(page_size);
            #[cfg(not(target_os = "openbsd"))]
            let result = libc::mprotect(
                above_guard_page,
                size_with_guard - 2 * page_size,
                libc::PROT_READ | libc::PROT_WRITE,
            );
            #[cfg(target_os = "openbsd")]
            let result = if libc::mmap(
                above_guard_page,
                size_with_guard - 2 * page_size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANON | libc::MAP_STACK,
                -1,
                0,
            ) == above_guard_page
            {
                0
            } else {
                -1
            };
            assert_ne!(
                result,
                -1,
                "mprotect/mmap failed: {}",
                std::io::Error::last_os_error()
            );
            segment.write_canary();
            segment
        }
    }

    fn stack_area(&self) -> (*mut u8, usize) {
        unsafe {
            (
                self.mapping.add(self.page_size),
                self.size_with_guard - 2 * self.page_size,
            )
        }
    }

    /// Where the canary goes, if the segment is larger than what it keeps
    /// resident.
    fn canary(&self) -> Option<*mut [u64; 8]> {
        let (base, size) = self.stack_area();
        let below_top = KEEP_RESIDENT + std::mem::size_of::<[u64; 8]>();
        if size <= below_top + self.page_size {
            return None;
        }
        Some(unsafe { base.add(size - below_top) } as *mut [u64; 8])
    }

    fn write_canary(&self) {
        if let Some(canary) = self.canary() {
            // Inside the usable area, not in use by any frame.
            unsafe { canary.write_volatile(CANARY) };
        }
    }

    /// Gives back the pages below the top `KEEP_RESIDENT` bytes if a call
    /// went deeper (they read as zero if touched again).
    fn reclaim(&self) {
        let Some(canary) = self.canary() else {
            return;
        };
        if unsafe { canary.read_volatile() } == CANARY {
            return;
        }
        let (base, _) = self.stack_area();
        // The whole pages below the canary's page.
        let below = (canary as usize & !(self.page_size - 1)) - base as usize;
        unsafe {
            libc::madvise(base as *mut libc::c_void, below, libc::MADV_DONTNEED);
        }
        self.write_canary();
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        unsafe {
            // FIXME: check the error code and decide what to do with it.
            // Perhaps a debug_assertion?
            libc::munmap(self.mapping as *mut std::ffi::c_void, self.size_with_guard);
        }
    }
}

pub struct StackRestoreGuard {
    segment: Option<Segment>,
    old_stack_limit: Option<usize>,
}

impl StackRestoreGuard {
    pub fn new(requested_size: usize) -> StackRestoreGuard {
        let needed = size_with_guard(requested_size, page_size());
        // polyscript patch: the thread's spare segment when it is big enough.
        let spare = SPARE.try_with(Cell::take).ok().flatten();
        let segment = match spare {
            Some(spare) if spare.size_with_guard >= needed => spare,
            _ => Segment::map(requested_size),
        };
        StackRestoreGuard {
            segment: Some(segment),
            old_stack_limit: get_stack_limit(),
        }
    }

    // TODO this should return a *mut [u8], but pointer slices only got proper support with Rust 1.79.
    pub fn stack_area(&self) -> (*mut u8, usize) {
        self.segment
            .as_ref()
            .expect("a guard holds its segment until dropped")
            .stack_area()
    }
}

impl Drop for StackRestoreGuard {
    fn drop(&mut self) {
        if let Some(segment) = self.segment.take() {
            // polyscript patch: put aside for the thread's next `grow`,
            // keeping the larger if a nested `grow` left one there (the other
            // is unmapped; so is this one if the thread is exiting).
            segment.reclaim();
            let _ = SPARE.try_with(move |slot| {
                let keep = match slot.take() {
                    Some(other) if other.size_with_guard > segment.size_with_guard => other,
                    _ => segment,
                };
                slot.set(Some(keep));
            });
        }
        set_stack_limit(self.old_stack_limit);
    }
}

/// The mapping for a usable stack of at least `requested_size` bytes: whole
/// pages, plus a guard page at each end.
fn size_with_guard(requested_size: usize, page_size: usize) -> usize {
    let requested_pages = requested_size
        .checked_add(page_size - 1)
        .expect("unreasonably large stack requested")
        / page_size;
    let page_count_with_guard = std::cmp::max(1, requested_pages) + 2;
    page_count_with_guard
        .checked_mul(page_size)
        .expect("unreasonably large stack requested")
}

fn page_size() -> usize {
    // FIXME: consider caching the page size.
    unsafe { libc::sysconf(libc::_SC_PAGE_SIZE) as usize }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_stack_area() {
        for stack_size_kb in 1..64 {
            let size = stack_size_kb * 1024;
            let stack = StackRestoreGuard::new(size);
            let (mut ptr, actual_size) = stack.stack_area();
            for _ in 0..actual_size {
                unsafe {
                    core::ptr::write_volatile(ptr, 0b10101011);
                    ptr = ptr.add(1)
                }
            }
            assert!(actual_size >= size.div_ceil(page_size()) * page_size())
        }
    }
}
