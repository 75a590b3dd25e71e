//! A caller awaiting one short `eval_async` after another is served by
//! one spinning eval thread: the stream does not keep starting threads
//! (nor waking parked ones). Before an eval thread counted itself as a
//! spinner ahead of handing over its result, the caller's next eval often
//! came first, found no spinner and started a thread: 12–24 threads for
//! 20 000 evals, and a futex wake-up on many of them. Its own test binary,
//! so no other test shares the eval threads.
#![cfg(all(feature = "testkit", target_os = "linux"))]

#[allow(dead_code)]
mod toy;

use polyscript_core::{EvalContext, Evaluator, Source};
use serde_json::json;
use toy::{Flaw, Toy};

/// Threads of this process named like polyscript's eval threads.
fn eval_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "polyscript-eval")
        .count()
}

#[test]
fn a_stream_of_short_async_evals_keeps_one_or_two_threads() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("echo"))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let most = runtime.block_on(async {
        let mut most = 0;
        for i in 0..20_000 {
            let ctx = EvalContext::with_data(json!({"value": i})).unwrap();
            let out = ev.eval_async(ctx).await.unwrap();
            assert_eq!(out.value(), &json!(i));
            if i % 1000 == 0 {
                most = most.max(eval_threads());
            }
        }
        most.max(eval_threads())
    });
    // One spinner per core beyond the first (at least one), plus at most
    // one thread started while the first was still coming up.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        most <= cores.saturating_sub(1).max(1) + 1,
        "{most} eval threads for one stream of evals on {cores} cores"
    );
}
