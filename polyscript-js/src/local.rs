//! [`ThreadMode::CallerThread`](crate::ThreadMode::CallerThread): contexts
//! kept on the threads that call `eval`, shared by the programs they serve.
//!
//! A boa `Context` cannot leave the thread that made it (its GC heap is
//! thread-local), so each caller thread keeps its own idle contexts here.
//! A context is not one program's: it is built per engine configuration and
//! per set of global `var` names ([`JsProgram::global_vars`], empty for
//! most scripts), and every program with that key compiles its script into
//! it once and keeps the compiled `Script` next to it. A thread serving N
//! programs therefore holds one context (≈400 KB of frozen intrinsics) and N
//! compiled scripts (≈8 KB each with their evaluators), not N contexts, and rotating over the
//! programs costs what a hot eval costs.
//!
//! Sharing is safe for the same reason evals of one program are isolated:
//! the built-ins are frozen, and after each eval the globals are restored
//! to the baseline (only `var`s the script declares may stay, as
//! `undefined`; programs sharing a context declare the same ones). A
//! context that cannot be restored is dropped with every script compiled
//! into it; their programs compile again into the next one.
//!
//! An eval takes its context out of the thread's cache (so a host function
//! that evaluates another script on the same thread gets a context of its
//! own), runs, and puts it back if it is still clean.
//!
//! Dropping order matters for soundness: boa_gc frees every allocation left
//! in its thread-local heap when that heap is destroyed at thread exit, so a
//! context still cached after that would be dropped over freed memory. The
//! cache is therefore only ever touched after the GC heap has been (see
//! [`gc_heap_first`]): thread-local destructors run in the reverse order of
//! first use, so the cache, and the contexts in it, go first.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use boa_engine::Script;

use crate::engine::JsConfig;
use crate::failure::Failure;
use crate::program::JsProgram;
use crate::runtime::{Reply, Runtime};

/// Most idle contexts one thread keeps (one per engine configuration and
/// set of global `var` names); the least recently used goes first. Each is
/// a whole boa context (≈400 KB resident): bounds a thread's memory when it serves
/// programs with many different `var` names.
pub(crate) const MAX_CONTEXTS_PER_THREAD: usize = 16;

/// Dead programs' scripts are swept after this many evals at least (and at
/// least as many as there are scripts: amortised O(1) per eval).
const SWEEP_AFTER: usize = 64;

/// [`SWEEP_AFTER`], for tests.
#[cfg(test)]
pub(crate) const SWEEP_AFTER_FOR_TESTS: usize = SWEEP_AFTER;

/// A compiled script and the program it belongs to (whose `Weak` keeps the
/// address, the lookup key, from being reused while the entry lives).
struct Compiled {
    program: Weak<()>,
    script: Script,
}

/// One context shared by programs on this thread, and their scripts.
pub(crate) struct Shared {
    config: Weak<JsConfig>,
    global_vars: Arc<[String]>,
    runtime: Runtime,
    /// By program identity address.
    scripts: HashMap<*const (), Compiled>,
    /// Evals since dead programs' scripts were last swept.
    since_sweep: usize,
}

impl Shared {
    /// A new context for programs like `program` under `config`.
    pub(crate) fn new(program: &JsProgram, config: &Arc<JsConfig>) -> Result<Box<Shared>, Failure> {
        Ok(Box::new(Shared {
            config: Arc::downgrade(config),
            global_vars: Arc::clone(&program.global_vars),
            runtime: Runtime::new(config)?,
            scripts: HashMap::new(),
            since_sweep: 0,
        }))
    }

    /// Compiles `program`'s script into this context unless it is there.
    pub(crate) fn prepare(&mut self, program: &JsProgram) -> Result<(), Failure> {
        self.script(program).map(|_| ())
    }

    /// `program`'s compiled script, compiled now if it is not yet.
    fn script(&mut self, program: &JsProgram) -> Result<Script, Failure> {
        let key = Arc::as_ptr(&program.identity);
        if let Some(compiled) = self.scripts.get(&key) {
            // A `Script` is a `Gc` handle: cloning it is a count increment.
            return Ok(compiled.script.clone());
        }
        let script = self.runtime.compile(program)?;
        self.scripts.insert(
            key,
            Compiled {
                program: Arc::downgrade(&program.identity),
                script: script.clone(),
            },
        );
        Ok(script)
    }

