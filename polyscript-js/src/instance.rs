//! [`JsInstance`]: what the pool hands out, in either [`ThreadMode`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use polyscript_core::{Guard, Map, Result, ScriptId, Value, panic_message};

use crate::engine::JsConfig;
use crate::failure::Failure;
use crate::program::JsProgram;
use crate::runtime::{Reply, Runtime};
use crate::worker::WorkerInstance;
use crate::{local, stack};

/// Where a JavaScript instance's boa `Context` lives and runs.
///
/// boa's `Context` cannot move between threads, so an eval either runs where
/// the context is or the context runs where the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadMode {
    /// (Default.) Evals run on the thread that calls `eval`, with a context
    /// that thread keeps per program: built on the thread's first eval of the
    /// program (≈0.5 ms), reused afterwards, dropped when the program is gone
    /// (noticed on the thread's next eval) or the thread ends. No hand-off, so
    /// an eval costs about what the engine itself costs, and threads scale.
    ///
    /// Each thread holds at most 16 idle contexts (one per program, least
    /// recently used dropped first). The deadline and the cancel token stop
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
    /// A new instance. In caller-thread mode this builds a context on the
    /// calling thread and keeps it there (replacing an idle one of the same
    /// program), so a pool's warm-up warms the thread that builds it.
    pub(crate) fn new(program: &JsProgram, config: &Arc<JsConfig>) -> Result<Self> {
        let script_id = program.script_id;
        let program = Arc::new(program.clone());
        let inner = match config.thread_mode {
            ThreadMode::Dedicated => {
                Inner::Dedicated(WorkerInstance::spawn(program, Arc::clone(config))?)
            }
            ThreadMode::CallerThread => {
                // Building a context runs no script: the base stack is enough.
                let entry = stack::with_stack(stack::needed_for(0), || build(&program, config))
                    .map_err(|f| f.into_setup_error(script_id))?;
                local::put(entry);
                Inner::CallerThread {
                    program,
                    config: Arc::clone(config),
                    worker: None,
                }
            }
        };
        Ok(JsInstance { inner, script_id })
    }

    pub(crate) fn eval(&mut self, input: &Map, guard: &Guard<'_>) -> Result<Value> {
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

/// Builds a runtime for this thread's cache, turning a panic inside boa into
/// a failure.
fn build(program: &JsProgram, config: &Arc<JsConfig>) -> Result<local::Entry, Failure> {
    catch_unwind(AssertUnwindSafe(|| Runtime::new(program.clone(), config)))
        .unwrap_or_else(|p| Err(Failure::Panic(panic_message(p.as_ref()))))
        .map(|runtime| local::Entry::new(&program.identity, config, runtime))
}

/// One eval on the calling thread with its cached runtime for `program`
/// (the caller checked that the thread has stack enough).
fn eval_here(
    program: &Arc<JsProgram>,
    config: &Arc<JsConfig>,
    input: &Map,
    guard: &Guard<'_>,
    script_id: ScriptId,
) -> Result<Value> {
    let mut entry = match local::take(&program.identity, config) {
        Some(entry) => entry,
        None => build(program, config).map_err(|f| f.into_setup_error(script_id))?,
    };
    let reply = catch_unwind(AssertUnwindSafe(|| entry.runtime().eval(input, guard)))
        .unwrap_or_else(|p| Reply {
            outcome: Err(Failure::Panic(panic_message(p.as_ref()))),
            clean: false,
        });
    if reply.clean {
        local::put(entry);
    } else {
        // A context that panicked may panic again while dropping.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(entry)));
    }
    reply.outcome.map_err(|f| f.into_error(guard))
}

#[cfg(test)]
mod tests {
    use polyscript_core::serde_json::json;
    use polyscript_core::{EvalContext, Evaluator, Source};

    use crate::JsEngine;
    use crate::local::{MAX_CACHED_PER_THREAD, cached_on_this_thread};

    fn eval_once(ev: &Evaluator<JsEngine>, n: i64) -> polyscript_core::Value {
        let input = EvalContext::with_data(json!({ "n": n })).expect("input");
        ev.eval(&input).expect("eval").into_value()
    }

    /// Each test runs on its own thread, so the cache starts empty.
    #[test]
    fn a_thread_keeps_one_runtime_per_program_and_drops_dead_ones() {
        let engine = JsEngine::new();
        let first = Evaluator::new(engine.clone(), Source::from_text("ctx.n + 1")).expect("build");
        assert_eq!(eval_once(&first, 1), json!(2));
        assert_eq!(eval_once(&first, 2), json!(3));
        assert_eq!(cached_on_this_thread(), 1, "one runtime, reused");
        drop(first);
        let second = Evaluator::new(engine, Source::from_text("ctx.n + 2")).expect("build");
        assert_eq!(eval_once(&second, 1), json!(3));
        assert_eq!(
            cached_on_this_thread(),
            1,
            "the dropped program's runtime went"
        );
    }

    #[test]
    fn a_thread_keeps_a_bounded_number_of_runtimes() {
        let engine = JsEngine::new();
        let evaluators: Vec<_> = (0..MAX_CACHED_PER_THREAD + 4)
            .map(|i| {
                Evaluator::new(engine.clone(), Source::from_text(format!("ctx.n + {i}")))
                    .expect("build")
            })
            .collect();
        for (i, ev) in evaluators.iter().enumerate() {
            assert_eq!(eval_once(ev, 1), json!(1 + i as i64));
        }
        assert_eq!(cached_on_this_thread(), MAX_CACHED_PER_THREAD);
        // An evicted program still evaluates (it builds a runtime again).
        assert_eq!(eval_once(&evaluators[0], 5), json!(5));
    }
}
