//! Builds the configured `rhai::Engine` of one compiled script: sandbox,
//! user configuration, then polyscript's limits.

use std::time::Instant;

use polyscript_core::{Limits, ScriptId};
use rhai::Dynamic;
use rhai::module_resolvers::DummyModuleResolver;

use crate::budget;
use crate::builder::Options;

/// Bytes one array element costs: a `Dynamic`.
pub(crate) const ARRAY_ELEMENT_BYTES: u64 = size_of::<Dynamic>() as u64;
/// Bytes one object-map entry costs, roughly: the `Dynamic` value, the key
/// (an inline/heap small string) and the B-tree node share.
pub(crate) const MAP_ENTRY_BYTES: u64 = 64;

/// rhai's size limits derived from `Limits::memory_bytes` (`0` means no limit
/// to rhai, so a limit is always at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SizeLimits {
    /// Longest string, in bytes.
    pub(crate) string_bytes: usize,
    /// Most array (or BLOB) elements, nested arrays included.
    pub(crate) array_elements: usize,
    /// Most object-map entries, nested maps included.
    pub(crate) map_entries: usize,
}

impl SizeLimits {
    /// The mapping documented in the crate docs: a string may take the whole
    /// budget, an array as many `Dynamic`s as fit in it, a map as many entries.
    pub(crate) fn from_memory_bytes(memory_bytes: Option<u64>) -> SizeLimits {
        let Some(bytes) = memory_bytes else {
            return SizeLimits {
                string_bytes: 0,
                array_elements: 0,
                map_entries: 0,
            };
        };
        let cap = |n: u64| usize::try_from(n.max(1)).unwrap_or(usize::MAX);
        SizeLimits {
            string_bytes: cap(bytes),
            array_elements: cap(bytes / ARRAY_ELEMENT_BYTES),
            map_entries: cap(bytes / MAP_ENTRY_BYTES),
        }
    }
}

/// A `rhai::Engine` for the script `script_id`, configured from `options`
/// and limited by `limits`. Built once per compiled script (it costs a few
/// hundred microseconds), never per eval.
pub(crate) fn build_engine(
    options: &Options,
    limits: &Limits,
    script_id: ScriptId,
) -> rhai::Engine {
    let started = Instant::now();
    let mut engine = rhai::Engine::new();

    // Sandbox. rhai's standard library has no file, network, process or
    // environment functions; modules and `eval` are the remaining doors.
    match &options.module_resolver {
        Some(grant) => grant(&mut engine),
        None => {
            engine.set_module_resolver(DummyModuleResolver::new());
        }
    }
    if !options.allow_eval {
        engine.disable_symbol("eval");
    }
    let id = script_id;
    engine.on_print(move |text| {
        tracing::info!(target: "polyscript_rhai::print", script_id = %id, "{text}");
    });
    engine.on_debug(move |text, source, pos| {
        tracing::debug!(
            target: "polyscript_rhai::debug",
            script_id = %id,
            source = source.unwrap_or(""),
            line = pos.line().unwrap_or(0),
            "{text}"
        );
    });

    // Language options.
    engine.set_optimization_level(options.optimization_level);
    engine.set_strict_variables(options.strict_variables);
    engine.set_max_expr_depths(options.max_expr_depth, options.max_function_expr_depth);

    for configure in &options.configure {
        configure(&mut engine);
    }

    // Limits last, so no configuration can undo them. Wall clock,
    // cancellation: `on_progress` (see `budget`); operations: rhai's
    // `set_max_operations`, set per eval on the instance's engine. Call depth:
    // rhai's call-level limit. Memory: rhai's string/array/map size limits.
    engine.on_progress(budget::on_progress);
    engine.set_max_call_levels(limits.call_depth.map_or(usize::MAX, |d| d as usize));
    let sizes = SizeLimits::from_memory_bytes(limits.memory_bytes);
    engine.set_max_string_size(sizes.string_bytes);
    engine.set_max_array_size(sizes.array_elements);
    engine.set_max_map_size(sizes.map_entries);

    tracing::debug!(script_id = %script_id, elapsed = ?started.elapsed(), "rhai engine built");
    engine
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_bytes_map_to_rhai_sizes() {
        let none = SizeLimits::from_memory_bytes(None);
        assert_eq!(none.string_bytes, 0, "0 = unlimited in rhai");
        let eight_mib = SizeLimits::from_memory_bytes(Some(8 << 20));
        assert_eq!(eight_mib.string_bytes, 8 << 20);
        assert_eq!(eight_mib.array_elements, (8 << 20) / 16);
        assert_eq!(eight_mib.map_entries, (8 << 20) / 64);
        let tiny = SizeLimits::from_memory_bytes(Some(0));
        assert_eq!(
            (tiny.string_bytes, tiny.array_elements, tiny.map_entries),
            (1, 1, 1)
        );
    }
}
