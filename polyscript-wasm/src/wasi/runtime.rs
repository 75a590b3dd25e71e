//! The process-wide wasmtime engines, their pooling allocator, the shared
//! WASI linker, and the epoch ticker.
//!
//! There are at most two wasmtime [`Engine`]s in the process: one with fuel
//! metering and one without (fuel is an engine-wide compilation setting).
//! Every [`WasiEngine`](super::WasiEngine) uses one of them, so compiled
//! modules, the pooling allocator's slots and the epoch ticker are shared.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

use polyscript_core::{Error, Result};
use wasmtime::{Config, Engine, Linker};

use crate::pooling::MAX_LINEAR_MEMORY;

use super::state::EvalState;

/// How often the ticker advances the epoch while evals are running: the
/// granularity of timeouts and cancellation.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Instances (and linear memories, tables) that can be alive at the same
/// time per engine: the number of evals that can run concurrently.
pub const MAX_CONCURRENT_INSTANCES: u32 = 512;

/// One wasmtime engine with its linker and ticker.
pub(crate) struct Runtime {
    engine: Engine,
    linker: Linker<EvalState>,
    fuel: bool,
    /// Evals running right now; the ticker sleeps when there are none.
    active: Arc<AtomicUsize>,
    ticker: OnceLock<std::result::Result<Thread, String>>,
}

impl Runtime {
    /// The shared runtime with or without fuel metering, created on first use.
    pub(crate) fn get(fuel: bool) -> Result<&'static Runtime> {
        static PLAIN: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
        static FUELED: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
        let cell = if fuel { &FUELED } else { &PLAIN };
        cell.get_or_init(|| Runtime::new(fuel))
            .as_ref()
            .map_err(|message| Error::Unsupported {
                message: format!("cannot create the wasmtime engine: {message}"),
            })
    }

    fn new(fuel: bool) -> std::result::Result<Runtime, String> {
        let engine = match Engine::new(&config(fuel, true)) {
            Ok(engine) => engine,
            Err(err) => {
                tracing::warn!(error = %err, "pooling allocator unavailable; using on-demand allocation");
                Engine::new(&config(fuel, false)).map_err(|e| format!("{e:#}"))?
            }
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut EvalState| &mut state.wasi)
            .map_err(|e| format!("cannot link WASI preview1: {e:#}"))?;
        tracing::debug!(fuel, "wasmtime engine for WASI commands created");
        Ok(Runtime {
            engine,
            linker,
            fuel,
            active: Arc::new(AtomicUsize::new(0)),
            ticker: OnceLock::new(),
        })
    }

    /// The wasmtime engine.
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker with WASI preview1 defined, shared by every module.
    pub(crate) fn linker(&self) -> &Linker<EvalState> {
        &self.linker
    }

    /// Whether this engine meters fuel.
    pub(crate) fn fuel(&self) -> bool {
        self.fuel
    }

    /// Marks an eval as running until the returned guard drops, starting the
    /// ticker thread on first use and waking it when it sleeps.
    pub(crate) fn ticking(&self) -> Result<Ticking<'_>> {
        let ticker = self
            .ticker
            .get_or_init(|| spawn_ticker(self.engine.clone(), Arc::clone(&self.active)))
            .as_ref()
            .map_err(|message| Error::Unsupported {
                message: format!("cannot start the epoch ticker thread: {message}"),
            })?;
        if self.active.fetch_add(1, Ordering::SeqCst) == 0 {
            ticker.unpark();
        }
        Ok(Ticking {
            active: &self.active,
        })
    }
}

/// An eval in progress (see [`Runtime::ticking`]).
pub(crate) struct Ticking<'a> {
    active: &'a AtomicUsize,
}

impl Drop for Ticking<'_> {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One thread per wasmtime engine: advances the epoch every [`EPOCH_TICK`]
/// while any eval runs, and parks while none does.
fn spawn_ticker(engine: Engine, active: Arc<AtomicUsize>) -> std::result::Result<Thread, String> {
    thread::Builder::new()
        .name("polyscript-wasi-epoch".into())
        .spawn(move || {
            loop {
                if active.load(Ordering::SeqCst) == 0 {
                    thread::park_timeout(Duration::from_secs(1));
                    continue;
                }
                thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .map(|handle| handle.thread().clone())
        .map_err(|e| e.to_string())
}

fn config(fuel: bool, pooling: bool) -> Config {
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .consume_fuel(fuel)
        .memory_init_cow(true);
    if pooling {
        crate::pooling::reset_in_place(&mut config, MAX_CONCURRENT_INSTANCES, MAX_LINEAR_MEMORY);
    }
    config
}
