//! The compiled-module cache of a [`WasmRuntime`](crate::WasmRuntime).
//!
//! In the process: a module compiled from some bytes is shared by every
//! evaluator of the same bytes on the same runtime (the runtime fixes
//! everything that changes the compiled code: the engine's settings), for as
//! long as any of them holds it, and the last few modules compiled or asked
//! for stay alive a while longer (so building an evaluator of the same bytes
//! again, after the last one was dropped, does not compile them again). The
//! map itself keeps only weak references: with 10 000 tenants, a dropped
//! tenant's code is freed once it leaves the recent few. Two threads
//! compiling the same bytes at once compile them once (the second waits for
//! the first).
//!
//! Between processes, with a cache directory: see [`disk`].

pub(crate) mod disk;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// A module compiled on one runtime's engine.
pub(crate) struct CompiledModule {
    pub(crate) module: Module,
}

/// One key's slot: locked while its module compiles, so concurrent
/// compiles of the same bytes wait for one another.
type Slot = Arc<Mutex<Weak<CompiledModule>>>;

/// Counters of a runtime's module cache (see
/// [`WasmRuntime::cache_stats`](crate::WasmRuntime::cache_stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Modules compiled.
    pub compiled: u64,
    /// Compiles answered with a module already alive in this process.
    pub shared: u64,
    /// Modules loaded from the cache directory.
    pub loaded: u64,
    /// Cache files found corrupt, truncated or stale, and replaced.
    pub rejected: u64,
}

#[derive(Default)]
pub(crate) struct ModuleCache {
    slots: Mutex<Slots>,
    /// The most recently used modules, most recent first, kept alive.
    recent: Mutex<VecDeque<Arc<CompiledModule>>>,
    /// How many `recent` holds.
    retain: usize,
    compiled: AtomicU64,
    shared: AtomicU64,
    loaded: AtomicU64,
    rejected: AtomicU64,
    /// The engine-settings hash for cache file names, once computed.
    engine_hash: std::sync::OnceLock<[u8; 32]>,
}

#[derive(Default)]
struct Slots {
    map: HashMap<[u8; 32], Slot>,
    /// Size after the last sweep of dead entries (sweeps run when the map
    /// has doubled since, so 10 000 distinct modules cost amortised O(1)).
    swept_at: usize,
}

impl ModuleCache {
    /// A cache keeping the `retain` most recently used modules alive.
    pub(crate) fn new(retain: usize) -> Self {
        ModuleCache {
            retain,
            ..ModuleCache::default()
        }
    }

    /// The module compiled from `bytes` (WebAssembly binary or text) on
    /// `engine`: shared if alive, else loaded from `dir`, else compiled (and
    /// written to `dir`).
    pub(crate) fn get_or_compile(
        &self,
        engine: &Engine,
        dir: Option<&Path>,
        bytes: &[u8],
    ) -> Result<Arc<CompiledModule>, String> {
        let wasm = wat::parse_bytes(bytes).map_err(|e| format!("invalid WebAssembly text: {e}"))?;
        let key: [u8; 32] = Sha256::digest(&wasm).into();
        let slot = self.slot(key);
        let mut cached = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(module) = cached.upgrade() {
            self.shared.fetch_add(1, Ordering::Relaxed);
            self.keep(&module);
            return Ok(module);
        }
        let module = Arc::new(CompiledModule {
            module: self.load_or_compile(engine, dir, &key, &wasm)?,
        });
        *cached = Arc::downgrade(&module);
        drop(cached);
        self.keep(&module);
        Ok(module)
    }

    /// Puts `module` first among the recent ones.
    fn keep(&self, module: &Arc<CompiledModule>) {
        if self.retain == 0 {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = recent.iter().position(|m| Arc::ptr_eq(m, module)) {
            recent.remove(at);
        }
        recent.push_front(Arc::clone(module));
        recent.truncate(self.retain);
    }

    /// Modules alive now.
    pub(crate) fn live(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .map
            .values()
            .filter(|slot| slot.lock().map(|w| w.strong_count() > 0).unwrap_or(false))
            .count()
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            shared: self.shared.load(Ordering::Relaxed),
            loaded: self.loaded.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    fn slot(&self, key: [u8; 32]) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.map.len() >= 2 * slots.swept_at.max(64) {
            // A slot nobody else holds and whose module is gone is dead.
            slots.map.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.lock().map(|w| w.strong_count() > 0).unwrap_or(true)
            });
            slots.swept_at = slots.map.len();
        }
        Arc::clone(slots.map.entry(key).or_default())
    }

    fn load_or_compile(
        &self,
        engine: &Engine,
        dir: Option<&Path>,
        key: &[u8; 32],
        wasm: &[u8],
    ) -> Result<Module, String> {
        let Some(dir) = dir else {
            return self.compile(engine, wasm);
        };
        let engine_hash = self.engine_hash.get_or_init(|| {
            use std::hash::Hash;
            let mut hasher = disk::ShaHasher(Sha256::new());
            engine.precompile_compatibility_hash().hash(&mut hasher);
            hasher.0.update(env!("CARGO_PKG_VERSION").as_bytes());
            hasher.0.finalize().into()
        });
        let path = disk::path(dir, key, engine_hash);
        match disk::read(&path) {
            Ok(payload) => {
                // SAFETY: `payload` is byte for byte what `Module::serialize`
                // wrote for this engine's settings (its SHA-256 matched the
                // file's header); wasmtime itself rejects a payload from
                // another wasmtime version or incompatible settings.
                match unsafe { Module::deserialize(engine, &payload) } {
                    Ok(module) => {
                        self.loaded.fetch_add(1, Ordering::Relaxed);
                        return Ok(module);
                    }
                    Err(e) => {
                        self.rejected.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(path = %path.display(), error = %format!("{e:#}"), "stale module cache file; recompiling");
                    }
                }
            }
            Err(disk::Rejected::Missing) => {}
            Err(disk::Rejected::Corrupt(why)) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(path = %path.display(), %why, "corrupt module cache file; recompiling");
            }
        }
        let module = self.compile(engine, wasm)?;
        match module.serialize() {
            Ok(payload) => disk::write(&path, &payload),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot serialize the compiled module")
            }
        }
        Ok(module)
    }

    fn compile(&self, engine: &Engine, wasm: &[u8]) -> Result<Module, String> {
        let module = Module::from_binary(engine, wasm).map_err(|e| format!("{e:#}"))?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        Ok(module)
    }
}
