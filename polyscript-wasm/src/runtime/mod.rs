//! [`WasmRuntime`]: one wasmtime engine, its instance allocator, its epoch
//! ticker and its compiled-module cache, shared by every evaluator (of
//! either WASM engine) built on it.
//!
//! A service holding thousands of evaluators must not pay for an engine per
//! evaluator: each wasmtime engine with a pooling allocator reserves its slots
//! up front (address space and memory mappings), and each Extism plugin used
//! to get its own engine and its own compile of Extism's kernel. Here the
//! engine, the pool, the kernel and the ticker exist once per runtime; an
//! evaluator adds its compiled module (shared too when the bytes are the
//! same) and nothing else until it runs.

mod capacity;
mod ticker;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use polyscript_core::{EngineKind, Error, Result, ScriptId};
use wasmtime::{Config, Engine};

use crate::cache::{CompiledModule, ModuleCache};
use crate::pooling::{self, MAX_LINEAR_MEMORY};

pub(crate) use capacity::PoolFigures;
pub(crate) use ticker::{Ticking, must_stop};

/// Instances alive at once in a default runtime (see
/// [`WasmRuntimeBuilder::max_instances`]).
pub const DEFAULT_MAX_INSTANCES: u32 = 512;

/// Recently used compiled modules a runtime keeps alive (see
/// [`WasmRuntimeBuilder::retain_compiled`]).
pub const DEFAULT_RETAIN_COMPILED: usize = 8;

/// Core wasm instances one polyscript instance may take from the pool: an
/// Extism plugin is two (Extism's kernel and the module), a WASI module one.
const CORE_INSTANCES_PER_INSTANCE: u32 = 2;

/// Linear memories (and GC heaps, which wasmtime backs with pooled memories)
/// one polyscript instance may take: an Extism plugin has the kernel's
/// memory, the module's and, if its guest allocates GC objects, a GC heap
/// (Extism itself no longer takes one: vendor/PATCHES.md, extism patch 8);
/// a WASI module one memory.
const MEMORIES_PER_INSTANCE: u32 = 3;

/// How a runtime allocates instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Allocation {
    /// Slots reserved up front and reset in place between instances (with
    /// explicit bounds checks instead of guard pages): instantiation makes no
    /// `mmap`/`mprotect`/`madvise` call, so evals on several threads do not
    /// stall each other. The default, and what fresh-instance evals want.
    Pooling,
    /// wasmtime's default allocator: each instance maps its own memory with
    /// guard pages (no bounds checks in the guest's code). Suits instances
    /// that live long ([`InstancePolicy::Stateful`](crate::InstancePolicy)).
    OnDemand,
}

/// Which wasmtime compiler a runtime compiles modules with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Compiler {
    /// Cranelift, wasmtime's optimizing compiler (the default): the fastest
    /// guest code, the slowest compile (most of a cold start: 0.10–0.16 s
    /// for the test plugin's 124 KB in a release build, the more with the
    /// pooling allocator's explicit bounds checks).
    #[default]
    Optimizing,
    /// Winch, wasmtime's baseline compiler (x86-64): compiles about six
    /// times faster, into slower code, for processes that compile more than
    /// they run (a CLI, rarely used rules): an Extism single execution of the
    /// test plugin takes 22–24 ms instead of 156–164 ms, and each later eval
    /// about 20% longer (BENCHMARKS.md, "Seventeenth session"). It needs
    /// guard pages (memory slots are protected again on reuse, which costs
    /// instantiation more on busy threads) and does not support the GC,
    /// function-references and tail-call proposals: a module using them does
    /// not compile on it. Extism plugins run on it with a kernel whose
    /// host-context global is an `i32` instead of an `externref`
    /// (vendor/PATCHES.md, extism patch 9), which polyscript never uses.
    Baseline,
}

