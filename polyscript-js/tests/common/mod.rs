//! Helpers shared by the wall tests: evaluators in both thread modes, and
//! running a case in a child process, so that a case that would abort the
//! process (stack overflow, out of memory) shows up as a failed test and its
//! peak memory is its own.

#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

use polyscript_core::serde_json::json;
use polyscript_core::{
    Error, EvalContext, Evaluator, LimitKind, Limits, PoolConfig, Source, Value,
};
use polyscript_js::{JsEngine, ThreadMode};

/// Both thread modes, in the order the tests run them.
pub const MODES: [ThreadMode; 2] = [ThreadMode::CallerThread, ThreadMode::Dedicated];

/// An evaluator of `script` with a pool of one instance.
pub fn evaluator(script: &str, mode: ThreadMode, limits: Limits) -> Evaluator<JsEngine> {
    Evaluator::builder(
        JsEngine::builder().thread_mode(mode).build(),
        Source::from_text(script),
    )
    .limits(limits)
    .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
    .build()
    .unwrap_or_else(|e| panic!("build failed: {e}"))
}

/// One eval with `data` as `ctx`.
pub fn run(ev: &Evaluator<JsEngine>, data: Value) -> polyscript_core::Result<Value> {
    ev.eval(&EvalContext::with_data(data)?)
        .map(|r| r.into_value())
}

/// One eval with `{}` as `ctx`, and how long it took.
pub fn timed(ev: &Evaluator<JsEngine>) -> (polyscript_core::Result<Value>, Duration) {
    let start = Instant::now();
    let outcome = run(ev, json!({}));
    (outcome, start.elapsed())
}

/// What a hostile eval must end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    Timeout,
    Cancelled,
    Limit(LimitKind),
    /// A JavaScript error (`Error::Runtime`).
    Runtime,
    /// `Error::InvalidData`.
    InvalidData,
    /// Any typed error (`Timeout`, `LimitExceeded`, `Runtime`,
    /// `InvalidData`): cases whose exact end depends on the build's speed.
    AnyTyped,
}

/// Whether `outcome` is what `ends` asks for.
pub fn ended_as(outcome: &polyscript_core::Result<Value>, ends: Ends) -> bool {
    match (outcome, ends) {
        (Err(Error::Timeout { .. }), Ends::Timeout | Ends::AnyTyped) => true,
        (Err(Error::Cancelled { .. }), Ends::Cancelled) => true,
        (Err(Error::LimitExceeded { limit, .. }), Ends::Limit(want)) => *limit == want,
        (Err(Error::LimitExceeded { .. }), Ends::AnyTyped) => true,
        (Err(Error::Runtime { .. }), Ends::Runtime | Ends::AnyTyped) => true,
        (Err(Error::InvalidData { .. }), Ends::InvalidData | Ends::AnyTyped) => true,
        _ => false,
    }
}

/// Peak resident memory of this process so far, in bytes (Linux; 0
/// elsewhere).
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The environment variable naming the case a child process runs.
const CHILD: &str = "POLYSCRIPT_JS_TEST_CASE";

/// Runs `body` in a child process (this test binary again, running only
/// `test` with `case` selected) and panics with the child's output if it
/// fails, aborts or is killed. Inside that child, runs `body` itself; other
/// cases of the same test are skipped there.
pub fn in_child(test: &str, case: &str, body: impl FnOnce()) {
    match std::env::var(CHILD) {
        Ok(selected) if selected == case => {
            body();
            return;
        }
        Ok(_) => return,
        Err(_) => {}
    }
    let exe = std::env::current_exe().expect("the test binary");
    let output = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, case)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "case {case} failed in its child process ({}):\n{stdout}\n{stderr}",
        output.status
    );
}
