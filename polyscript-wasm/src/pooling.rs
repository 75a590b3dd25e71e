//! The pooling allocator settings of a [`WasmRuntime`](crate::WasmRuntime):
//! slots reset in place, and explicit bounds checks.
//!
//! Both engines make instances per eval (WASI always, Extism with the fresh
//! policy). With guard pages and `madvise` resets, every instance ended with
//! `mprotect` / `madvise` calls; each one takes the process's memory-map
//! lock and shoots down TLB entries on every core, so a second eval thread
//! made evals slower. Measured on the greeting: WASI 48 → 7.6 µs per eval
//! (two threads 0.5× → 1.8× the throughput of one); an Extism fresh-instance
//! eval 1.7 → 0.22 ms (the Extism kernel's `memory.fill` had page-faulted
//! freshly mapped memory on every instance). The price is a bounds check per
//! memory access in compute-heavy guests.

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Bytes of each pooled linear memory (and table) reset with `memset` and
/// kept resident when an instance ends, instead of being returned to the
/// kernel with `madvise`.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Largest linear memory a slot can hold: the whole 32-bit space.
pub(crate) const MAX_LINEAR_MEMORY: usize = 4 << 30;

/// How many of each pooled thing can be alive at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slots {
    pub(crate) core_instances: u32,
    pub(crate) memories: u32,
    pub(crate) tables: u32,
    pub(crate) gc_heaps: u32,
}

/// Sets `config` up for a pool of `slots`, each memory at most `max_memory`
/// bytes (address space reserved up front, not memory), reset in place;
/// with `explicit_bounds`, bounds are checked by the compiled code instead
/// of guard pages (which the baseline compiler needs).
pub(crate) fn reset_in_place(
    config: &mut Config,
    explicit_bounds: bool,
    slots: Slots,
    max_memory: usize,
) {
    let max_memory = max_memory.min(MAX_LINEAR_MEMORY);
    if explicit_bounds {
        // No guard pages: the pool would otherwise `mprotect` a grown memory
        // back on every reuse of its slot.
        config.signals_based_traps(false).memory_guard_size(0);
    }
    config.memory_reservation(max_memory as u64);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(slots.core_instances)
        .total_memories(slots.memories)
        .total_tables(slots.tables)
        .total_gc_heaps(slots.gc_heaps)
        .total_component_instances(0)
        // Execution stacks are for async stores, which polyscript does not
        // use; wasmtime still reserves them when its `async` feature is
        // compiled in: 1 000 stacks of 2 MiB with a guard page each, two
        // thousand memory mappings per pooled engine (what made every
        // Extism evaluator cost ~2 000 mappings when each had its engine).
        .total_stacks(0)
        .max_memory_size(max_memory)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
}