/// What a runtime was built with (readable through [`WasmRuntime::settings`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RuntimeSettings {
    /// The compiler.
    pub compiler: Compiler,
    /// Whether guests are metered with fuel (needed for
    /// [`Limits::operations`](polyscript_core::Limits::operations)).
    pub fuel: bool,
    /// How instances are allocated.
    pub allocation: Allocation,
    /// Instances alive at once (pooling only).
    pub max_instances: u32,
    /// The largest linear memory any instance may have, in bytes.
    pub max_memory_bytes: u64,
    /// Whether memories are initialised copy-on-write from an image of the
    /// module's data (one memory file descriptor per module).
    pub copy_on_write: bool,
    /// Where compiled modules are kept between processes, if anywhere.
    pub cache_dir: Option<PathBuf>,
    /// How many recently used compiled modules stay alive in the process
    /// after their last evaluator is dropped.
    pub retain_compiled: usize,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            compiler: Compiler::Optimizing,
            fuel: false,
            allocation: Allocation::Pooling,
            max_instances: DEFAULT_MAX_INSTANCES,
            max_memory_bytes: MAX_LINEAR_MEMORY as u64,
            copy_on_write: true,
            cache_dir: None,
            retain_compiled: DEFAULT_RETAIN_COMPILED,
        }
    }
}

/// A shared wasmtime engine with its instance allocator, epoch ticker and
/// compiled-module cache. Cheap to clone (an `Arc`).
///
/// Every evaluator built on one runtime shares its engine and pool: a
/// process holding 10 000 WASM evaluators costs one pool, and each evaluator
/// adds only its compiled module (shared with every evaluator of the same
/// bytes). Without [`ExtismEngineBuilder::runtime`](crate::ExtismEngineBuilder::runtime)
/// / [`WasiEngineBuilder::runtime`](crate::WasiEngineBuilder::runtime), an
/// engine uses the process-wide default runtime for its fuel setting and
/// instance policy ([`WasmRuntime::shared`] for Extism,
/// [`WasmRuntime::shared_wasi`] for WASI).
///
/// ```
/// use polyscript_wasm::{ExtismEngine, WasiEngine, WasmRuntime};
///
/// // One pool of 2 000 instance slots for every tenant's plugin, metered.
/// let runtime = WasmRuntime::builder().fuel(true).max_instances(2_000).build()?;
/// let extism = ExtismEngine::builder().runtime(runtime.clone()).fuel(true).build();
/// let wasi = WasiEngine::builder().runtime(runtime).build();
/// # Ok::<(), polyscript_core::Error>(())
/// ```
#[derive(Clone)]
pub struct WasmRuntime {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    engine: Engine,
    settings: RuntimeSettings,
    /// Whether the pooling allocator is really in use (it falls back to
    /// on-demand allocation where the address space cannot be reserved).
    pooled: bool,
    ticker: ticker::Ticker,
    pub(crate) modules: ModuleCache,
    /// Extism's kernel, compiled on this engine once.
    #[cfg(feature = "extism")]
    kernel: OnceLock<std::result::Result<Arc<CompiledModule>, String>>,
    /// The WASI preview1 linker (with polyscript's host ABI), built once.
    #[cfg(feature = "wasi")]
    pub(crate) wasi_linker: OnceLock<std::result::Result<crate::wasi::Linking, String>>,
}

impl std::fmt::Debug for WasmRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmRuntime")
            .field("settings", &self.inner.settings)
            .field("pooled", &self.inner.pooled)
            .finish_non_exhaustive()
    }
}

impl WasmRuntime {
    /// Starts configuring a runtime.
    pub fn builder() -> WasmRuntimeBuilder {
        WasmRuntimeBuilder::default()
    }

    /// The process-wide runtime with or without fuel, with the pooling or the
    /// on-demand allocator, and the default sizes: what engines use unless
    /// given a runtime. Created on first use and kept for the process.
    pub fn shared(fuel: bool, allocation: Allocation) -> Result<WasmRuntime> {
        static CELLS: [SharedCell; 4] = [const { OnceLock::new() }; 4];
        let index = usize::from(fuel) * 2 + usize::from(allocation == Allocation::OnDemand);
        shared_in(&CELLS[index], || {
            WasmRuntime::builder().fuel(fuel).allocation(allocation)
        })
    }

