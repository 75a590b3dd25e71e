//! Worker threads end with their instance, and the default mode starts none
//! (Linux: counted in /proc).

#![cfg(target_os = "linux")]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use polyscript_core::serde_json::json;
use polyscript_core::{EvalContext, Evaluator, Limits, PoolConfig, Source};
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
fn caller_thread_mode_starts_no_worker_even_without_an_operation_limit() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for limits in [
        Limits::default(),
        Limits::default().without_operation_limit(),
    ] {
        let ev = Evaluator::builder(JsEngine::new(), Source::from_text("ctx.n * 2"))
            .limits(limits)
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
}

#[test]
fn a_timed_out_eval_leaves_no_thread_running_the_script() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let limits = Limits::default()
        .with_timeout(Duration::from_millis(200))
        .without_operation_limit();
    for script in [
        "[1].map(() => { for (;;) {} })",
        "/(a+)+$/.test('a'.repeat(40) + '!')",
    ] {
        let ev = Evaluator::builder(
            JsEngine::builder()
                .thread_mode(ThreadMode::Dedicated)
                .build(),
            Source::from_text(script),
        )
        .limits(limits)
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
        .unwrap();
        let before = workers();
        assert!(before >= 1, "the instance's worker runs");
        let outcome = ev.eval(&EvalContext::with_data(json!({})).unwrap());
        assert!(
            matches!(outcome, Err(polyscript_core::Error::Timeout { .. })),
            "{outcome:?}"
        );
        // The worker stopped the script itself and replied; its instance was
        // discarded, so the thread ends (a worker stuck in the script would
        // keep running).
        let start = Instant::now();
        while workers() >= before {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{script}: the worker thread is still running"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
