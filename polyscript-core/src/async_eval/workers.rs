//! polyscript's eval threads: an elastic pool that runs `eval_async`'s
//! synchronous evals.
//!
//! Threads are started on demand, up to [`max_threads`] (a thread blocked
//! in a slow host function holds one, so the cap is well above the core
//! count), and end after [`IDLE_EXIT`] without work. An idle thread spins
//! briefly before it parks: a job submitted while it spins starts without a
//! futex wake-up, which is most of the hand-off cost for short evals. A
//! spinning thread is counted, and a job claims it instead of waking or
//! starting another thread: without that count, every job submitted while
//! the last one's thread still spun started a new thread (~20 µs, most of
//! what `eval_async` added to a short eval).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// One eval to run.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// An idle thread ends after this long without work.
const IDLE_EXIT: Duration = Duration::from_secs(10);
/// How long an idle thread spins for new work before parking.
const SPIN: Duration = Duration::from_micros(50);

struct Workers {
    state: Mutex<State>,
    /// Jobs queued (read without the lock by spinning threads).
    queued: AtomicUsize,
    /// Threads spinning for work that no job has claimed yet.
    spinning: AtomicUsize,
    work: Condvar,
    threads: AtomicUsize,
    max: usize,
    /// Most threads spinning at once: one per core beyond the first, at
    /// least one.
    max_spinners: usize,
}

/// The queue and who will take from it, behind one lock.
struct State {
    jobs: VecDeque<Job>,
    /// Threads parked on `work`.
    sleeping: usize,
    /// Parked threads already woken for a job and not yet up. A job is
    /// handed to a parked thread only while `sleeping > wakeups`: counting
    /// merely the parked threads let a burst of jobs all count on the one
    /// thread that was parked, and the jobs after the first waited, with
    /// no thread, behind whatever that thread ran first (a blocking host
    /// call: up to the eval's whole deadline).
    wakeups: usize,
}

/// Most eval threads at once: 8 per core, at least 64.
pub(crate) fn max_threads() -> usize {
    let cores = crate::cores::cores();
    (cores * 8).max(64)
}

fn workers() -> &'static Workers {
    static WORKERS: OnceLock<Workers> = OnceLock::new();
    WORKERS.get_or_init(|| Workers {
        state: Mutex::new(State {
            jobs: VecDeque::new(),
            sleeping: 0,
            wakeups: 0,
        }),
        queued: AtomicUsize::new(0),
        spinning: AtomicUsize::new(0),
        work: Condvar::new(),
        threads: AtomicUsize::new(0),
        max: max_threads(),
        max_spinners: crate::cores::cores().saturating_sub(1).max(1),
    })
}

/// Runs `job` on an eval thread: a spinning one no other job has claimed,
/// else a parked one nobody has claimed yet, else a new one.
pub(crate) fn submit(job: Job) {
    let pool = workers();
    {
        let mut state = pool.state.lock();
        state.jobs.push_back(job);
        pool.queued.fetch_add(1, Ordering::SeqCst);
        // A claimed spinner takes a job before it stops spinning, or looks
        // at the queue (under this lock) before it parks: the job is seen.
        if claim(&pool.spinning) {
            return;
        }
        if state.sleeping > state.wakeups {
            state.wakeups += 1;
            pool.work.notify_one();
            return;
        }
    }
    let spawn = pool
        .threads
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < pool.max).then_some(n + 1)
        })
        .is_ok();
    if spawn {
        let started = std::thread::Builder::new()
            .name("polyscript-eval".into())
            .spawn(|| workers().run());
        if started.is_err() {
            pool.threads.fetch_sub(1, Ordering::SeqCst);
            tracing::error!(
                "cannot start a polyscript eval thread; the job waits for a running one"
            );
        }
    }
}

/// Takes one from `count` unless it is zero; whether it did.
fn claim(count: &AtomicUsize) -> bool {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Workers {
    fn take(&self) -> Option<Job> {
        if self.queued.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let job = self.state.lock().jobs.pop_front();
        if job.is_some() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
        }
        job
    }

    fn run(&self) {
        loop {
            let job = self.take().or_else(|| self.spin()).or_else(|| self.park());
            match job {
                Some(job) => {
                    // A panicking job (an engine bug) must not take the
                    // thread down with it: the evaluator reports it.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
                None => {
                    self.threads.fetch_sub(1, Ordering::SeqCst);
                    // A job may have arrived after the last look and seen
                    // this thread as still running.
                    if let Some(job) = self.take() {
                        self.threads.fetch_add(1, Ordering::SeqCst);
                        let _ = catch_unwind(AssertUnwindSafe(job));
                        continue;
                    }
                    return;
                }
            }
        }
    }

    /// Spins for [`SPIN`], counted in `spinning` so a job submitted
    /// meanwhile claims this thread. `None` when no job came, or one claimed
    /// this thread but another took it: `park` looks at the queue again
    /// under the lock before it sleeps, so a claim is never lost.
    fn spin(&self) -> Option<Job> {
        // One spinner serves a stream of short evals; more would only take
        // CPU time from the threads that run the caller's executor.
        let spinners = self
            .spinning
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_spinners).then_some(n + 1)
            });
        if spinners.is_err() {
            return None;
        }
        // polyscript's clock: a spin reads it often, and `std`'s is a
        // system call's worth slower on this VM.
        let until = crate::clock::Instant::now() + SPIN;
        let job = loop {
            if let Some(job) = self.take() {
                break Some(job);
            }
            if crate::clock::Instant::now() >= until {
                break None;
            }
            std::hint::spin_loop();
        };
        // Unclaimed: no longer counted. Claimed: the claimer already took
        // this thread off the count.
        claim(&self.spinning);
        job
    }

    /// Waits for work; `None` after [`IDLE_EXIT`] without any.
    fn park(&self) -> Option<Job> {
        let mut state = self.state.lock();
        let deadline = Instant::now() + IDLE_EXIT;
        loop {
            if let Some(job) = state.jobs.pop_front() {
                self.queued.fetch_sub(1, Ordering::SeqCst);
                return Some(job);
            }
            state.sleeping += 1;
            let timed_out = self.work.wait_until(&mut state, deadline).timed_out();
            state.sleeping -= 1;
            // Up, whether by that wake-up or not: it is used (the job it was
            // for is taken by this look or was taken by someone else).
            if state.wakeups > 0 {
                state.wakeups -= 1;
                continue;
            }
            if timed_out && state.jobs.is_empty() {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn jobs_run_and_a_panicking_one_does_not_stop_the_pool() {
        let (tx, rx) = mpsc::channel();
        submit(Box::new(|| panic!("a bad job")));
        for i in 0..100 {
            let tx = tx.clone();
            submit(Box::new(move || tx.send(i).unwrap()));
        }
        let mut got: Vec<i32> = (0..100).map(|_| rx.recv().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn blocked_jobs_do_not_stop_others_from_starting() {
        let (release, wait) = mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        for _ in 0..4 {
            let wait = std::sync::Arc::clone(&wait);
            submit(Box::new(move || {
                let _ = wait.lock().unwrap().recv_timeout(Duration::from_secs(5));
            }));
        }
        let (tx, rx) = mpsc::channel();
        submit(Box::new(move || tx.send(()).unwrap()));
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
        drop(release);
    }
}
