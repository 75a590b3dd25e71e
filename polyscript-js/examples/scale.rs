//! Many evaluators of distinct scripts on one thread: what rotating over
//! them costs, and how much memory each one holds.
//!
//! `cargo run --release -p polyscript-js --example scale [MAX]` prints the
//! greeting's hot per-eval time on one evaluator, the per-eval time when one
//! thread evaluates 100, 1 000 and 10 000 (or up to `MAX`) evaluators in
//! turn, the resident memory each evaluator adds (from `/proc/self/statm`),
//! and what building a new evaluator costs.

use std::time::Instant;

use polyscript_core::serde_json::json;
use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_js::JsEngine;

/// As the facade installs it: the memory limit is metered.
#[global_allocator]
static ALLOC: polyscript_core::alloc::Accounting = polyscript_core::alloc::Accounting::system();

/// The greeting, made distinct per tenant by a trailing comment.
fn script(tenant: usize) -> String {
    format!(
        "const g = \"Hello, \" + ctx.name + \"!\"; ({{greeting: g, length: g.length}}) // tenant {tenant}"
    )
}

/// Resident memory of this process in bytes (Linux), 0 elsewhere.
fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn check(ev: &Evaluator<JsEngine>, input: &EvalContext) {
    let response = ev.eval(input).expect("eval");
    assert_eq!(
        response.value(),
        &json!({"greeting": "Hello, World!", "length": 13})
    );
}

fn main() {
    let max: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let engine = JsEngine::new();
    let input = EvalContext::with_data(json!({"name": "World"})).expect("input");

    // Hot: one evaluator, warm.
    let hot = Evaluator::new(engine.clone(), Source::from_text(script(usize::MAX))).expect("build");
    for _ in 0..1_000 {
        check(&hot, &input);
    }
    let n = 20_000;
    let start = Instant::now();
    for _ in 0..n {
        check(&hot, &input);
    }
    let hot_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("hot greeting, one evaluator: {hot_us:.2} µs/eval");
    drop(hot);

    // A new context: the first evaluator on a fresh thread builds one (and
    // compiles its script), the second on that thread only compiles.
    let (first_us, second_us) = std::thread::spawn({
        let engine = engine.clone();
        move || {
            let start = Instant::now();
            let a = Evaluator::new(engine.clone(), Source::from_text(script(1 << 40))).expect("a");
            let first = start.elapsed().as_secs_f64() * 1e6;
            let start = Instant::now();
            let b = Evaluator::new(engine, Source::from_text(script(1 << 41))).expect("b");
            let second = start.elapsed().as_secs_f64() * 1e6;
            drop((a, b));
            (first, second)
        }
    })
    .join()
    .expect("thread");
    println!(
        "first evaluator on a fresh thread: {first_us:.0} µs, second on that thread: {second_us:.0} µs"
    );

    for count in [100, 1_000, 10_000] {
        if count > max {
            break;
        }
        let before = rss_bytes();
        let start = Instant::now();
        let evaluators: Vec<_> = (0..count)
            .map(|i| Evaluator::new(engine.clone(), Source::from_text(script(i))).expect("build"))
            .collect();
        let build_us = start.elapsed().as_secs_f64() * 1e6 / count as f64;
        let built = rss_bytes();
        // One warm-up rotation, then timed rotations (at least 20 000 evals).
        for ev in &evaluators {
            check(ev, &input);
        }
        let rounds = (20_000 / count).max(1);
        let start = Instant::now();
        for _ in 0..rounds {
            for ev in &evaluators {
                check(ev, &input);
            }
        }
        let evals = rounds * count;
        let rotate_us = start.elapsed().as_secs_f64() * 1e6 / evals as f64;
        let after = rss_bytes();
        println!(
            "{count:>6} evaluators: build {build_us:8.1} µs each, rotation {rotate_us:8.2} µs/eval \
             ({:.1}× hot), RSS +{:.1} KB/evaluator after build, +{:.1} KB/evaluator after evals",
            rotate_us / hot_us,
            built.saturating_sub(before) as f64 / 1024.0 / count as f64,
            after.saturating_sub(before) as f64 / 1024.0 / count as f64,
        );
        drop(evaluators);
    }
    println!(
        "contexts built on this thread: {}",
        polyscript_js::contexts_built()
    );

    // What a whole context costs: in dedicated mode every instance owns
    // one (and a worker thread, whose stack is only reserved).
    let dedicated = JsEngine::builder()
        .thread_mode(polyscript_js::ThreadMode::Dedicated)
        .build();
    let count = 100.min(max);
    let before = rss_bytes();
    let evaluators: Vec<_> = (0..count)
        .map(|i| Evaluator::new(dedicated.clone(), Source::from_text(script(i))).expect("build"))
        .collect();
    for ev in &evaluators {
        check(ev, &input);
    }
    println!(
        "dedicated mode, {count} evaluators (a context and a thread each): RSS +{:.1} KB/evaluator",
        rss_bytes().saturating_sub(before) as f64 / 1024.0 / count as f64
    );
}
