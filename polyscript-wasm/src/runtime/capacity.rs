//! Telling a capacity failure (the shared instance pool is full, the kernel
//! refused a memory mapping, no file descriptor left) from a guest's own
//! failure, and saying what ran out and which setting changes it.
//!
//! wasmtime reports these with its own words ("maximum concurrent limit of
//! 256 for memory stripe 0 reached"), and some surface as unrelated-looking
//! errors: a refused `mmap` during instantiation read "GC heap out of memory:
//! no capacity for allocation of 32 bytes" while the process had 390 MB
//! resident and had simply hit `vm.max_map_count`.

use std::error::Error as StdError;
use std::io;

/// What ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capacity {
    /// The runtime's pool of instance slots (instances, memories, tables or
    /// GC heaps alive at once).
    PoolSlots,
    /// The kernel refused a memory mapping (mapping count or address space).
    Mappings,
    /// No file descriptor left (copy-on-write memory images keep one each).
    FileDescriptors,
}

/// The capacity `chain` (an error and its sources, outermost first) says ran
/// out, if any.
pub(crate) fn classify<'a>(
    chain: impl IntoIterator<Item = &'a (dyn StdError + 'static)>,
) -> Option<Capacity> {
    for cause in chain {
        if cause.is::<wasmtime::PoolConcurrencyLimitError>() {
            return Some(Capacity::PoolSlots);
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.raw_os_error() {
                Some(12) => return Some(Capacity::Mappings), // ENOMEM
                Some(23 | 24) => return Some(Capacity::FileDescriptors), // ENFILE, EMFILE
                _ => {}
            }
        }
        let text = cause.to_string();
        if text.contains("maximum concurrent limit of") {
            return Some(Capacity::PoolSlots);
        }
        if text.contains("Cannot allocate memory") || text.contains("GC heap out of memory") {
            return Some(Capacity::Mappings);
        }
        if text.contains("Too many open files") {
            return Some(Capacity::FileDescriptors);
        }
    }
    None
}

/// The message for `capacity`, naming the setting to change. `detail` is the
/// original error text, kept at the end.
pub(crate) fn message(capacity: Capacity, pool: Option<PoolFigures>, detail: &str) -> String {
    match capacity {
        Capacity::PoolSlots => {
            let figures = pool.map_or_else(String::new, |p| {
                format!(
                    " ({} instance slots, {} core instances and {} memories in use)",
                    p.max_instances, p.core_instances, p.memories
                )
            });
            format!(
                "the WASM runtime's instance pool is full{figures}: every instance alive at \
                 once (a running eval, a pooled stateful instance) holds slots of the runtime \
                 its evaluators share; raise WasmRuntimeBuilder::max_instances, keep fewer \
                 instances alive, or give some evaluators their own WasmRuntime ({detail})"
            )
        }
        Capacity::Mappings => {
            let maps = mapping_count().map_or_else(String::new, |n| {
                format!(" (this process has {n} mappings")
                    + &max_map_count().map_or_else(|| ")".to_owned(), |m| format!(" of {m})"))
            });
            format!(
                "the operating system refused a memory mapping{maps}: the process reached \
                 vm.max_map_count or its address-space limit (ulimit -v); share one WasmRuntime \
                 between evaluators, lower WasmRuntimeBuilder::max_instances or \
                 max_memory_bytes, or raise the system limit ({detail})"
            )
        }
        Capacity::FileDescriptors => format!(
            "no file descriptor left: every compiled module with data segments keeps one open \
             for its copy-on-write memory image; raise the open-file limit (ulimit -n) or build \
             the runtime with WasmRuntimeBuilder::copy_on_write(false) ({detail})"
        ),
    }
}

/// The runtime's pool figures quoted in a [`Capacity::PoolSlots`] message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolFigures {
    pub(crate) max_instances: u32,
    pub(crate) core_instances: u64,
    pub(crate) memories: usize,
}

/// Lines of `/proc/self/maps` (Linux), read only on this error path.
fn mapping_count() -> Option<usize> {
    std::fs::read_to_string("/proc/self/maps")
        .ok()
        .map(|maps| maps.lines().count())
}

fn max_map_count() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("instantiation failed")
        }
    }
    impl StdError for Wrapped {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    fn chain<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
        std::iter::successors(Some(e), |e: &&'a (dyn StdError + 'static)| (*e).source()).collect()
    }

    #[test]
    fn the_cause_is_found_anywhere_in_the_chain() {
        let enomem = Wrapped(io::Error::from_raw_os_error(12));
        assert_eq!(classify(chain(&enomem)), Some(Capacity::Mappings));
        let emfile = Wrapped(io::Error::from_raw_os_error(24));
        assert_eq!(classify(chain(&emfile)), Some(Capacity::FileDescriptors));
        let other = Wrapped(io::Error::from_raw_os_error(2));
        assert_eq!(classify(chain(&other)), None);
        let gc = io::Error::other("GC heap out of memory: no capacity for allocation of 32 bytes");
        assert_eq!(classify(chain(&gc)), Some(Capacity::Mappings));
    }

    #[test]
    fn messages_name_the_setting_to_change() {
        let pool = message(Capacity::PoolSlots, None, "limit reached");
        assert!(pool.contains("WasmRuntimeBuilder::max_instances"), "{pool}");
        let maps = message(Capacity::Mappings, None, "x");
        assert!(maps.contains("vm.max_map_count"), "{maps}");
        assert!(!maps.contains("GC heap"), "{maps}");
        let fds = message(Capacity::FileDescriptors, None, "x");
        assert!(fds.contains("copy_on_write(false)"), "{fds}");
    }
}
