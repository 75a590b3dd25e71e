//! A bounded pool of engine instances.
//!
//! Instances are `Send` but not necessarily `Sync` (a Lua state, a boa
//! context, a wasm store); the pool is what lets one evaluator serve many
//! threads. It creates instances lazily up to `max_size`, keeps returned ones
//! idle for reuse, makes callers wait (up to `acquire_timeout`) when all are
//! busy, and throws away instances whose state became suspect.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::script_id::ScriptId;

/// How a pool is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Instances created up front (so instantiation errors surface when the
    /// evaluator is built, and the first eval does not pay for one).
    pub min_idle: usize,
    /// Most instances alive at once (busy + idle).
    pub max_size: usize,
    /// How long [`Pool::acquire`] waits for a free instance before
    /// [`Error::PoolExhausted`].
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PoolConfig {
            min_idle: 1,
            max_size: (cores * 2).max(4),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

impl PoolConfig {
    /// This config with another maximum size (at least 1).
    pub fn with_max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size.max(1);
        self.min_idle = self.min_idle.min(self.max_size);
        self
    }

    /// This config with another number of instances created up front.
    pub fn with_min_idle(mut self, min_idle: usize) -> Self {
        self.min_idle = min_idle.min(self.max_size);
        self
    }

    /// This config with another acquire timeout.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }
}

/// Counters describing a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    /// Instances created since the pool was made.
    pub created: u64,
    /// Instances waiting for work.
    pub idle: usize,
    /// Instances lent out right now (including ones being created).
    pub in_use: usize,
    /// Instances thrown away (after a panic or a fatal error).
    pub discarded: u64,
}

type Factory<T> = Box<dyn Fn() -> Result<T> + Send + Sync>;

/// Instances are boxed so that handing one out and taking it back moves a
/// pointer: engine instances are hundreds of bytes to kilobytes (a
/// `rhai::Engine`, an Extism `Plugin`), and moving them by value in and out
/// of the idle list doubled the cost of a checkout (measured 53 → 28 ns for
/// Rhai).
struct State<T> {
    idle: Vec<Box<T>>,
    /// Instances alive: idle + lent out + being created.
    live: usize,
}

/// A bounded pool of `T`, filled by a factory.
pub struct Pool<T> {
    config: PoolConfig,
    factory: Factory<T>,
    state: Mutex<State<T>>,
    returned: Condvar,
    created: AtomicU64,
    discarded: AtomicU64,
    engine: EngineKind,
    script_id: ScriptId,
}

impl<T: Send> Pool<T> {
    /// A pool of instances made by `factory`; creates `config.min_idle` now.
    /// `engine` and `script_id` name the pool in errors.
    pub fn new(
        config: PoolConfig,
        engine: EngineKind,
        script_id: ScriptId,
        factory: impl Fn() -> Result<T> + Send + Sync + 'static,
    ) -> Result<Self> {
        let config = PoolConfig {
            max_size: config.max_size.max(1),
            min_idle: config.min_idle.min(config.max_size.max(1)),
            ..config
        };
        let pool = Pool {
            config,
            factory: Box::new(factory),
            state: Mutex::new(State {
                idle: Vec::with_capacity(config.max_size),
                live: 0,
            }),
            returned: Condvar::new(),
            created: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            engine,
            script_id,
        };
        for _ in 0..config.min_idle {
            let item = pool.create()?;
            let mut state = pool.state.lock();
            state.idle.push(item);
            state.live += 1;
        }
        Ok(pool)
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Borrows an instance, waiting up to the configured acquire timeout.
    pub fn acquire(&self) -> Result<PoolGuard<'_, T>> {
        self.acquire_timeout(self.config.acquire_timeout)
    }

    /// Borrows an instance, waiting up to `timeout` for one to be free.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<PoolGuard<'_, T>> {
        let mut state = self.state.lock();
        if let Some(item) = state.idle.pop() {
            return Ok(self.guard(item));
        }
        let mut deadline = None;
        loop {
            if state.live < self.config.max_size {
                state.live += 1;
                drop(state);
                return match self.create() {
                    Ok(item) => Ok(self.guard(item)),
                    Err(err) => {
                        self.state.lock().live -= 1;
                        self.returned.notify_one();
                        Err(err)
                    }
                };
            }
            let until = *deadline.get_or_insert_with(|| Instant::now() + timeout);
            if self.returned.wait_until(&mut state, until).timed_out() {
                if let Some(item) = state.idle.pop() {
                    return Ok(self.guard(item));
                }
                return Err(Error::PoolExhausted {
                    engine: self.engine,
                    script_id: self.script_id,
                    max_size: self.config.max_size,
                    waited: timeout,
                });
            }
            if let Some(item) = state.idle.pop() {
                return Ok(self.guard(item));
            }
        }
    }

    /// Runs `f` with an instance and returns it to the pool afterwards (or
    /// discards it if `f` panics).
    pub fn with_instance<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let mut guard = self.acquire()?;
        Ok(f(&mut guard))
    }

    /// Current counters.
    pub fn stats(&self) -> PoolStats {
        let state = self.state.lock();
        PoolStats {
            created: self.created.load(Ordering::Relaxed),
            idle: state.idle.len(),
            in_use: state.live - state.idle.len(),
            discarded: self.discarded.load(Ordering::Relaxed),
        }
    }

    fn create(&self) -> Result<Box<T>> {
        let _span =
            tracing::debug_span!("instantiate", engine = %self.engine, script_id = %self.script_id)
                .entered();
        let item = Box::new((self.factory)()?);
        self.created.fetch_add(1, Ordering::Relaxed);
        Ok(item)
    }

    fn guard(&self, item: Box<T>) -> PoolGuard<'_, T> {
        PoolGuard {
            pool: self,
            item: Some(item),
            discard: false,
        }
    }

    fn give_back(&self, item: Box<T>, discard: bool) {
        let mut state = self.state.lock();
        if discard {
            state.live -= 1;
            drop(state);
            drop(item);
            self.discarded.fetch_add(1, Ordering::Relaxed);
        } else {
            state.idle.push(item);
            drop(state);
        }
        self.returned.notify_one();
    }
}

impl<T> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("engine", &self.engine)
            .field("script_id", &self.script_id)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An instance borrowed from a [`Pool`]; goes back when dropped, or is thrown
/// away if [`discard`](Self::discard) was called or the thread is panicking.
pub struct PoolGuard<'a, T: Send> {
    pool: &'a Pool<T>,
    item: Option<Box<T>>,
    discard: bool,
}

impl<T: Send> PoolGuard<'_, T> {
    /// Marks the instance to be thrown away instead of returned.
    pub fn discard(&mut self) {
        self.discard = true;
    }
}

impl<T: Send> Deref for PoolGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // `item` is only taken in `drop`.
        self.item.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl<T: Send> DerefMut for PoolGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl<T: Send> Drop for PoolGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            self.pool
                .give_back(item, self.discard || std::thread::panicking());
        }
    }
}

#[cfg(test)]
mod tests;
