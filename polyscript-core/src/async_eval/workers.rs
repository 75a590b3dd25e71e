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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// One eval to run. It calls the [`Finishing`] it is given right before it
/// hands its result over (see there).
pub(crate) type Job = Box<dyn FnOnce(&Finishing<'_>) + Send>;

/// Given to a [`Job`]: calling it says the job is about to hand over its
/// result, so the thread counts itself as a spinner *before* the caller can
/// see the result and submit its next job. Counted only after the job had
/// returned, the thread was often still uncounted when that next job came (a
/// caller awaiting one short eval after another reacts within a microsecond),
/// and the job woke a parked thread or started one: 13 threads for 20 000
/// sequential jobs, and a futex wake-up on most of them.
pub(crate) struct Finishing<'a> {
    pool: &'a Workers,
    counted: std::cell::Cell<bool>,
}

impl Finishing<'_> {
    /// Counts this thread in as a spinner, if there is room for one.
    pub(crate) fn announce(&self) {
        if !self.counted.get() && self.pool.spinners.start(self.pool.max_spinners) {
            self.counted.set(true);
        }
    }
}

/// An idle thread ends after this long without work.
const IDLE_EXIT: Duration = Duration::from_secs(10);
/// How long an idle thread spins for new work before parking.
const SPIN: Duration = Duration::from_micros(50);

struct Workers {
    state: Mutex<State>,
    /// Jobs queued (read without the lock by spinning threads).
    queued: AtomicUsize,
    /// Threads spinning for work, and how many queued jobs count on one of
    /// them (see [`Spinners`]).
    spinners: Spinners,
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
        spinners: Spinners::default(),
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
        if pool.spinners.claim() {
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

/// The spinning threads and the claims on them, in one word so that a
/// claim is only made while a spinner is free for it: spinning threads in
/// the high half, queued jobs that counted on a spinner (instead of waking
/// or starting a thread) in the low half. Every spinner counts itself in and
/// out; whoever takes a job from the queue settles one claim. Claims are
/// anonymous, so a spinner never has to know whether a claim was meant for
/// it: counting a "claimed" spinner out by taking one from a single count
/// (as before) took the count of *another* spinner when two overlapped, and
/// the uncounted spinners then let jobs start more threads, which spun too,
/// until the threads that ran evals had no core left (some processes made
/// every `eval_async` 25–45× slower than `eval`).
#[derive(Default)]
struct Spinners(AtomicU64);

impl Spinners {
    const ONE_SPINNER: u64 = 1 << 32;

    fn split(word: u64) -> (u64, u64) {
        (word >> 32, word & 0xFFFF_FFFF)
    }

    /// Counts a spinner in unless `max` already spin; whether it did.
    fn start(&self, max: usize) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
                let (spinning, _) = Self::split(word);
                (spinning < max as u64).then_some(word + Self::ONE_SPINNER)
            })
            .is_ok()
    }

    /// Counts a spinner out.
    fn stop(&self) {
        self.0.fetch_sub(Self::ONE_SPINNER, Ordering::SeqCst);
    }

    /// A job counts on a spinner, if one is spinning that no other queued
    /// job counts on; whether it could.
    fn claim(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
                let (spinning, claims) = Self::split(word);
                (spinning > claims).then_some(word + 1)
            })
            .is_ok()
    }

    /// A job left the queue: one claim (if any) is settled.
    fn settle(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
                let (_, claims) = Self::split(word);
                (claims > 0).then(|| word - 1)
            });
    }
}

impl Workers {
    fn take(&self) -> Option<Job> {
        if self.queued.load(Ordering::SeqCst) == 0 {
            return None;
        }
        self.pop(&mut self.state.lock())
    }

    /// Takes the next job from the queue, keeping the counts that describe
    /// it (`queued`, the spinner claims) in step.
    fn pop(&self, state: &mut State) -> Option<Job> {
        let job = state.jobs.pop_front()?;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        self.spinners.settle();
        Some(job)
    }

