//! [`ThreadMode::CallerThread`](crate::ThreadMode::CallerThread): runtimes
//! kept on the threads that call `eval`.
//!
//! A boa `Context` cannot leave the thread that made it (its GC heap is
//! thread-local), so instead of moving contexts to the caller, each caller
//! thread keeps its own idle runtime per compiled program here. An eval takes
//! the runtime out (building one on the thread's first eval of the program),
//! runs it, and puts it back if it is still clean.
//!
//! Dropping order matters for soundness: boa_gc frees every allocation left
//! in its thread-local heap when that heap is destroyed at thread exit, so a
//! context still cached after that would be dropped over freed memory. The
//! cache is therefore only ever touched after the GC heap has been (see
//! [`gc_heap_first`]): thread-local destructors run in the reverse order of
//! first use, so the cache, and the contexts in it, go first.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Weak};

use crate::engine::JsConfig;
use crate::runtime::Runtime;

/// Most idle runtimes one thread keeps (one per program); the least recently
/// used goes first. Bounds a thread's memory when it evaluates many
/// programs: each runtime is a whole boa context (≈1 MiB).
pub(crate) const MAX_CACHED_PER_THREAD: usize = 16;

/// A runtime and which program and engine configuration it was built for.
/// The `Weak`s keep the allocations (so the addresses) alive: an address is
/// never reused while an entry holds it. The runtime is boxed because an
/// eval moves the entry out of the cache and back: a boa `Context` by value
/// is kilobytes of `memcpy` each way.
pub(crate) struct Entry {
    program: Weak<()>,
    config: Weak<JsConfig>,
    runtime: Box<Runtime>,
}

impl Entry {
    /// A new entry for `runtime`, built for `program` and `config`.
    pub(crate) fn new(program: &Arc<()>, config: &Arc<JsConfig>, runtime: Runtime) -> Entry {
        Entry {
            program: Arc::downgrade(program),
            config: Arc::downgrade(config),
            runtime: Box::new(runtime),
        }
    }

    /// The runtime.
    pub(crate) fn runtime(&mut self) -> &mut Runtime {
        &mut self.runtime
    }

    /// Which program and configuration the runtime belongs to.
    fn owner(&self) -> Owner {
        Owner(self.program.as_ptr(), self.config.as_ptr())
    }

    /// Whether its program (every evaluator of it) is gone.
    fn is_dead(&self) -> bool {
        self.program.strong_count() == 0 || self.config.strong_count() == 0
    }
}

/// The addresses of a program's identity and of an engine configuration:
/// what a cached runtime is looked up by.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Owner(*const (), *const JsConfig);

thread_local! {
    /// Whether this thread's boa GC heap is known to exist already.
    static GC_HEAP_READY: Cell<bool> = const { Cell::new(false) };
    /// Idle runtimes, least recently used first.
    static CACHE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// Makes sure boa_gc's thread-local heap exists before [`CACHE`] is first
/// touched, so that at thread exit the cache is destroyed before the heap.
fn gc_heap_first() {
    if !GC_HEAP_READY.get() {
        boa_gc::force_collect();
        GC_HEAP_READY.set(true);
    }
}

/// Takes this thread's idle runtime for `program`, if it has one.
pub(crate) fn take(program: &Arc<()>, config: &Arc<JsConfig>) -> Option<Entry> {
    gc_heap_first();
    CACHE
        .try_with(|cache| {
            let mut cache = cache.borrow_mut();
            let owner = Owner(Arc::as_ptr(program), Arc::as_ptr(config));
            let index = cache.iter().position(|e| e.owner() == owner)?;
            Some(cache.remove(index))
        })
        .ok()
        .flatten()
}

/// Keeps `entry` as this thread's idle runtime for its program (replacing an
/// older one), and drops runtimes of programs that are gone.
pub(crate) fn put(entry: Entry) {
    gc_heap_first();
    let owner = entry.owner();
    // Runtimes leaving the cache are dropped after the borrow ends.
    let mut evicted: Vec<Entry> = Vec::new();
    // During thread exit the cache may be gone already: then `entry` is
    // dropped with the unused closure, while the GC heap still exists.
    let _ = CACHE.try_with(|cache| {
        let mut cache = cache.borrow_mut();
        let mut index = 0;
        while index < cache.len() {
            if cache[index].is_dead() || cache[index].owner() == owner {
                evicted.push(cache.remove(index));
            } else {
                index += 1;
            }
        }
        if cache.len() >= MAX_CACHED_PER_THREAD {
            evicted.push(cache.remove(0));
        }
        cache.push(entry);
    });
    drop(evicted);
}

/// How many idle runtimes this thread holds (for tests).
#[cfg(test)]
pub(crate) fn cached_on_this_thread() -> usize {
    CACHE.try_with(|cache| cache.borrow().len()).unwrap_or(0)
}
