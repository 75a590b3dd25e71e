//! [`JsInstance`]: what the pool hands out, in either [`ThreadMode`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use polyscript_core::{EvalInput, Guard, Result, ScriptId, Value, panic_message};

use crate::engine::JsConfig;
use crate::failure::Failure;
use crate::program::JsProgram;
use crate::runtime::Reply;
use crate::worker::WorkerInstance;
use crate::{local, stack};

/// Where a JavaScript instance's boa `Context` lives and runs.
///
/// boa's `Context` cannot move between threads, so an eval either runs where
/// the context is or the context runs where the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ThreadMode {
    /// (Default.) Evals run on the thread that calls `eval`, in a context
    /// that thread keeps and shares between programs: built on the thread's
    /// first eval (≈0.6 ms), reused afterwards, dropped when the thread ends
    /// (or the context cannot be cleaned). Each program compiles its script
    /// into it once per thread. No hand-off, so an eval costs about what the
    /// engine itself costs, and threads scale.
    ///
    /// Each thread holds at most 16 idle contexts (one per engine and set of
    /// global `var` names, least recently used dropped first; see the crate
    /// docs, "Many scripts in one process"). The deadline and the cancel token stop
    /// the script wherever it is, inside native calls too (the shared
    /// watchdog thread raises the context's interrupt flag). Only an eval
    /// that needs more native stack than the calling thread has left (a
    /// large or unlimited `call_depth`) runs on a worker thread the instance
    /// starts for it, as in [`ThreadMode::Dedicated`].
    #[default]
    CallerThread,
    /// Each instance owns a worker thread that holds its context; an eval is
    /// a hand-off to it and back (≈2–3 µs). Deadlines and cancellation stop
    /// the script on the worker as in caller-thread mode; the caller also
    /// watches them, and gives a worker that has not replied half a second
    /// after the deadline up (a safety net: no script is known to get past
    /// the interrupt flag).
    Dedicated,
}

/// One JavaScript instance, created by [`JsEngine`](crate::JsEngine)'s
/// `instantiate`. `Send`, as the core pool needs; see [`ThreadMode`] for where
/// its boa `Context` lives.
#[derive(Debug)]
pub struct JsInstance {
    inner: Inner,
    script_id: ScriptId,
}

#[derive(Debug)]
enum Inner {
    /// The context is in the calling thread's cache (see `local.rs`).
    CallerThread {
        program: Arc<JsProgram>,
        config: Arc<JsConfig>,
        /// For evals without an operation limit (started on first need).
        worker: Option<WorkerInstance>,
    },
    Dedicated(WorkerInstance),
}

impl JsInstance {
    /// A new instance. In caller-thread mode this compiles the script into
    /// the calling thread's shared context (building that first if the
    /// thread has none for it), so a pool's warm-up warms the thread that
    /// builds it and reports a script boa cannot compile.
    pub(crate) fn new(program: &JsProgram, config: &Arc<JsConfig>) -> Result<Self> {
        let script_id = program.script_id;
        let program = Arc::new(program.clone());
        let inner = match config.thread_mode {
            ThreadMode::Dedicated => {
                Inner::Dedicated(WorkerInstance::spawn(program, Arc::clone(config))?)
            }
            ThreadMode::CallerThread => {
                // Building a context runs no script: the base stack is enough.
                let shared = stack::with_stack(stack::needed_for(0), || {
                    let mut shared = match local::take(&program, config) {
                        Some(shared) => shared,
                        None => build(&program, config)?,
                    };
                    let prepared = guarded(|| shared.prepare(&program));
                    local::put(shared);
                    prepared
                });
                shared.map_err(|f| f.into_setup_error(script_id))?;
                Inner::CallerThread {
                    program,
                    config: Arc::clone(config),
                    worker: None,
                }
            }
        };
        Ok(JsInstance { inner, script_id })
    }