    fn run(&self) {
        // Whether the last job counted this thread in as a spinner already.
        let mut counted = false;
        loop {
            let job = match self.take() {
                Some(job) => {
                    if counted {
                        self.spinners.stop();
                    }
                    Some(job)
                }
                None => self.spin(counted).or_else(|| self.park()),
            };
            match job {
                Some(job) => counted = self.execute(job),
                None => {
                    self.threads.fetch_sub(1, Ordering::SeqCst);
                    // A job may have arrived after the last look and seen
                    // this thread as still running.
                    if let Some(job) = self.take() {
                        self.threads.fetch_add(1, Ordering::SeqCst);
                        counted = self.execute(job);
                        continue;
                    }
                    return;
                }
            }
        }
    }

    /// Runs `job`; whether it counted this thread in as a spinner.
    fn execute(&self, job: Job) -> bool {
        let finishing = Finishing {
            pool: self,
            counted: std::cell::Cell::new(false),
        };
        // A panicking job (an engine bug) must not take the thread down
        // with it: the evaluator reports it.
        let _ = catch_unwind(AssertUnwindSafe(|| job(&finishing)));
        finishing.counted.get()
    }

    /// Spins for [`SPIN`], counted in [`Spinners`] so a job submitted
    /// meanwhile claims a spinner instead of waking or starting a thread.
    /// `None` when no job came: `park` looks at the queue again under the
    /// lock before it sleeps, so a job that claimed a spinner just as this
    /// one stopped is still taken.
    ///
    /// `counted`: the last job already counted this thread in.
    fn spin(&self, counted: bool) -> Option<Job> {
        // One spinner serves a stream of short evals; more would only take
        // CPU time from the threads that run the caller's executor.
        if !counted && !self.spinners.start(self.max_spinners) {
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
        self.spinners.stop();
        job
    }

    /// Waits for work; `None` after [`IDLE_EXIT`] without any.
    fn park(&self) -> Option<Job> {
        let mut state = self.state.lock();
        let deadline = Instant::now() + IDLE_EXIT;
        loop {
            if let Some(job) = self.pop(&mut state) {
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
        submit(Box::new(|_: &Finishing<'_>| panic!("a bad job")));
        for i in 0..100 {
            let tx = tx.clone();
            submit(Box::new(move |_: &Finishing<'_>| tx.send(i).unwrap()));
        }
        let mut got: Vec<i32> = (0..100).map(|_| rx.recv().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_spinner_stays_counted_when_another_leaves_with_a_job() {
        let spinners = Spinners::default();
        assert!(spinners.start(2), "A spins");
        assert!(spinners.claim(), "job 1 counts on A");
        assert!(spinners.start(2), "B starts spinning meanwhile");
        // A takes job 1 and stops spinning.
        spinners.settle();
        spinners.stop();
        // B still spins, unclaimed: the next job counts on it (the old
        // single count had lost B here, and the job started a thread).
        assert!(spinners.claim(), "job 2 counts on B");
        assert!(!spinners.claim(), "no third spinner for job 3");
        spinners.settle();
        spinners.stop();
        assert!(!spinners.claim(), "nobody spins");
        assert!(spinners.start(1));
        assert!(!spinners.start(1), "at most `max` spin");
    }

    #[test]
    fn blocked_jobs_do_not_stop_others_from_starting() {
        let (release, wait) = mpsc::channel::<()>();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        for _ in 0..4 {
            let wait = std::sync::Arc::clone(&wait);
            submit(Box::new(move |_: &Finishing<'_>| {
                let _ = wait.lock().unwrap().recv_timeout(Duration::from_secs(5));
            }));
        }
        let (tx, rx) = mpsc::channel();
        submit(Box::new(move |_: &Finishing<'_>| tx.send(()).unwrap()));
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
        drop(release);
    }
}