    /// The process-wide runtime WASI engines use unless given one: pooled,
    /// with or without fuel, and with [`copy_on_write`](WasmRuntimeBuilder::copy_on_write)
    /// off. Separate from [`shared`](Self::shared) (which Extism engines use)
    /// because the best memory initialisation differs: a WASI module is
    /// instantiated on every eval, and with thousands of distinct modules a
    /// pooled memory slot almost never last held the same module, so a
    /// copy-on-write image would be unmapped and mapped anew (two `mmap`s and
    /// page faults) on nearly every eval, and keep one open file per module.
    /// Copying the (typically small) data segments into a slot whose pages
    /// stay resident is cheaper there, and no slower hot. A WASI module with
    /// megabytes of data segments may do better on a runtime built with
    /// copy-on-write on, given with [`WasiEngineBuilder::runtime`](crate::WasiEngineBuilder::runtime).
    /// Created on first use and kept for the process.
    pub fn shared_wasi(fuel: bool) -> Result<WasmRuntime> {
        static CELLS: [SharedCell; 2] = [const { OnceLock::new() }; 2];
        shared_in(&CELLS[usize::from(fuel)], || {
            WasmRuntime::builder().fuel(fuel).copy_on_write(false)
        })
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.inner.settings
    }

    /// Whether instances come from the pooling allocator (`false` when the
    /// settings ask for on-demand allocation, or when the pool's address
    /// space could not be reserved and the runtime fell back to it).
    pub fn is_pooled(&self) -> bool {
        self.inner.pooled
    }

    /// The wasmtime engine (for code using wasmtime's own API on it).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Whether `a` and `b` are the same runtime.
    pub fn same(a: &WasmRuntime, b: &WasmRuntime) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// Compiled modules alive in this runtime's in-process cache.
    pub fn cached_modules(&self) -> usize {
        self.inner.modules.live()
    }

    /// The counters of this runtime's compiled-module cache.
    pub fn cache_stats(&self) -> crate::CacheStats {
        self.inner.modules.stats()
    }

    /// Pool usage now: (core instances, memories) in use; `None` without the
    /// pooling allocator.
    pub fn pool_usage(&self) -> Option<(u64, usize)> {
        let metrics = self.inner.engine.pooling_allocator_metrics()?;
        Some((metrics.core_instances(), metrics.memories()))
    }

    pub(crate) fn ticking(&self) -> Result<Ticking<'_>> {
        self.inner.ticker.ticking()
    }

    /// Compiles `bytes` (binary or text), or returns the module already
    /// compiled from the same bytes on this runtime (in this process or,
    /// with a cache directory, an earlier one).
    pub(crate) fn compile(
        &self,
        bytes: &[u8],
        engine: EngineKind,
        script_id: ScriptId,
    ) -> Result<Arc<CompiledModule>> {
        self.inner
            .modules
            .get_or_compile(
                &self.inner.engine,
                self.inner.settings.cache_dir.as_deref(),
                bytes,
            )
            .map_err(|message| Error::Compile {
                engine,
                script_id,
                message,
                location: None,
            })
    }

    /// Extism's kernel compiled on this runtime's engine (once). Winch
    /// compiles no reference types, so a baseline runtime gets the kernel
    /// whose host-context global is an `i32` (vendor/PATCHES.md, extism
    /// patch 9); polyscript never passes a host context.
    #[cfg(feature = "extism")]
    pub(crate) fn kernel(&self) -> Result<Arc<CompiledModule>> {
        self.inner
            .kernel
            .get_or_init(|| {
                let kernel = match self.inner.settings.compiler {
                    Compiler::Optimizing => extism::kernel_wasm(),
                    Compiler::Baseline => extism::kernel_wasm_without_host_context(),
                };
                self.inner.modules.get_or_compile(
                    &self.inner.engine,
                    self.inner.settings.cache_dir.as_deref(),
                    kernel,
                )
            })
            .clone()
            .map_err(|message| Error::Unsupported {
                message: format!("cannot compile Extism's kernel: {message}"),
            })
    }

    #[cfg(feature = "wasi")]
    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The capacity error for `chain` if it says this runtime ran out of
    /// something (see [`Capacity`]), naming the setting to change.
    pub(crate) fn capacity_message<'a>(
        &self,
        chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>,
        detail: &str,
    ) -> Option<String> {
        let capacity = capacity::classify(chain)?;
        let figures = self
            .inner
            .engine
            .pooling_allocator_metrics()
            .map(|m| PoolFigures {
                max_instances: self.inner.settings.max_instances,
                core_instances: m.core_instances(),
                memories: m.memories(),
            });
        Some(capacity::message(capacity, figures, detail))
    }
}

