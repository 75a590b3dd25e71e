//! Promise jobs of one eval: queued while the script runs, run only to
//! settle a promise the script returned, dropped when the eval ends.
//!
//! boa has no timers of its own (`setTimeout` is not defined); the other
//! job kinds it can enqueue (`Atomics.waitAsync` timeouts, dynamic
//! `import()`, `FinalizationRegistry` clean-ups) are dropped at once, so a
//! promise waiting on them never settles. Nothing queued outlives the eval.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use boa_engine::builtins::promise::PromiseState;
use boa_engine::job::{Job, JobExecutor, PromiseJob};
use boa_engine::object::builtins::JsPromise;
use boa_engine::{Context, JsNativeError, JsResult, JsValue};

/// The promise job queue of one context.
#[derive(Default)]
pub(crate) struct Jobs {
    queue: RefCell<VecDeque<PromiseJob>>,
}

impl Jobs {
    /// Drops every queued job (end of an eval).
    pub(crate) fn clear(&self) {
        // Jobs hold script values; drop them outside the borrow.
        let jobs = std::mem::take(&mut *self.queue.borrow_mut());
        drop(jobs);
    }

    fn next(&self) -> Option<PromiseJob> {
        self.queue.borrow_mut().pop_front()
    }
}

impl JobExecutor for Jobs {
    fn enqueue_job(self: Rc<Self>, job: Job, _context: &mut Context) {
        if let Job::PromiseJob(job) = job {
            self.queue.borrow_mut().push_back(job);
        }
    }

    fn run_jobs(self: Rc<Self>, context: &mut Context) -> JsResult<()> {
        while let Some(job) = self.next() {
            context.check_interrupt()?;
            job.call(context)?;
        }
        Ok(())
    }
}

/// How a promise the script returned ended.
pub(crate) enum Settled {
    Fulfilled(JsValue),
    Rejected(JsValue),
}

/// Runs queued jobs until `promise` settles. A promise still pending when
/// no job is left never settles: a `TypeError`.
pub(crate) fn settle(promise: &JsPromise, jobs: &Jobs, context: &mut Context) -> JsResult<Settled> {
    loop {
        match promise.state() {
            PromiseState::Fulfilled(value) => return Ok(Settled::Fulfilled(value)),
            PromiseState::Rejected(reason) => return Ok(Settled::Rejected(reason)),
            PromiseState::Pending => {
                context.check_interrupt()?;
                let Some(job) = jobs.next() else {
                    return Err(JsNativeError::typ()
                        .with_message(
                            "the script's promise never settles (nothing left to run; \
                             there are no timers)",
                        )
                        .into());
                };
                job.call(context)?;
            }
        }
    }
}
