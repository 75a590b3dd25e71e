//! Helpers shared by the test binaries: running a case in a child process
//! (so a stack overflow or an abort shows up as a failed test instead of
//! ending the test run), outcomes as short kinds, peak memory.

#![allow(dead_code)] // each test binary uses part of it

pub mod hostile;

use std::process::Command;
use std::time::Duration;

use polyscript_core::{Error, LimitKind, Value};

/// The environment variable that makes a test binary's `child` test run one
/// case instead of returning at once.
pub const CASE_VAR: &str = "POLYSCRIPT_RHAI_TEST_CASE";
/// Marks the line a child prints its report on.
pub const REPORT: &str = "CHILD-REPORT ";

/// An eval's outcome as one word, for expectations.
pub fn kind(outcome: &Result<Value, Error>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(Error::LimitExceeded { limit, .. }) => match limit {
            LimitKind::Memory => "memory",
            LimitKind::Operations => "operations",
            LimitKind::CallDepth => "call_depth",
            _ => "limit",
        },
        Err(Error::Timeout { .. }) => "timeout",
        Err(Error::Cancelled { .. }) => "cancelled",
        Err(Error::Runtime { .. }) => "runtime",
        Err(Error::InvalidData { .. }) => "invalid_data",
        Err(Error::Compile { .. }) => "compile",
        Err(Error::EnginePanic { .. }) => "panic",
        Err(_) => "other",
    }
}

/// Resident memory now and at its peak, in bytes (`/proc/self/status`;
/// zeros where there is none).
pub fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// What a child reported, or how it died.
#[derive(Debug)]
pub struct ChildRun {
    /// The report line's text (after [`REPORT`]), if the child got there.
    pub report: Option<String>,
    /// Whether the child exited successfully.
    pub success: bool,
    pub status: String,
    pub stderr_tail: String,
}

/// Runs `test` (a test of this binary, usually `child`) in a child process
/// with `case` in [`CASE_VAR`].
pub fn run_child(test: &str, case: &str) -> ChildRun {
    let exe = std::env::current_exe().expect("the test binary");
    let output = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CASE_VAR, case)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: String = stderr
        .lines()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    ChildRun {
        report: stdout
            .lines()
            .find_map(|l| l.split_once(REPORT).map(|(_, report)| report.to_owned())),
        success: output.status.success(),
        status: output.status.to_string(),
        stderr_tail: tail,
    }
}

/// The case this process must run as a child, if it is one.
pub fn child_case() -> Option<String> {
    std::env::var(CASE_VAR).ok()
}

/// Generous bound for "stopped promptly" (debug builds, a shared machine).
pub const MARGIN: Duration = Duration::from_secs(15);
