//! [`ThreadMode::Dedicated`](crate::ThreadMode::Dedicated): a thread per
//! instance that owns one boa `Context`.
//!
//! boa's `Context` is `!Send`, and that is load-bearing: boa_gc keeps its
//! heap (the list of every `Gc` allocation, the allocation counters, the
//! "dropping" flag) in a `thread_local!`, and `Gc` reference counts are plain
//! `Cell`s. A context moved to another thread would leave its objects in the
//! first thread's heap list, where that thread's collector could sweep or
//! dump them while the second thread uses them: a `unsafe impl Send` wrapper
//! would be unsound. In this mode each instance owns a thread that creates, uses and
//! drops its context; `eval` hands the input over and waits for the reply.
//! The handle is `Send`, which is all the pool needs.
//!
//! The handoff is a one-request slot (see [`Slot`]): a mutex-guarded request
//! and reply plus an atomic state, with `park`/`unpark` to wake the other
//! side. Each side first polls the state for a few tens of microseconds,
//! yielding the CPU between polls, so a short eval or a back-to-back request
//! never pays for a futex sleep and wake-up; then it parks.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use polyscript_core::{Error, EvalInput, Guard, Result, ScriptId, Value, panic_message};

use crate::engine::JsConfig;
use crate::failure::Failure;
use crate::program::JsProgram;
use crate::runtime::{Reply, Request, Runtime};

/// How often a waiting caller looks at its deadline and cancel token.
const POLL: Duration = Duration::from_millis(20);
/// How long after the deadline (or a cancel) the caller waits for the worker
/// to stop by itself before giving the instance up.
const GRACE: Duration = Duration::from_millis(500);
/// How long a caller polls for the reply (yielding between polls) before it
/// parks: covers short evals without a sleep/wake-up. Measured on the
/// greeting (release, busy 2-core machine): parking at once ≈9–12 µs per
/// `Evaluator::eval`, 50 µs of polling on both sides ≈8 µs with far fewer
/// outliers; longer polling gains nothing.
const CALLER_SPIN: Duration = Duration::from_micros(50);
/// How long an idle worker polls for the next request before it parks:
/// covers back-to-back evals.
const WORKER_SPIN: Duration = Duration::from_micros(50);

/// [`Slot::state`]: no request pending.
const IDLE: u8 = 0;
/// [`Slot::state`]: a request waits in [`Slot::request`].
const REQUESTED: u8 = 1;
/// [`Slot::state`]: the worker took the request and is running it.
const RUNNING: u8 = 2;
/// [`Slot::state`]: a reply waits in [`Slot::reply`].
const REPLIED: u8 = 3;

/// The handoff between an instance handle and its worker thread: at most one
/// request in flight. The mutexes carry the data (and its synchronization);
/// `state` only tells the polling side when to look.
struct Slot {
    state: AtomicU8,
    request: Mutex<Option<(Request, Thread)>>,
    reply: Mutex<Option<Reply>>,
    /// Set by the handle when it is dropped: the worker exits.
    closed: AtomicBool,
    /// Set by the worker thread when it exits (also by unwinding).
    exited: AtomicBool,
}

impl Slot {
    fn put_request(&self, request: Request) {
        *self.request.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((request, thread::current()));
        self.state.store(REQUESTED, Ordering::Release);
    }

    /// The worker's wait: the next request, or `None` once the handle is gone.
    fn next_request(&self) -> Option<(Request, Thread)> {
        let start = Instant::now();
        loop {
            if self.closed.load(Ordering::Acquire) {
                return None;
            }
            if self.state.load(Ordering::Acquire) == REQUESTED {
                self.state.store(RUNNING, Ordering::Relaxed);
                if let Some(request) = self
                    .request
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                {
                    return Some(request);
                }
            } else if start.elapsed() < WORKER_SPIN {
                thread::yield_now();
            } else {
                thread::park();
            }
        }
    }

    fn put_reply(&self, reply: Reply) {
        *self.reply.lock().unwrap_or_else(PoisonError::into_inner) = Some(reply);
        self.state.store(REPLIED, Ordering::Release);
    }

    /// The caller's non-blocking look: the reply, if it is there.
    fn take_reply(&self) -> Option<Reply> {
        if self.state.load(Ordering::Acquire) != REPLIED {
            return None;
        }
        self.state.store(IDLE, Ordering::Relaxed);
        self.reply
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// Marks the slot `exited` when the worker thread ends, however it ends.
struct ExitMark(Arc<Slot>);

impl Drop for ExitMark {
    fn drop(&mut self) {
        self.0.exited.store(true, Ordering::Release);
    }
}

/// An instance in [`ThreadMode::Dedicated`](crate::ThreadMode::Dedicated): a
/// worker thread holding a boa `Context` with the script compiled.
pub(crate) struct WorkerInstance {
    worker: Option<Worker>,
    program: Arc<JsProgram>,
    config: Arc<JsConfig>,
    script_id: ScriptId,
}

struct Worker {
    slot: Arc<Slot>,
    thread: Thread,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.slot.closed.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

impl std::fmt::Debug for WorkerInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerInstance")
            .field("script_id", &self.script_id)
            .field("ready", &self.worker.is_some())
            .finish()
    }
}

impl WorkerInstance {
    pub(crate) fn spawn(program: Arc<JsProgram>, config: Arc<JsConfig>) -> Result<Self> {
        let script_id = program.script_id;
        let worker = Worker::spawn(&program, &config).map_err(|f| f.into_setup_error(script_id))?;
        Ok(WorkerInstance {
            worker: Some(worker),
            program,
            config,
            script_id,
        })
    }

