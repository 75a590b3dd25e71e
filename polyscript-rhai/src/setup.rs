//! Builds the configured `rhai::Engine` of one compiled script (sandbox, user
//! configuration, polyscript's hooks and built-ins), and applies one eval's
//! limits to it.

use std::time::Instant;

use polyscript_core::{Limits, ScriptId};
use std::sync::OnceLock;

use rhai::module_resolvers::DummyModuleResolver;
use rhai::packages::{Package, StandardPackage};
use rhai::{Dynamic, Module, Shared};

use crate::builder::Options;
use crate::{budget, builtins, host};

/// Bytes one array element costs: a `Dynamic`.
pub(crate) const ARRAY_ELEMENT_BYTES: u64 = size_of::<Dynamic>() as u64;
/// Bytes one object-map entry costs, roughly: the `Dynamic` value, the key
/// (an inline/heap small string) and the B-tree node share.
pub(crate) const MAP_ENTRY_BYTES: u64 = 64;

/// rhai's size limits derived from `Limits::memory_bytes` when the
/// accounting allocator is not installed (`0` means no limit to rhai, so a
/// limit is always at least 1).
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
    /// No size limits: what rhai checks nothing against.
    pub(crate) const OFF: SizeLimits = SizeLimits {
        string_bytes: 0,
        array_elements: 0,
        map_entries: 0,
    };

    /// The mapping documented in the crate docs: a string may take the whole
    /// budget, an array as many `Dynamic`s as fit in it, a map as many entries.
    pub(crate) fn from_memory_bytes(memory_bytes: Option<u64>) -> SizeLimits {
        let Some(bytes) = memory_bytes else {
            return SizeLimits::OFF;
        };
        let cap = |n: u64| usize::try_from(n.max(1)).unwrap_or(usize::MAX);
        SizeLimits {
            string_bytes: cap(bytes),
            array_elements: cap(bytes / ARRAY_ELEMENT_BYTES),
            map_entries: cap(bytes / MAP_ENTRY_BYTES),
        }
    }
}

/// The limits a `rhai::Engine` currently has, so that an eval only calls
/// rhai's setters when its limits differ from the previous eval's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EngineLimits {
    call_levels: usize,
    sizes: SizeLimits,
}

impl EngineLimits {
    /// What an engine has right after [`build_engine`].
    pub(crate) const BUILT: EngineLimits = EngineLimits {
        call_levels: usize::MAX,
        sizes: SizeLimits::OFF,
    };

    /// The rhai settings for one eval's `limits`. With a memory meter
    /// (`metered`), rhai's own size limits are off: they re-measure whole
    /// containers after every change (quadratic on real scripts) and bound
    /// each value rather than the eval's total, which the meter bounds.
    pub(crate) fn for_limits(limits: &Limits, metered: bool) -> EngineLimits {
        EngineLimits {
            // Without a call-depth limit, the stack guard still stops
            // runaway recursion (see `stack`).
            call_levels: limits.call_depth.map_or(usize::MAX, |d| d as usize),
            sizes: if metered {
                SizeLimits::OFF
            } else {
                SizeLimits::from_memory_bytes(limits.memory_bytes)
            },
        }
    }

    /// Sets `self` on `engine` if `current` (what it has) differs: a few
    /// stores, and nothing at all when the limits did not change.
    #[inline]
    pub(crate) fn apply(self, current: &mut EngineLimits, engine: &mut rhai::Engine) {
        if self == *current {
            return;
        }
        engine.set_max_call_levels(self.call_levels);
        engine.set_max_string_size(self.sizes.string_bytes);
        engine.set_max_array_size(self.sizes.array_elements);
        engine.set_max_map_size(self.sizes.map_entries);
        *current = self;
    }
}

/// How many strings an engine interns: rhai's own default, which
/// `rhai::Engine::new` sets and `new_raw` does not.
const MAX_STRINGS_INTERNED: usize = 256; // rhai::default_limits, not exported without `internals`

/// rhai's standard packages (what `rhai::Engine::new` registers), built once
/// per process and shared by every engine: building them registers some
/// thousand functions, which cost ~200 µs and ~200 KB per engine when each
/// engine built its own.
fn standard_package() -> Shared<Module> {
    static PACKAGE: OnceLock<Shared<Module>> = OnceLock::new();
    PACKAGE
        .get_or_init(|| StandardPackage::new().as_shared_module())
        .clone()
}

