//! The epoch ticker of one wasmtime engine: while any eval runs, it advances
//! the engine's epoch every [`EPOCH_TICK`], and each running store's epoch
//! callback then checks its own eval's deadline and cancellation token.
//!
//! Only the store whose eval is late or cancelled traps: the epoch is shared,
//! the decision is per store. (Extism's own cancel handle bumps the epoch
//! *as* the stop signal, which interrupted every instance on the engine and
//! forced guesses about whose interrupt it was.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

use polyscript_core::clock::Instant;
use polyscript_core::{CancelToken, Error, Result};
use wasmtime::Engine;

/// How often the epoch advances while evals run: the granularity of
/// timeouts and cancellation.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(2);

/// How long the ticker sleeps between checks while no eval runs.
const IDLE_PARK: Duration = Duration::from_secs(1);

/// The ticker of one engine, started on first use.
pub(crate) struct Ticker {
    engine: Engine,
    /// Evals running right now; the ticker parks when there are none.
    active: Arc<AtomicUsize>,
    thread: OnceLock<std::result::Result<Thread, String>>,
}

impl Ticker {
    pub(crate) fn new(engine: Engine) -> Self {
        Ticker {
            engine,
            active: Arc::new(AtomicUsize::new(0)),
            thread: OnceLock::new(),
        }
    }

    /// Marks an eval as running until the returned guard drops: one atomic
    /// increment (and an unpark when the ticker was idle).
    pub(crate) fn ticking(&self) -> Result<Ticking<'_>> {
        let thread = self
            .thread
            .get_or_init(|| spawn(self.engine.clone(), Arc::clone(&self.active)))
            .as_ref()
            .map_err(|message| Error::Unsupported {
                message: format!("cannot start the epoch ticker thread: {message}"),
            })?;
        if self.active.fetch_add(1, Ordering::SeqCst) == 0 {
            thread.unpark();
        }
        Ok(Ticking {
            active: &self.active,
        })
    }
}

/// An eval in progress (see [`Ticker::ticking`]).
pub(crate) struct Ticking<'a> {
    active: &'a AtomicUsize,
}

impl Drop for Ticking<'_> {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn spawn(engine: Engine, active: Arc<AtomicUsize>) -> std::result::Result<Thread, String> {
    thread::Builder::new()
        .name("polyscript-wasm-epoch".into())
        .spawn(move || {
            loop {
                if active.load(Ordering::SeqCst) == 0 {
                    thread::park_timeout(IDLE_PARK);
                    continue;
                }
                thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .map(|handle| handle.thread().clone())
        .map_err(|e| e.to_string())
}

/// Whether an eval with `deadline` and `token` must stop now: what every
/// store's epoch callback asks.
#[inline]
pub(crate) fn must_stop(deadline: Option<Instant>, token: &CancelToken) -> bool {
    token.is_cancelled() || deadline.is_some_and(Instant::has_passed)
}
