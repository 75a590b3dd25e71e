//! Helpers shared by the test binaries: running a case in a child process
//! (so a stack overflow or an abort shows up as a failed test instead of
//! ending the test run), outcomes as short kinds, peak memory.

#![allow(dead_code)] // each test binary uses part of it

pub mod hostile;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
/// with `case` in [`CASE_VAR`]; a child still running after `within` is
/// killed (a hang is a failure too).
pub fn run_child_within(test: &str, case: &str, within: Duration) -> ChildRun {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CASE_VAR, case)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child runs");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + within;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
    let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    ChildRun {
        report: stdout
            .lines()
            .find_map(|l| l.split_once(REPORT).map(|(_, report)| report.to_owned())),
        success: status.is_some_and(|s| s.success()),
        status: status.map_or_else(|| format!("killed after {within:?}"), |s| s.to_string()),
        stderr_tail: tail,
    }
}

/// [`run_child_within`] with a bound of ten minutes.
pub fn run_child(test: &str, case: &str) -> ChildRun {
    run_child_within(test, case, Duration::from_secs(600))
}

/// The case this process must run as a child, if it is one.
pub fn child_case() -> Option<String> {
    std::env::var(CASE_VAR).ok()
}

/// Generous bound for "stopped promptly" (debug builds, a shared machine).
pub const MARGIN: Duration = Duration::from_secs(15);