    pub(crate) fn eval(&mut self, input: &EvalInput<'_>, guard: &Guard<'_>) -> Result<Value> {
        let request = Request::new(input, guard);
        let worker = match self.worker.take() {
            Some(worker) => worker,
            // The previous eval left the context unusable: rebuild it.
            None => Worker::spawn(&self.program, &self.config)
                .map_err(|f| f.into_setup_error(self.script_id))?,
        };
        worker.slot.put_request(request);
        worker.thread.unpark();
        let started = Instant::now();
        let mut stopping_since: Option<Instant> = None;
        loop {
            if let Some(reply) = worker.slot.take_reply() {
                if reply.clean {
                    self.worker = Some(worker);
                }
                return reply.outcome.map_err(|f| f.into_error(guard));
            }
            if worker.slot.exited.load(Ordering::Acquire) {
                // Exited without a reply (a reply is put before exiting).
                if let Some(reply) = worker.slot.take_reply() {
                    return reply.outcome.map_err(|f| f.into_error(guard));
                }
                return Err(self.worker_lost());
            }
            if started.elapsed() < CALLER_SPIN {
                thread::yield_now();
                continue;
            }
            thread::park_timeout(POLL);
            if guard.check().is_err() {
                let since = *stopping_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= GRACE {
                    // The worker is stuck in one long native step; drop it
                    // (it exits when it next looks at its slot).
                    tracing::warn!(script_id = %self.script_id, "js worker did not stop in time; instance abandoned");
                    return Err(guard.interrupt_error());
                }
            }
        }
    }

    fn worker_lost(&self) -> Error {
        Failure::Panic("the JavaScript worker thread exited".into())
            .into_setup_error(self.script_id)
    }
}

impl Worker {
    fn spawn(program: &Arc<JsProgram>, config: &Arc<JsConfig>) -> Result<Self, Failure> {
        let slot = Arc::new(Slot {
            state: AtomicU8::new(IDLE),
            request: Mutex::new(None),
            reply: Mutex::new(None),
            closed: AtomicBool::new(false),
            exited: AtomicBool::new(false),
        });
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), Failure>>(1);
        let program = (**program).clone();
        let config = Arc::clone(config);
        let exit = ExitMark(Arc::clone(&slot));
        let handle = thread::Builder::new()
            .name("polyscript-js".into())
            .stack_size(config.stack_size)
            .spawn(move || worker_main(program, &config, ready_tx, exit))
            .map_err(|e| Failure::Panic(format!("cannot start a JavaScript worker thread: {e}")))?;
        let worker = Worker {
            slot,
            thread: handle.thread().clone(),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(worker),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(Failure::Panic(
                "the JavaScript worker thread exited while starting".into(),
            )),
        }
    }
}

fn worker_main(
    mut program: JsProgram,
    config: &JsConfig,
    ready: mpsc::SyncSender<Result<(), Failure>>,
    exit: ExitMark,
) {
    let started = Instant::now();
    // Not the program's identity: threads' caches detect a dropped program
    // by that identity having no strong owner left.
    program.identity = Arc::new(());
    // The worker's context serves this one program.
    let runtime = catch_unwind(AssertUnwindSafe(|| {
        let mut runtime = Runtime::new(config)?;
        let script = runtime.compile(&program)?;
        Ok((runtime, script))
    }))
    .unwrap_or_else(|p| Err(Failure::Panic(panic_message(p.as_ref()))));
    let (mut runtime, script) = match runtime {
        Ok(built) => built,
        Err(failure) => {
            let _ = ready.send(Err(failure));
            return;
        }
    };
    tracing::debug!(took = ?started.elapsed(), "js instance ready");
    if ready.send(Ok(())).is_err() {
        return;
    }
    let slot = &exit.0;
    let script_id = program.script_id;
    while let Some((request, caller)) = slot.next_request() {
        let reply = catch_unwind(AssertUnwindSafe(|| {
            let guard = request.guard(script_id);
            runtime.eval(&script, &program, &request.input, &guard)
        }))
        .unwrap_or_else(|p| Reply {
            outcome: Err(Failure::Panic(panic_message(p.as_ref()))),
            clean: false,
        });
        let clean = reply.clean;
        slot.put_reply(reply);
        caller.unpark();
        if !clean {
            break;
        }
    }
    // `runtime` and `script` (the context and every Gc it owns) are dropped here, on the
    // thread whose GC heap holds it; then `exit` marks the slot.
}
