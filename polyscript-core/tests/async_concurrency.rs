//! `eval_async` with async host functions runs as many evals at once as
//! the pool allows: with a pool of N, N evals wait on their host futures
//! concurrently (so throughput approaches N / latency), never more than N
//! are in flight, and the executor keeps running meanwhile.
#![cfg(feature = "testkit")]

#[allow(dead_code)]
mod toy;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polyscript_core::host::{HostError, HostFunctions};
use polyscript_core::{Error, EvalContext, Evaluator, Limits, PoolConfig, Source};
use serde_json::json;
use toy::Toy;

/// Counts host futures pending at once; records, for every call, how many
/// were pending once it started (itself included).
#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    at_start: Mutex<Vec<usize>>,
}

impl InFlight {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.at_start.lock().unwrap().push(now);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Leaves the count when the future ends or is dropped.
struct Leave(Arc<InFlight>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// `wait(ms)`: a tokio sleep, counted while pending.
fn counted_wait(in_flight: &Arc<InFlight>) -> HostFunctions {
    let in_flight = Arc::clone(in_flight);
    HostFunctions::new().register_async("wait", move |(ms,): (u64,)| {
        let in_flight = Arc::clone(&in_flight);
        async move {
            in_flight.enter();
            let _leave = Leave(in_flight);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<_, HostError>(ms)
        }
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

const POOL: usize = 4;
const EVALS: usize = 40;

#[test]
fn a_pool_of_n_waits_on_n_host_futures_at_once() {
    let in_flight = Arc::new(InFlight::default());
    let ev = Evaluator::builder(
        Toy::with_host(counted_wait(&in_flight)),
        Source::from_text("host_wait"),
    )
    .pool(
        PoolConfig::default()
            .with_max_size(POOL)
            .with_acquire_timeout(Duration::from_secs(60)),
    )
    .limits(Limits::default().with_timeout(Duration::from_secs(60)))
    .build()
    .unwrap()
    .into_any();
    let started = Instant::now();
    let (ok, worst_lag) = runtime().block_on(async {
        let worst = Arc::new(AtomicU64::new(0));
        let ticker = {
            let worst = Arc::clone(&worst);
            tokio::spawn(async move {
                let mut last = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let lag = last.elapsed().saturating_sub(Duration::from_millis(1));
                    worst.fetch_max(lag.as_micros() as u64, Ordering::Relaxed);
                    last = Instant::now();
                }
            })
        };
        let evals: Vec<_> = (0..EVALS)
            .map(|_| {
                let ctx = EvalContext::with_data(json!({ "ms": 50 })).unwrap();
                tokio::spawn(ev.eval_async(ctx))
            })
            .collect();
        let mut ok = 0;
        for eval in evals {
            if eval.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        ticker.abort();
        (ok, worst.load(Ordering::Relaxed))
    });
    let at_start = in_flight.at_start.lock().unwrap().clone();
    eprintln!("host futures pending as each call started: {at_start:?}");
    assert_eq!(ok, EVALS);
    assert_eq!(at_start.len(), EVALS);
    assert_eq!(in_flight.now.load(Ordering::SeqCst), 0);
    // The pool bounds the evals, so the host calls, in flight.
    let most = at_start.iter().max().copied().unwrap_or(0);
    assert!(most <= POOL, "{most} host futures pending at once");
    // And the pool stays in full use, not just in the first wave: after
    // the first two waves, N instances again wait on N host futures at
    // once. (Lost pool wake-ups let a saturated pool settle at 1 in use
    // and N - 1 idle.)
    let late = at_start[2 * POOL..].iter().max().copied().unwrap_or(0);
    assert_eq!(late, POOL, "after the first waves: {at_start:?}");
    let late_mean = at_start[2 * POOL..].iter().sum::<usize>() as f64 / (EVALS - 2 * POOL) as f64;
    assert!(late_mean >= 2.0, "after the first waves: {at_start:?}");
    assert!(ev.pool_stats().created <= POOL as u64);
    // 40 × 50 ms over 4 instances is 0.5 s; serialised it is 2 s. Generous.
    assert!(started.elapsed() < Duration::from_secs(10));
    // Generous too: the executor is never blocked for long.
    assert!(worst_lag < 250_000, "the ticker fell {worst_lag} µs behind");
}

#[test]
fn a_host_future_that_never_completes_ends_at_the_deadline_and_is_dropped() {
    let in_flight = Arc::new(InFlight::default());
    let ev = Evaluator::builder(
        Toy::with_host(counted_wait(&in_flight)),
        Source::from_text("host_wait"),
    )
    .pool(PoolConfig::default().with_max_size(POOL))
    .limits(Limits::default().with_timeout(Duration::from_millis(200)))
    .build()
    .unwrap()
    .into_any();
    let started = Instant::now();
    let outcomes = runtime().block_on(async {
        // One per instance: no eval waits for the pool (a pool wait that
        // reaches the deadline ends in `PoolExhausted`, as in `eval`).
        let evals: Vec<_> = (0..POOL)
            .map(|_| {
                let ctx = EvalContext::with_data(json!({ "ms": 3_600_000 })).unwrap();
                tokio::spawn(ev.eval_async(ctx))
            })
            .collect();
        let mut outcomes = Vec::new();
        for eval in evals {
            outcomes.push(eval.await.unwrap());
        }
        outcomes
    });
    assert_eq!(outcomes.len(), POOL);
    for outcome in &outcomes {
        assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
    }
    // Every timed-out eval dropped its host future.
    assert_eq!(in_flight.now.load(Ordering::SeqCst), 0);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_cancelled_eval_drops_its_host_future() {
    let in_flight = Arc::new(InFlight::default());
    let ev = Evaluator::builder(
        Toy::with_host(counted_wait(&in_flight)),
        Source::from_text("host_wait"),
    )
    .pool(PoolConfig::default().with_max_size(POOL))
    .limits(Limits::default().with_timeout(Duration::from_secs(60)))
    .build()
    .unwrap()
    .into_any();
    let started = Instant::now();
    let outcome = runtime().block_on(async {
        let token = polyscript_core::CancelToken::new();
        let ctx = EvalContext::with_data(json!({ "ms": 3_600_000 }))
            .unwrap()
            .with_cancel_token(token.clone());
        let eval = tokio::spawn(ev.eval_async(ctx));
        while in_flight.now.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        token.cancel();
        eval.await.unwrap()
    });
    assert!(
        matches!(outcome, Err(Error::Cancelled { .. })),
        "{outcome:?}"
    );
    assert_eq!(in_flight.now.load(Ordering::SeqCst), 0);
    assert!(started.elapsed() < Duration::from_secs(10));
}
