//! The instance handle: a dedicated thread that owns one boa `Context`.
//!
//! boa's `Context` is `!Send`, and that is load-bearing: boa_gc keeps its
//! heap (the list of every `Gc` allocation, the allocation counters, the
//! "dropping" flag) in a `thread_local!`, and `Gc` reference counts are plain
//! `Cell`s. A context moved to another thread would leave its objects in the
//! first thread's heap list, where that thread's collector could sweep or
//! dump them while the second thread uses them: a `unsafe impl Send` wrapper
//! would be unsound. So each instance owns a thread that creates, uses and
//! drops its context; `eval` sends the input over a channel and waits for the
//! reply. The handle (two channel ends) is `Send`, which is all the pool needs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use polyscript_core::{Error, Guard, Map, Result, ScriptId, Value};

use crate::engine::JsConfig;
use crate::failure::Failure;
use crate::program::JsProgram;
use crate::runtime::{Reply, Request, Runtime};

/// How often a waiting caller looks at its deadline and cancel token.
const POLL: Duration = Duration::from_millis(20);
/// How long after the deadline (or a cancel) the caller waits for the worker
/// to stop by itself before giving the instance up.
const GRACE: Duration = Duration::from_millis(500);

/// One ready JavaScript VM: a worker thread holding a boa `Context` with the
/// script compiled. Created by [`JsEngine`](crate::JsEngine)'s `instantiate`.
pub struct JsInstance {
    worker: Option<Worker>,
    program: Arc<JsProgram>,
    config: Arc<JsConfig>,
    script_id: ScriptId,
}

struct Worker {
    requests: Sender<Request>,
    replies: Receiver<Reply>,
}

impl std::fmt::Debug for JsInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsInstance")
            .field("script_id", &self.script_id)
            .field("ready", &self.worker.is_some())
            .finish()
    }
}

impl JsInstance {
    pub(crate) fn spawn(program: Arc<JsProgram>, config: Arc<JsConfig>) -> Result<Self> {
        let script_id = program.script_id;
        let worker = Worker::spawn(&program, &config).map_err(|f| f.into_setup_error(script_id))?;
        Ok(JsInstance {
            worker: Some(worker),
            program,
            config,
            script_id,
        })
    }

    pub(crate) fn eval(&mut self, input: &Map, guard: &Guard<'_>) -> Result<Value> {
        let worker = match self.worker.take() {
            Some(worker) => worker,
            // The previous eval left the context unusable: rebuild it.
            None => Worker::spawn(&self.program, &self.config)
                .map_err(|f| f.into_setup_error(self.script_id))?,
        };
        let request = Request {
            input: input.clone(),
            deadline: guard.deadline(),
            cancel: guard.cancel_token().clone(),
            limits: *guard.limits(),
        };
        if worker.requests.send(request).is_err() {
            return Err(self.worker_lost());
        }
        let mut stopping_since: Option<Instant> = None;
        loop {
            match worker.replies.recv_timeout(POLL) {
                Ok(reply) => {
                    if reply.clean {
                        self.worker = Some(worker);
                    }
                    return reply.outcome.map_err(|f| f.into_error(guard));
                }
                Err(RecvTimeoutError::Timeout) => {
                    if guard.check().is_err() {
                        let since = *stopping_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= GRACE {
                            // The worker is stuck in one long native step; drop
                            // it (it exits when it next looks at its channel).
                            tracing::warn!(script_id = %self.script_id, "js worker did not stop in time; instance abandoned");
                            return Err(guard.interrupt_error());
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.worker_lost()),
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
        let (request_tx, request_rx) = mpsc::channel::<Request>();
        let (reply_tx, reply_rx) = mpsc::channel::<Reply>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), Failure>>(1);
        let program = (**program).clone();
        let config = Arc::clone(config);
        std::thread::Builder::new()
            .name("polyscript-js".into())
            .stack_size(config.stack_size)
            .spawn(move || worker_main(program, &config, ready_tx, request_rx, reply_tx))
            .map_err(|e| Failure::Panic(format!("cannot start a JavaScript worker thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Worker {
                requests: request_tx,
                replies: reply_rx,
            }),
            Ok(Err(failure)) => Err(failure),
            Err(_) => Err(Failure::Panic(
                "the JavaScript worker thread exited while starting".into(),
            )),
        }
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

fn worker_main(
    program: JsProgram,
    config: &JsConfig,
    ready: mpsc::SyncSender<Result<(), Failure>>,
    requests: Receiver<Request>,
    replies: Sender<Reply>,
) {
    let started = Instant::now();
    let runtime = catch_unwind(AssertUnwindSafe(|| Runtime::new(program, config)))
        .unwrap_or_else(|p| Err(Failure::Panic(panic_text(p.as_ref()))));
    let mut runtime = match runtime {
        Ok(runtime) => runtime,
        Err(failure) => {
            let _ = ready.send(Err(failure));
            return;
        }
    };
    tracing::debug!(took = ?started.elapsed(), "js instance ready");
    if ready.send(Ok(())).is_err() {
        return;
    }
    while let Ok(request) = requests.recv() {
        let reply =
            catch_unwind(AssertUnwindSafe(|| runtime.eval(request))).unwrap_or_else(|p| Reply {
                outcome: Err(Failure::Panic(panic_text(p.as_ref()))),
                clean: false,
            });
        let clean = reply.clean;
        if replies.send(reply).is_err() || !clean {
            break;
        }
    }
    // `runtime` (the context and every Gc it owns) is dropped here, on the
    // thread whose GC heap holds it.
}