/// The standard package with polyscript's built-ins merged over it (a
/// built-in replaces the standard function of the same signature, as when
/// the built-ins are a module registered after the package), built once per
/// process. rhai looks a function call up in each global module in turn: one
/// module instead of two saves a hash lookup on every call that is not
/// cached (≈ 130 instructions of a greeting eval's ≈ 15 900).
fn standard_with_builtins() -> Shared<Module> {
    static MERGED: OnceLock<Shared<Module>> = OnceLock::new();
    MERGED
        .get_or_init(|| {
            let mut merged = (*standard_package()).clone();
            merged.combine_flatten((*builtins::module()).clone());
            merged.build_index();
            Shared::new(merged)
        })
        .clone()
}

/// A `rhai::Engine` configured from `options`, answering `host` inside
/// closures if `resolves_host` (see [`host::resolve_captures`]). Built once
/// per compiled script and per thread that evaluates (a few microseconds:
/// the packages are shared; see `thread_engines`), never per eval; each eval
/// then sets its own limits ([`EngineLimits::apply`]). Nothing in it belongs
/// to one script: `print` and `debug` name the script of the eval that runs.
pub(crate) fn build_engine(options: &Options, resolves_host: bool) -> rhai::Engine {
    let started = Instant::now();
    // What `rhai::Engine::new` does, with the standard packages shared
    // instead of built again; its file module resolver and its `print` and
    // `debug` to stdout are replaced below in any case.
    let mut engine = rhai::Engine::new_raw();
    engine.set_max_strings_interned(MAX_STRINGS_INTERNED);
    // Without configuration nothing can sit between the standard package
    // and polyscript's built-ins, so one module holding both serves (see
    // `standard_with_builtins`); otherwise the user's modules go between.
    let merged = options.configure.is_empty();
    engine.register_global_module(if merged {
        standard_with_builtins()
    } else {
        standard_package()
    });

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
    engine.on_print(|text| {
        let id = budget::current_script_id();
        let id = id.as_ref().map_or("", ScriptId::as_str);
        tracing::info!(target: "polyscript_rhai::print", script_id = %id, "{text}");
    });
    engine.on_debug(|text, source, pos| {
        let id = budget::current_script_id();
        let id = id.as_ref().map_or("", ScriptId::as_str);
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

    // Before the configuration, so that a resolver of the user's own wins
    // (closures then cannot capture `host`, see `host`).
    if resolves_host {
        host::resolve_captures(&mut engine);
    }

    for configure in &options.configure {
        configure(&mut engine);
    }

    // polyscript's hooks and built-ins last, so no configuration can undo
    // them. The budget (operations, deadline, cancellation, memory meter,
    // stack) is `on_progress`, so rhai's own operation counter is off (it
    // forgets what callbacks of native functions count, see `budget`).
    // The built-ins module replaces the standard functions that would
    // allocate in proportion to an argument in one step, recurse over values
    // without a stack check, or swallow a stopped script. The host module
    // binds `host` and the host functions.
    engine.on_progress(budget::on_progress);
    engine.set_max_operations(0);
    if !merged {
        engine.register_global_module(builtins::module());
    }
    options.host.install(&mut engine);
    let limits = EngineLimits::BUILT;
    engine.set_max_call_levels(limits.call_levels);
    engine.set_max_string_size(limits.sizes.string_bytes);
    engine.set_max_array_size(limits.sizes.array_elements);
    engine.set_max_map_size(limits.sizes.map_entries);

    tracing::debug!(elapsed = ?started.elapsed(), "rhai engine built");
    engine
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_bytes_map_to_rhai_sizes() {
        let none = SizeLimits::from_memory_bytes(None);
        assert_eq!(none, SizeLimits::OFF, "0 = unlimited in rhai");
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

    #[test]
    fn metered_evals_switch_rhai_size_limits_off() {
        let limits = Limits::default().with_call_depth(7);
        let metered = EngineLimits::for_limits(&limits, true);
        assert_eq!(metered.sizes, SizeLimits::OFF);
        assert_eq!(metered.call_levels, 7);
        let unmetered = EngineLimits::for_limits(&limits, false);
        assert_eq!(
            unmetered.sizes,
            SizeLimits::from_memory_bytes(Some(Limits::DEFAULT_MEMORY_BYTES))
        );

        let mut engine = rhai::Engine::new();
        let mut current = EngineLimits::BUILT;
        unmetered.apply(&mut current, &mut engine);
        assert_eq!(engine.max_call_levels(), 7);
        assert_eq!(
            engine.max_string_size(),
            Limits::DEFAULT_MEMORY_BYTES as usize
        );
        metered.apply(&mut current, &mut engine);
        assert_eq!(engine.max_string_size(), 0);
        assert_eq!(current, metered);
    }
}
