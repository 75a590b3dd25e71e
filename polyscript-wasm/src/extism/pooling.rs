//! The wasmtime configuration every compiled Extism plugin gets: a pooling
//! instance allocator whose slots are reset in place.
//!
//! Extism gives each [`CompiledPlugin`](extism::CompiledPlugin) its own
//! wasmtime engine. With wasmtime's default (on-demand) allocator every new
//! plugin instance mapped fresh linear memories, the Extism kernel's
//! `memory.fill` then page-faulted them in, and dropping the store unmapped
//! them again: ≈1.7 ms per fresh-instance eval, most of it in the kernel's
//! page-fault and `munmap` paths, which also serialise threads on the
//! process's memory-map lock. Pooled slots keep their first
//! [`KEEP_RESIDENT_BYTES`] resident and are reset with `memset`, and explicit
//! bounds checks (instead of guard pages and signal handlers) mean no
//! `mprotect` per instance either: ≈0.22 ms per fresh-instance eval.

use wasmtime::{Config, Enabled, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Core wasm instances of one compiled plugin that can be alive at once. An
/// Extism plugin instance is two (Extism's kernel and the module), so this
/// allows 128 live instances of one evaluator: far above the default pool
/// size (2 × cores). Slots are reserved address space, not memory.
pub const MAX_CORE_INSTANCES_PER_PLUGIN: u32 = 256;

/// Bytes of each pooled linear memory (and table) reset with `memset` and
/// kept resident when an instance ends, instead of being returned to the
/// kernel with `madvise`.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Largest linear memory when no page limit applies: the whole 32-bit space.
const MAX_LINEAR_MEMORY: usize = 4 << 30;

/// The config for one compiled plugin whose linear memories are capped at
/// `max_pages` 64 KiB pages (the pool reserves that much address space per
/// slot; `None` reserves 4 GiB).
pub(crate) fn config(max_pages: Option<u32>) -> Config {
    let max_memory = max_pages.map_or(MAX_LINEAR_MEMORY, |pages| {
        usize::try_from(pages)
            .unwrap_or(usize::MAX)
            .saturating_mul(65_536)
            .min(MAX_LINEAR_MEMORY)
    });
    let mut config = Config::new();
    config
        .signals_based_traps(false)
        .memory_guard_size(0)
        .memory_reservation(max_memory as u64);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(MAX_CORE_INSTANCES_PER_PLUGIN)
        .total_memories(MAX_CORE_INSTANCES_PER_PLUGIN)
        .total_tables(MAX_CORE_INSTANCES_PER_PLUGIN)
        .total_gc_heaps(MAX_CORE_INSTANCES_PER_PLUGIN)
        .total_component_instances(0)
        .max_memory_size(max_memory)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}
