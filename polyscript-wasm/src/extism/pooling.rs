//! The wasmtime configuration every compiled Extism plugin gets (Extism gives
//! each [`CompiledPlugin`](extism::CompiledPlugin) its own wasmtime engine):
//! see [`crate::pooling`].

use wasmtime::Config;

use crate::pooling::{MAX_LINEAR_MEMORY, reset_in_place};

/// Core wasm instances of one compiled plugin that can be alive at once under
/// [`InstancePolicy::Fresh`](crate::InstancePolicy::Fresh). An Extism plugin
/// instance is two (Extism's kernel and the module), so this allows 128 live
/// instances of one evaluator: far above the default pool size (2 × cores).
/// Slots are reserved address space, not memory. Stateful plugins use
/// wasmtime's default allocator and have no such cap.
pub const MAX_CORE_INSTANCES_PER_PLUGIN: u32 = 256;

/// The config for one compiled plugin whose linear memories are capped at
/// `max_pages` 64 KiB pages (`None`: 4 GiB).
pub(crate) fn config(max_pages: Option<u32>) -> Config {
    let max_memory = max_pages.map_or(MAX_LINEAR_MEMORY, |pages| {
        usize::try_from(pages)
            .unwrap_or(usize::MAX)
            .saturating_mul(65_536)
    });
    let mut config = Config::new();
    reset_in_place(&mut config, MAX_CORE_INSTANCES_PER_PLUGIN, max_memory);
    config
}
