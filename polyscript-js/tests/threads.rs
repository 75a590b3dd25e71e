//! Worker threads end with their instance (Linux: counted in /proc).

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use polyscript_core::serde_json::json;
use polyscript_core::{EvalContext, Evaluator, PoolConfig, Source};
use polyscript_js::JsEngine;

/// Threads of this process named like the instance workers.
fn workers() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| t.ok())
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|name| name.trim() == "polyscript-js")
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn dropping_the_evaluator_ends_its_workers() {
    let ev = Evaluator::builder(JsEngine::new(), Source::from_text("ctx.n + 1"))
        .pool(PoolConfig::default().with_max_size(2).with_min_idle(2))
        .build()
        .unwrap();
    let input = EvalContext::with_data(json!({"n": 1})).unwrap();
    assert_eq!(ev.eval(&input).unwrap().value(), &json!(2));
    assert!(workers() >= 2, "one worker per idle instance");
    drop(ev);
    // "Did not hang": the workers notice the closed slot and exit.
    let start = Instant::now();
    while workers() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} worker threads still running",
            workers()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
