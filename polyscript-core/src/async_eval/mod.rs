//! `eval_async`: evaluating from async code without blocking the executor.
//!
//! Engines are synchronous (a Lua state, a boa context and a wasm store all
//! run on the thread that calls them), so an async eval runs the ordinary
//! synchronous eval on one of polyscript's own eval threads ([`workers`])
//! while the caller's future waits:
//!
//! 1. The future waits for a pooled instance *asynchronously*
//!    (`Pool::acquire_async`): no thread waits for a busy pool; waiting
//!    futures are woken oldest first, and give up with `PoolExhausted` after
//!    the pool's acquire timeout or the eval's deadline, as `eval` does.
//! 2. The eval runs on an eval thread (a new instance, if one is needed, is
//!    created there too), under the same deadline, limits and cancellation
//!    as `eval`.
//! 3. The result comes back through a oneshot channel, which wakes the task;
//!    when the evaluator's recent evals were short, the first poll watches
//!    the channel for about an eval's time (bounded, see `spin_wait`)
//!    instead, which saves the wake-up.
//!
//! Dropping the future cancels the eval: it runs with a child of the
//! context's cancellation token, which the future cancels when dropped, so
//! the script stops at its next check and its instance goes back to the pool
//! or is discarded exactly as after any cancellation. The caller's own token
//! is untouched.
//!
//! Why polyscript's own threads rather than the runtime's blocking pool:
//! the core stays runtime-agnostic (the future is `Send` and works under
//! tokio, async-std or a plain `block_on`), and a small pool with a short
//! spin before parking hands an eval over faster than a general-purpose
//! blocking pool (see BENCHMARKS.md, `eval_async` overhead). With the
//! `tokio` feature the eval thread enters the caller's runtime context, so
//! async host functions can use tokio's timers and I/O.

mod block_on;
mod spin_wait;
pub(crate) mod workers;

pub(crate) use block_on::block_on_bounded;
pub(crate) use spin_wait::RecentEvalTime;

use std::future::Future;
use std::pin::Pin;

use futures_channel::oneshot;

use crate::cancel::CancelToken;
use crate::context::EvalContext;
use crate::error::{Error, Result};
use crate::response::Response;

/// A boxed, `Send` eval future (what [`AnyEvaluator::eval_async`](crate::AnyEvaluator::eval_async) returns).
pub type EvalFuture = Pin<Box<dyn Future<Output = Result<Response>> + Send + 'static>>;

/// Cancels the eval's own token when the future is dropped before the eval
/// has finished.
pub(crate) struct CancelOnDrop(Option<CancelToken>);

impl CancelOnDrop {
    pub(crate) fn new(token: CancelToken) -> Self {
        CancelOnDrop(Some(token))
    }

    /// The eval finished: nothing to cancel.
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}

/// `ctx` with its own child cancellation token (and the guard that cancels
/// it when dropped).
pub(crate) fn detach(ctx: EvalContext) -> (EvalContext, CancelOnDrop) {
    let token = ctx.cancel_token().child();
    (
        ctx.with_cancel_token(token.clone()),
        CancelOnDrop::new(token),
    )
}

/// Runs `job` on an eval thread and waits for its result without blocking
/// (after a bounded spin when `recent` says this evaluator's evals are
/// short, see `spin_wait`); records how long the job took in `recent`.
pub(crate) async fn run_on_worker<R: Send + 'static>(
    job: impl FnOnce() -> Result<R> + Send + 'static,
    recent: &RecentEvalTime,
) -> Result<R> {
    let (tx, rx) = oneshot::channel();
    #[cfg(feature = "tokio")]
    let runtime = tokio::runtime::Handle::try_current().ok();
    workers::submit(Box::new(move |finishing: &workers::Finishing<'_>| {
        #[cfg(feature = "tokio")]
        let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
        let started = crate::clock::Instant::now();
        let result = job();
        let took = started.elapsed();
        // Counted as a spinner before the caller can see the result and
        // submit its next eval.
        finishing.announce();
        // The receiver is gone when the future was dropped: nothing to do
        // with the result then.
        let _ = tx.send((result, took));
    }));
    match spin_wait::SpinThenWait::new(rx, recent).await {
        Ok((result, took)) => {
            recent.record(took);
            result
        }
        Err(_) => Err(Error::EnginePanic {
            engine: crate::engine::EngineKind::Other("polyscript"),
            script_id: crate::script_id::ScriptId::of(b""),
            message: "the eval thread ended without a result".into(),
        }),
    }
}