/// Configures a [`WasmRuntime`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct WasmRuntimeBuilder {
    settings: RuntimeSettings,
}

impl WasmRuntimeBuilder {
    /// Meters guests with fuel (default off). Fuel is compiled into the
    /// guest's code, so it is a property of the runtime: an engine asking
    /// for fuel needs a runtime with fuel.
    pub fn fuel(mut self, enabled: bool) -> Self {
        self.settings.fuel = enabled;
        self
    }

    /// The compiler (default [`Compiler::Optimizing`]).
    pub fn compiler(mut self, compiler: Compiler) -> Self {
        self.settings.compiler = compiler;
        self
    }

    /// Pooling (default) or on-demand allocation.
    pub fn allocation(mut self, allocation: Allocation) -> Self {
        self.settings.allocation = allocation;
        self
    }

    /// With pooling: how many instances may be alive at once across every
    /// evaluator on this runtime (default [`DEFAULT_MAX_INSTANCES`]). A
    /// fresh-instance eval holds one while it runs; a stateful pooled
    /// instance holds one while it lives. Each reserves up to two core
    /// instances and three memory slots of
    /// [`max_memory_bytes`](Self::max_memory_bytes) of address space (not
    /// memory). Running out is `LimitExceeded(Memory)` naming this setting.
    pub fn max_instances(mut self, instances: u32) -> Self {
        self.settings.max_instances = instances.max(1);
        self
    }

    /// The largest linear memory an instance may have (default 4 GiB, the
    /// whole 32-bit space): the size of each pooled memory slot. A memory
    /// limit above it is capped at it.
    pub fn max_memory_bytes(mut self, bytes: u64) -> Self {
        self.settings.max_memory_bytes = bytes.clamp(65_536, MAX_LINEAR_MEMORY as u64);
        self
    }

    /// Copy-on-write memory images (default on; off in the WASI engines'
    /// default runtime, [`WasmRuntime::shared_wasi`]): instantiation maps the
    /// module's data instead of copying it, at the cost of one open memory
    /// file per module with data segments, and of remapping a pooled memory
    /// slot whenever it last held another module's image. Off copies the
    /// data segments into the slot on each instantiation instead: better for
    /// thousands of distinct modules instantiated in turn (measured in
    /// BENCHMARKS.md, "Sixteenth session") and for a low open-file limit; on is
    /// better for a few modules with large data segments.
    pub fn copy_on_write(mut self, enabled: bool) -> Self {
        self.settings.copy_on_write = enabled;
        self
    }

