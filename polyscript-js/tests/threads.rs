//! Worker threads end with their instance, and the default mode starts none
//! (Linux: counted in /proc).

#![cfg(target_os = "linux")]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use polyscript_core::serde_json::json;
use polyscript_core::{EvalContext, Evaluator, PoolConfig, Source};
use polyscript_js::{JsEngine, ThreadMode};

/// The tests count the process's threads, so they take turns.
static SERIAL: Mutex<()> = Mutex::new(());

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
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let engine = JsEngine::builder()
        .thread_mode(ThreadMode::Dedicated)
        .build();
    let ev = Evaluator::builder(engine, Source::from_text("ctx.n + 1"))
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

#[test]
fn caller_thread_mode_starts_no_worker_with_an_operation_limit() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ev = Evaluator::builder(JsEngine::new(), Source::from_text("ctx.n * 2"))
        .pool(PoolConfig::default().with_max_size(2).with_min_idle(2))
        .build()
        .unwrap();
    let before = workers();
    std::thread::scope(|scope| {
        for n in 0..2 {
            let ev = &ev;
            scope.spawn(move || {
                let input = EvalContext::with_data(json!({ "n": n })).unwrap();
                assert_eq!(ev.eval(&input).unwrap().value(), &json!(n * 2));
            });
        }
    });
    assert!(workers() <= before, "caller-thread evals started a worker");
}
