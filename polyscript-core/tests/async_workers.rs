//! polyscript's eval threads start a thread for every queued eval while
//! the others are busy: evals submitted in a burst while only one thread
//! is parked all start at once (none waits behind another's blocking host
//! call). Its own test binary, so no other test shares the eval threads.
#![cfg(feature = "testkit")]

#[allow(dead_code)]
mod toy;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use polyscript_core::host::{HostError, HostFunctions};
use polyscript_core::{EvalContext, Evaluator, Limits, PoolConfig, Source};
use serde_json::json;
use toy::Toy;

const BURST: usize = 16;

#[test]
fn a_burst_of_blocking_evals_gets_a_thread_each() {
    let running = Arc::new(AtomicUsize::new(0));
    let gave_up = Arc::new(AtomicUsize::new(0));
    // Every call blocks its eval thread (as a synchronous call inside an
    // async host function does) until all BURST calls run at once, or
    // gives up after 10 s: with fewer eval threads than queued evals, some
    // run only after others have given up.
    let host = {
        let running = Arc::clone(&running);
        let gave_up = Arc::clone(&gave_up);
        HostFunctions::new().register_async("wait", move |(ms,): (u64,)| {
            let running = Arc::clone(&running);
            let gave_up = Arc::clone(&gave_up);
            async move {
                if ms > 0 {
                    running.fetch_add(1, Ordering::SeqCst);
                    let until = Instant::now() + Duration::from_secs(10);
                    while running.load(Ordering::SeqCst) < BURST {
                        if Instant::now() > until {
                            gave_up.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                Ok::<_, HostError>(ms)
            }
        })
    };
    let ev = Evaluator::builder(Toy::with_host(host), Source::from_text("host_wait"))
        .pool(
            PoolConfig::default()
                .with_max_size(BURST)
                .with_min_idle(BURST),
        )
        .limits(Limits::default().with_timeout(Duration::from_secs(120)))
        .build()
        .unwrap()
        .into_any();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // One eval thread exists and has gone idle (parked).
        let ctx = EvalContext::with_data(json!({ "ms": 0 })).unwrap();
        ev.eval_async(ctx).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let evals: Vec<_> = (0..BURST)
            .map(|_| {
                let ctx = EvalContext::with_data(json!({ "ms": 1 })).unwrap();
                tokio::spawn(ev.eval_async(ctx))
            })
            .collect();
        for eval in evals {
            eval.await.unwrap().unwrap();
        }
    });
    assert_eq!(running.load(Ordering::SeqCst), BURST);
    assert_eq!(
        gave_up.load(Ordering::SeqCst),
        0,
        "not all {BURST} evals had a thread at once"
    );
}