    /// Keeps compiled modules in `dir` (created if missing) so that a later
    /// process compiling the same bytes on a runtime with the same settings
    /// loads them instead (default: no directory; compiled modules are shared
    /// within the process only). Each file is checksummed; a corrupt,
    /// truncated or stale one is recompiled and replaced, never loaded as is.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.cache_dir = Some(dir.into());
        self
    }

    /// How many of the most recently used compiled modules stay alive after
    /// their last evaluator is dropped (default [`DEFAULT_RETAIN_COMPILED`];
    /// 0: a module lives exactly as long as its evaluators). Building an
    /// evaluator of one of them again then costs a hash lookup instead of a
    /// compile.
    pub fn retain_compiled(mut self, modules: usize) -> Self {
        self.settings.retain_compiled = modules;
        self
    }

    /// Creates the engine (and reserves the pool's address space). Where the
    /// reservation is refused (e.g. under a tight `ulimit -v`) the runtime
    /// falls back to on-demand allocation ([`WasmRuntime::is_pooled`]).
    pub fn build(self) -> Result<WasmRuntime> {
        let settings = self.settings;
        if let Some(dir) = &settings.cache_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::load(
                    dir.display(),
                    format!("cannot create the module cache directory: {e}"),
                )
            })?;
        }
        let want_pool = settings.allocation == Allocation::Pooling;
        let (engine, pooled) = match Engine::new(&config(&settings, want_pool)) {
            Ok(engine) => (engine, want_pool),
            Err(err) if want_pool => {
                tracing::warn!(error = %format!("{err:#}"), "WASM pooling allocator unavailable; using on-demand allocation");
                let engine =
                    Engine::new(&config(&settings, false)).map_err(|e| Error::Unsupported {
                        message: format!("cannot create the wasmtime engine: {e:#}"),
                    })?;
                (engine, false)
            }
            Err(err) => {
                return Err(Error::Unsupported {
                    message: format!("cannot create the wasmtime engine: {err:#}"),
                });
            }
        };
        tracing::debug!(?settings, pooled, "WASM runtime created");
        let modules = ModuleCache::new(settings.retain_compiled);
        Ok(WasmRuntime {
            inner: Arc::new(Inner {
                ticker: ticker::Ticker::new(engine.clone()),
                engine,
                settings,
                pooled,
                modules,
                #[cfg(feature = "extism")]
                kernel: OnceLock::new(),
                #[cfg(feature = "wasi")]
                wasi_linker: OnceLock::new(),
            }),
        })
    }
}

/// A process-wide runtime, or why it could not be built (kept as text: the
/// error is reported to every engine that asks).
type SharedCell = OnceLock<std::result::Result<WasmRuntime, String>>;

/// The runtime in `cell`, built from `settings` on first use.
fn shared_in(
    cell: &'static SharedCell,
    settings: impl FnOnce() -> WasmRuntimeBuilder,
) -> Result<WasmRuntime> {
    cell.get_or_init(|| settings().build().map_err(|e| e.to_string()))
        .clone()
        .map_err(|message| Error::Unsupported { message })
}

/// The wasmtime config both engines' modules are compiled with. One config
/// for Extism plugins and WASI modules, so one runtime can serve both:
/// Extism needs epoch interruption, tail calls, function references and GC
/// (what `extism::CompiledPlugin::new` enables); WASI shared memories need
/// threads.
fn config(settings: &RuntimeSettings, pooling: bool) -> Config {
    let mut config = Config::new();
    let optimizing = settings.compiler == Compiler::Optimizing;
    config
        .epoch_interruption(true)
        .consume_fuel(settings.fuel)
        .memory_init_cow(settings.copy_on_write)
        .wasm_threads(true)
        .shared_memory(true);
    if optimizing {
        config
            .wasm_tail_call(true)
            .wasm_function_references(true)
            .wasm_gc(true);
    } else {
        // Winch compiles none of these proposals.
        config
            .strategy(wasmtime::Strategy::Winch)
            .wasm_tail_call(false)
            .wasm_function_references(false)
            .wasm_gc(false);
    }
    let max_memory = usize::try_from(settings.max_memory_bytes).unwrap_or(MAX_LINEAR_MEMORY);
    if pooling {
        pooling::reset_in_place(
            &mut config,
            // Winch relies on guard pages for its bounds checks.
            optimizing,
            pooling::Slots {
                core_instances: settings
                    .max_instances
                    .saturating_mul(CORE_INSTANCES_PER_INSTANCE),
                memories: settings.max_instances.saturating_mul(MEMORIES_PER_INSTANCE),
                tables: settings
                    .max_instances
                    .saturating_mul(CORE_INSTANCES_PER_INSTANCE),
                gc_heaps: settings.max_instances,
            },
            max_memory,
        );
    }
    config
}