    /// One eval of `program` (compiling its script first if needed).
    pub(crate) fn eval(
        &mut self,
        program: &JsProgram,
        input: &polyscript_core::EvalInput<'_>,
        guard: &polyscript_core::Guard<'_>,
    ) -> Reply {
        self.since_sweep += 1;
        if self.since_sweep >= self.scripts.len().max(SWEEP_AFTER) {
            self.since_sweep = 0;
            self.scripts.retain(|_, c| c.program.strong_count() > 0);
        }
        match self.script(program) {
            Ok(script) => self.runtime.eval(&script, program, input, guard),
            // The context is as it was: still clean.
            Err(failure) => Reply {
                outcome: Err(failure),
                clean: true,
            },
        }
    }

    /// Whether `program` under `config` uses this context.
    fn serves(&self, config: &Arc<JsConfig>, global_vars: &Arc<[String]>) -> bool {
        self.config.as_ptr() == Arc::as_ptr(config)
            && (Arc::ptr_eq(&self.global_vars, global_vars) || self.global_vars == *global_vars)
    }

    /// Whether its engine configuration is gone (no program can use it).
    fn is_dead(&self) -> bool {
        self.config.strong_count() == 0
    }

    /// How many programs' scripts it holds (for tests).
    #[cfg(test)]
    pub(crate) fn scripts(&self) -> usize {
        self.scripts.len()
    }
}

thread_local! {
    /// Whether this thread's boa GC heap is known to exist already.
    static GC_HEAP_READY: Cell<bool> = const { Cell::new(false) };
    /// Idle contexts, least recently used first. Boxed because an eval moves
    /// its context out of the cache and back: a boa `Context` by value is
    /// kilobytes of `memcpy` each way.
    #[allow(clippy::vec_box)]
    static CACHE: RefCell<Vec<Box<Shared>>> = const { RefCell::new(Vec::new()) };
}

/// Makes sure boa_gc's thread-local heap exists before [`CACHE`] is first
/// touched, so that at thread exit the cache is destroyed before the heap.
fn gc_heap_first() {
    if !GC_HEAP_READY.get() {
        boa_gc::force_collect();
        GC_HEAP_READY.set(true);
    }
}

/// Takes this thread's idle context for `program` under `config`, if it has
/// one.
pub(crate) fn take(program: &JsProgram, config: &Arc<JsConfig>) -> Option<Box<Shared>> {
    gc_heap_first();
    CACHE
        .try_with(|cache| {
            let mut cache = cache.borrow_mut();
            let index = cache
                .iter()
                .rposition(|e| e.serves(config, &program.global_vars))?;
            Some(cache.remove(index))
        })
        .ok()
        .flatten()
}

/// Keeps `shared` as this thread's most recently used idle context, and
/// drops contexts of engine configurations that are gone. Two contexts of
/// one key are kept when an eval ran inside another on this thread (a host
/// function evaluating a script): the inner one is the spare the next
/// nested eval takes, instead of building a context each time.
pub(crate) fn put(shared: Box<Shared>) {
    gc_heap_first();
    // Contexts leaving the cache are dropped after the borrow ends.
    let mut evicted: Vec<Box<Shared>> = Vec::new();
    // During thread exit the cache may be gone already: then `shared` is
    // dropped with the unused closure, while the GC heap still exists.
    let _ = CACHE.try_with(|cache| {
        let mut cache = cache.borrow_mut();
        let mut index = 0;
        while index < cache.len() {
            if cache[index].is_dead() {
                evicted.push(cache.remove(index));
            } else {
                index += 1;
            }
        }
        if cache.len() >= MAX_CONTEXTS_PER_THREAD {
            evicted.push(cache.remove(0));
        }
        cache.push(shared);
    });
    drop(evicted);
}

/// How many idle contexts this thread holds, and how many scripts they hold
/// in all (for tests).
#[cfg(test)]
pub(crate) fn cached_on_this_thread() -> (usize, usize) {
    CACHE
        .try_with(|cache| {
            let cache = cache.borrow();
            (cache.len(), cache.iter().map(|s| s.scripts()).sum())
        })
        .unwrap_or((0, 0))
}
