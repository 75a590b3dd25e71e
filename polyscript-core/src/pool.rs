//! A bounded pool of engine instances.
//!
//! Instances are `Send` but not necessarily `Sync` (a Lua state, a boa
//! context, a wasm store); the pool is what lets one evaluator serve many
//! threads. It creates instances lazily up to `max_size`, keeps returned ones
//! idle for reuse, makes callers wait (up to `acquire_timeout`) when all are
//! busy, and throws away instances whose state became suspect.
//!
//! # Why the idle instances are sharded per thread
//!
//! A single idle list behind one lock made two threads share everything an
//! eval touches: the lock's cache line moved between the cores on every
//! checkout and return, and the most recently returned instance went to
//! whichever thread asked next, so an instance's own memory (a
//! `rhai::Engine`, a Lua state) moved between the cores' caches too. Two
//! threads evaluating the greeting script then got 1.26× (Rhai) and 1.46×
//! (Lua) the throughput of one, where each engine's own API reaches 1.94×
//! (paired measurement, `cargo bench --bench paired`).
//!
//! So idle instances live in one shard per core, each behind its own lock on
//! its own cache lines. A thread returns an instance to its home shard and
//! takes from it first, so in the steady state every thread keeps reusing
//! "its" instance and touches no line another thread writes. A thread whose
//! home shard is empty takes from the others, and creates an instance only
//! after finding every shard empty. Waiting for a
//! busy pool is the slow path: waiters announce themselves under one lock
//! and a return wakes one only when someone is waiting.

use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::engine::EngineKind;
use crate::error::{Error, Result};
use crate::script_id::ScriptId;