    pub(crate) fn eval(&mut self, input: &EvalInput<'_>, guard: &Guard<'_>) -> Result<Value> {
        match &mut self.inner {
            Inner::Dedicated(worker) => worker.eval(input, guard),
            Inner::CallerThread {
                program,
                config,
                worker,
            } => {
                // An eval that may need more native stack than this thread
                // has left runs on the worker's big stack: a new stack
                // segment per eval (mmap + munmap) cost ≈16 µs. Every other
                // eval runs here: deadlines and cancellation reach it through
                // the interrupt flag wherever it is (see `watchdog.rs`).
                if stack::enough_for(guard.limits().call_depth) {
                    return eval_here(program, config, input, guard, self.script_id);
                }
                let worker = match worker {
                    Some(worker) => worker,
                    None => worker.insert(WorkerInstance::spawn(
                        Arc::clone(program),
                        Arc::clone(config),
                    )?),
                };
                worker.eval(input, guard)
            }
        }
    }
}

/// Runs `f`, turning a panic inside boa into a failure.
fn guarded<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(Failure::Panic(panic_message(p.as_ref()))))
}

/// Builds a shared context for this thread's cache.
fn build(program: &JsProgram, config: &Arc<JsConfig>) -> Result<Box<local::Shared>, Failure> {
    guarded(|| local::Shared::new(program, config))
}

/// One eval on the calling thread in its shared context for `program`
/// (the caller checked that the thread has stack enough).
fn eval_here(
    program: &Arc<JsProgram>,
    config: &Arc<JsConfig>,
    input: &EvalInput<'_>,
    guard: &Guard<'_>,
    script_id: ScriptId,
) -> Result<Value> {
    let mut shared = match local::take(program, config) {
        Some(shared) => shared,
        None => build(program, config).map_err(|f| f.into_setup_error(script_id))?,
    };
    let reply = catch_unwind(AssertUnwindSafe(|| shared.eval(program, input, guard)))
        .unwrap_or_else(|p| Reply {
            outcome: Err(Failure::Panic(panic_message(p.as_ref()))),
            clean: false,
        });
    if reply.clean {
        local::put(shared);
    } else {
        // A context that panicked may panic again while dropping.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(shared)));
    }
    reply.outcome.map_err(|f| f.into_error(guard))
}

#[cfg(test)]
mod tests {
    use polyscript_core::serde_json::json;
    use polyscript_core::{EvalContext, Evaluator, Source};

    use crate::JsEngine;
    use crate::local::cached_on_this_thread;

    fn eval_once(ev: &Evaluator<JsEngine>, n: i64) -> polyscript_core::Value {
        let input = EvalContext::with_data(json!({ "n": n })).expect("input");
        ev.eval(&input).expect("eval").into_value()
    }

    /// Each test runs on its own thread, so the cache starts empty.
    #[test]
    fn programs_share_one_context_per_thread_and_dead_scripts_go() {
        let engine = JsEngine::new();
        let evaluators: Vec<_> = (0..100)
            .map(|i| {
                Evaluator::new(engine.clone(), Source::from_text(format!("ctx.n + {i}")))
                    .expect("build")
            })
            .collect();
        for (i, ev) in evaluators.iter().enumerate() {
            assert_eq!(eval_once(ev, 1), json!(1 + i as i64));
        }
        assert_eq!(
            cached_on_this_thread(),
            (1, 100),
            "one context, 100 scripts"
        );
        drop(evaluators);
        let last = Evaluator::new(engine, Source::from_text("ctx.n + 2")).expect("build");
        // The sweep comes after as many evals as there are scripts.
        for _ in 0..=101.max(super::local::SWEEP_AFTER_FOR_TESTS) {
            assert_eq!(eval_once(&last, 1), json!(3));
        }
        assert_eq!(
            cached_on_this_thread(),
            (1, 1),
            "the dropped programs' scripts went"
        );
    }

    #[test]
    fn programs_with_different_global_vars_get_different_contexts() {
        let engine = JsEngine::new();
        let a = Evaluator::new(engine.clone(), Source::from_text("var a = ctx.n; a")).expect("a");
        let b = Evaluator::new(engine.clone(), Source::from_text("var b = ctx.n; b")).expect("b");
        let c = Evaluator::new(engine, Source::from_text("var a = 2 * ctx.n; a")).expect("c");
        assert_eq!(eval_once(&a, 1), json!(1));
        assert_eq!(eval_once(&b, 2), json!(2));
        assert_eq!(eval_once(&c, 3), json!(6));
        assert_eq!(
            cached_on_this_thread(),
            (2, 3),
            "a and c share, b has its own"
        );
    }
}