/// How a pool is sized. Build one from [`PoolConfig::default`] (or
/// [`PoolConfig::new`]) and the `with_*` methods; fields can be read and
/// assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
        let cores = crate::cores::cores();
        PoolConfig {
            min_idle: 1,
            max_size: (cores * 2).max(4),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

impl PoolConfig {
    /// The default config: one instance created up front, at most twice
    /// the cores (at least 4), a 10 s acquire timeout.
    pub fn new() -> Self {
        Self::default()
    }

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

/// Counters describing a pool (read them; pools make them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
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

/// Idle instances of one shard, on cache lines of their own (128 bytes: two
/// lines, as adjacent-line prefetching pairs them).
///
/// Instances are boxed so that handing one out and taking it back moves a
/// pointer: engine instances are hundreds of bytes to kilobytes (a
/// `rhai::Engine`, an Extism `Plugin`), and moving them by value in and out
/// of the idle list doubled the cost of a checkout (measured 53 → 28 ns for
/// Rhai).
#[repr(align(128))]
struct Shard<T>(Mutex<Vec<Box<T>>>);

/// Most shards a pool has, whatever the core count.
const MAX_SHARDS: usize = 64;

/// Gives every thread its own number, from which its home shard follows.
static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's number, once it has used a pool.
    static THREAD: Cell<Option<usize>> = const { Cell::new(None) };
}

/// This thread's number, assigned on first use.
fn thread_number() -> usize {
    THREAD.with(|slot| {
        slot.get().unwrap_or_else(|| {
            let n = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            slot.set(Some(n));
            n
        })
    })
}

/// A bounded pool of `T`, filled by a factory.
pub struct Pool<T> {
    config: PoolConfig,
    factory: Factory<T>,
    shards: Box<[Shard<T>]>,
    /// Instances alive: idle + lent out + being created.
    live: AtomicUsize,
    /// Callers waiting for an instance. Only they and returns that find it
    /// non-zero touch `wait_lock`.
    waiters: AtomicUsize,
    wait_lock: Mutex<()>,
    returned: Condvar,
    /// Futures waiting for an instance, in arrival order (see
    /// `async_acquire.rs`); counted in `waiters` too.
    async_waiters: Mutex<std::collections::VecDeque<(u64, std::task::Waker)>>,
    next_async_waiter: AtomicU64,
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
        let cores = crate::cores::cores();
        Self::with_shards(config, cores, engine, script_id, Box::new(factory))
    }

    /// [`new`](Self::new) with `shards` shards (at most `max_size` are used).
    fn with_shards(
        config: PoolConfig,
        shards: usize,
        engine: EngineKind,
        script_id: ScriptId,
        factory: Factory<T>,
    ) -> Result<Self> {
        let config = PoolConfig {
            max_size: config.max_size.max(1),
            min_idle: config.min_idle.min(config.max_size.max(1)),
            ..config
        };
        // A power of two, so a thread's home is a mask, not a division.
        let shards = shards
            .min(config.max_size)
            .clamp(1, MAX_SHARDS)
            .next_power_of_two();
        let pool = Pool {
            config,
            factory,
            shards: (0..shards)
                .map(|_| Shard(Mutex::new(Vec::with_capacity(config.max_size))))
                .collect(),
            live: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            wait_lock: Mutex::new(()),
            returned: Condvar::new(),
            async_waiters: Mutex::new(std::collections::VecDeque::new()),
            next_async_waiter: AtomicU64::new(0),
            created: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            engine,
            script_id,
        };
        let home = pool.home();
        for _ in 0..config.min_idle {
            let item = pool.create()?;
            pool.live.fetch_add(1, Ordering::SeqCst);
            pool.shards[home].0.lock().push(item);
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
        let home = self.home();
        if let Some(item) = self.take_idle(home) {
            return Ok(self.guard(item));
        }
        let mut until = None;
        loop {
            if self.reserve() {
                return match self.create() {
                    Ok(item) => Ok(self.guard(item)),
                    Err(err) => {
                        self.free_slot();
                        Err(err)
                    }
                };
            }
            // `None`: a timeout too long to represent waits without end.
            let until = *until.get_or_insert_with(|| Instant::now().checked_add(timeout));
            let mut lock = self.wait_lock.lock();
            // Announced before looking again, so a return or discard is either
            // seen by this look or sees `waiters` and wakes this thread (see
            // `give_back`).
            self.waiters.fetch_add(1, Ordering::SeqCst);
            let found = self.take_idle(home);
            let room = self.live.load(Ordering::SeqCst) < self.config.max_size;
            let timed_out = found.is_none()
                && !room
                && match until {
                    Some(until) => self.returned.wait_until(&mut lock, until).timed_out(),
                    None => {
                        self.returned.wait(&mut lock);
                        false
                    }
                };
            self.waiters.fetch_sub(1, Ordering::SeqCst);
            drop(lock);
            if let Some(item) = found.or_else(|| self.take_idle(home)) {
                return Ok(self.guard(item));
            }
            if timed_out {
                return Err(Error::PoolExhausted {
                    engine: self.engine,
                    script_id: self.script_id,
                    max_size: self.config.max_size,
                    waited: timeout,
                });
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
        let idle: usize = self.shards.iter().map(|shard| shard.0.lock().len()).sum();
        PoolStats {
            created: self.created.load(Ordering::Relaxed),
            idle,
            in_use: self.live.load(Ordering::SeqCst).saturating_sub(idle),
            discarded: self.discarded.load(Ordering::Relaxed),
        }
    }

    /// The calling thread's home shard.
    pub(crate) fn home(&self) -> usize {
        thread_number() & (self.shards.len() - 1)
    }

    /// An idle instance: from shard `home` if it has one, else from the
    /// first other shard that does.
    pub(crate) fn take_idle(&self, home: usize) -> Option<Box<T>> {
        let n = self.shards.len();
        (0..n).find_map(|i| self.shards[(home + i) % n].0.lock().pop())
    }

    /// Counts one more live instance if that stays within `max_size`.
    pub(crate) fn reserve(&self) -> bool {
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                (live < self.config.max_size).then_some(live + 1)
            })
            .is_ok()
    }

    pub(crate) fn create(&self) -> Result<Box<T>> {
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

    pub(crate) fn give_back(&self, item: Box<T>, discard: bool) {
        if discard {
            drop(item);
            self.discarded.fetch_add(1, Ordering::Relaxed);
            self.free_slot();
            return;
        }
        let someone_waits = {
            let mut idle = self.shards[self.home()].0.lock();
            idle.push(item);
            // Read with the shard locked: a waiter announces itself before it
            // locks every shard to look, so either it finds this instance or
            // this read sees it (the shard lock orders the two).
            self.waiters.load(Ordering::Relaxed) > 0
        };
        if someone_waits {
            self.wake_one();
        }
    }

    /// One instance fewer alive: a waiter may create one now. Both this
    /// decrement and the read of `waiters` are `SeqCst`, as are a waiter's
    /// announcement and its read of `live`, so one of the two sees the other.
    pub(crate) fn free_slot(&self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.wake_one();
        }
    }

    fn wake_one(&self) {
        {
            let _lock = self.wait_lock.lock();
            self.returned.notify_one();
        }
        // The oldest waiting future gets the first look (it stays queued
        // until it has an instance, times out or is dropped).
        if let Some((_, waker)) = self.async_waiters.lock().front() {
            waker.wake_by_ref();
        }
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

mod async_acquire;

#[cfg(test)]
mod tests;
