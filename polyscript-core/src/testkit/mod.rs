//! The conformance suite every engine crate runs (feature `testkit`).
//!
//! An engine crate implements [`Harness`]: for each [`Scenario`] it builds an
//! evaluator of a script in its own language (or a guest module entry point)
//! that follows the scenario's contract. [`run_all`] then checks the shared
//! semantics (the "Semantics every engine must honour" of the project's
//! design: compile once, isolation, concurrency, limits, sandbox, and the
//! data bounds of [`data`](crate::data)) and panics with every failure it found; each
//! `check_*` function can also be run alone and returns what failed.
//!
//! ```text
//! struct Lua;
//! impl polyscript_core::testkit::Harness for Lua {
//!     fn evaluator(&self, s: Scenario, limits: Limits, pool: PoolConfig) -> Result<AnyEvaluator> { .. }
//!     fn compile_error_line(&self) -> Option<u32> { Some(3) }
//! }
//! #[test] fn conformance() { polyscript_core::testkit::run_all(&Lua) }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    AnyEvaluator, CancelToken, Error, EvalContext, LimitKind, Limits, PoolConfig, Result, Value,
};

mod data;
mod host;
pub use data::{
    check_dag_result, check_deep_input, check_deep_result, check_integers, check_negative_zero,
    check_non_finite, nested_list,
};
pub use host::{
    check_host_call, check_host_cancel, check_host_data, check_host_error_caught,
    check_host_error_uncaught, check_host_slow_call, check_host_wrong_arguments, host_functions,
};

/// What a scenario's script must do. Each variant documents its contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scenario {
    /// Input `{"name": N}` → `{"greeting": "Hello, N!", "length": <byte
    /// length of the greeting>}`.
    Greeting,
    /// Input `{"user": {"name": S, "tags": [..], "address": {"city": C}}}` →
    /// `{"user": {"name": S, "city": C}, "tag_count": <number of tags>}`.
    Nested,
    /// Input `{"value": X}` → `X`, unchanged (the types round trip).
    Echo,
    /// A script that does not compile. For text engines the syntax error must
    /// be on the line [`Harness::compile_error_line`] names.
    CompileError,
    /// Compiles, but raises an error every time it runs.
    RuntimeError,
    /// Returns what a previous eval left in global (instance) state, `null`
    /// if nothing, then stores `ctx.n` there. On an isolated engine every eval
    /// returns `null`.
    LeakGlobal,
    /// Declares a top-level variable (JS `let`/`const`, Lua `local`, Rhai
    /// `let`) and returns `ctx.n + 1`.
    TopLevelDeclaration,
    /// Loops forever.
    InfiniteLoop,
    /// Allocates without bound (e.g. doubles a string or list forever).
    MemoryBomb,
    /// Recurses without bound.
    DeepRecursion,
    /// Tries to read a file (e.g. `/etc/hostname`) and returns its content.
    ReadFile,
    /// Tries to open a network connection and returns something non-null on
    /// success.
    OpenSocket,
    /// Tries to read the environment variable `PATH` and returns it.
    ReadEnv,
    /// Input `{"depth": N}` → a list nested `N` levels deep around `0`
    /// (`N = 3`: `[[[0]]]`), built by the script (or guest) itself.
    DeepResult,
    /// Input `{"levels": N}` → `x`, where `x` starts as an empty list and is
    /// replaced `N` times by a two-element list holding `x` twice (the same
    /// value, shared, not copied: the result is a DAG of `N + 1` values that
    /// expands to 2^(N+1) − 1 when converted).
    DagResult,
    /// Returns `{"n": NaN}` (a map holding a NaN float), for engines whose
    /// results can hold one.
    NonFiniteResult,
    /// With [`host_functions`] installed: input `{"a": A, "b": B, "id": I}`
    /// → `{"sum": host.add(A, B), "user": host.user(I)}`.
    HostCall,
    /// Calls `host.fail(ctx.message)` inside the language's way of catching
    /// an error and returns the caught error's message as a string.
    HostErrorCaught,
    /// Calls `host.fail(ctx.message)` without catching it.
    HostErrorUncaught,
    /// Calls `host.add(ctx.a)`: one argument where two are expected.
    HostWrongArguments,
    /// Calls `host.slow(ctx.ms)` and returns `"done"`.
    HostSlowCall,
    /// Returns `host.tenant()`.
    HostData,
    /// Calls `host.add(1, 1)` in an endless loop.
    HostLoop,
}

/// How an engine holds numbers (see the number rule in [`data`](crate::data)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NumberModel {
    /// 64-bit signed integers and 64-bit floats (Rhai, Lua).
    Int64,
    /// JavaScript: every number is a 64-bit float.
    JsNumber,
    /// Data crosses as JSON text, exactly (WASM engines).
    JsonText,
}

/// What an engine crate supplies to the conformance suite.
pub trait Harness: Sync {
    /// An evaluator of the script for `scenario`, built with `limits` and
    /// `pool`, and with [`host_functions`] installed (at least for the
    /// `Host*` scenarios).
    fn evaluator(
        &self,
        scenario: Scenario,
        limits: Limits,
        pool: PoolConfig,
    ) -> Result<AnyEvaluator>;

    /// The line of the syntax error in the [`Scenario::CompileError`] script,
    /// or `None` for engines without lines (WASM).
    fn compile_error_line(&self) -> Option<u32>;

    /// Whether the engine enforces [`Limits::operations`] (WASM without fuel
    /// may not). Default `true`.
    fn enforces_operation_limit(&self) -> bool {
        true
    }

    /// Evals per thread in [`check_concurrency`] (8 threads). Default 500.
    fn concurrent_evals_per_thread(&self) -> usize {
        500
    }

    /// How the engine holds numbers. Default [`NumberModel::Int64`].
    fn number_model(&self) -> NumberModel {
        NumberModel::Int64
    }

    /// Whether a result can share one value in several places (and so be a
    /// DAG, [`Scenario::DagResult`]) and hold a NaN
    /// ([`Scenario::NonFiniteResult`]). Default `true`; `false` for engines
    /// whose results arrive as text.
    fn results_are_values(&self) -> bool {
        true
    }
}

/// A check's outcome: `Err` says what was wrong.
pub type Check = std::result::Result<(), String>;

/// One named check of the suite.
type NamedCheck = (&'static str, fn(&dyn Harness) -> Check);

/// Runs every check and panics listing all failures.
pub fn run_all(h: &dyn Harness) {
    let checks: Vec<NamedCheck> = vec![
        ("greeting", check_greeting),
        ("nested", check_nested),
        ("types round trip", check_types_round_trip),
        ("compile error", check_compile_error),
        ("runtime error", check_runtime_error),
        ("repeated evals", check_repeated_evals),
        ("isolation of globals", check_isolation),
        ("top-level declaration twice", check_top_level_declaration),
        ("concurrency", check_concurrency),
        ("timeout", check_timeout),
        ("cancel", check_cancel),
        ("operation limit", check_operation_limit),
        ("memory limit", check_memory_limit),
        ("deep recursion", check_deep_recursion),
        ("sandbox: file", check_no_file_access),
        ("sandbox: network", check_no_network_access),
        ("sandbox: environment", check_no_env_access),
        ("data: deep input", data::check_deep_input),
        ("data: deep result", data::check_deep_result),
        ("data: shared result", data::check_dag_result),
        ("data: non-finite numbers", data::check_non_finite),
        ("data: integers", data::check_integers),
        ("data: negative zero", data::check_negative_zero),
        ("host: call", host::check_host_call),
        ("host: error caught", host::check_host_error_caught),
        ("host: error uncaught", host::check_host_error_uncaught),
        ("host: wrong arguments", host::check_host_wrong_arguments),
        ("host: slow call", host::check_host_slow_call),
        ("host: data", host::check_host_data),
        ("host: cancel", host::check_host_cancel),
    ];
    let failures: Vec<String> = checks
        .into_iter()
        .filter_map(|(name, check)| check(h).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "conformance failures:\n  {}",
        failures.join("\n  ")
    );
}

pub(crate) fn build(
    h: &dyn Harness,
    s: Scenario,
    limits: Limits,
    pool: PoolConfig,
) -> Result<AnyEvaluator, String> {
    h.evaluator(s, limits, pool)
        .map_err(|e| format!("building the {s:?} evaluator failed: {e}"))
}

pub(crate) fn single_instance() -> PoolConfig {
    PoolConfig::default().with_max_size(1).with_min_idle(1)
}

pub(crate) fn ctx(data: Value) -> Result<EvalContext, String> {
    EvalContext::with_data(data).map_err(|e| e.to_string())
}

fn expected_greeting(name: &str) -> Value {
    let greeting = format!("Hello, {name}!");
    json!({"greeting": greeting, "length": greeting.len()})
}

pub(crate) fn eval_value(ev: &AnyEvaluator, data: Value) -> Result<Value, String> {
    let response = ev
        .eval(&ctx(data)?)
        .map_err(|e| format!("eval failed: {e}"))?;
    if response.script_id() != ev.script_id() {
        return Err("response names another script id".into());
    }
    if response.engine() != ev.engine() {
        return Err("response names another engine".into());
    }
    Ok(response.into_value())
}

pub(crate) fn expect_eq(what: &str, got: &Value, want: &Value) -> Check {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: expected {want}, got {got}"))
    }
}

/// Greeting with `ctx.name`.
pub fn check_greeting(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::Greeting,
        Limits::default(),
        PoolConfig::default(),
    )?;
    let got = eval_value(&ev, json!({"name": "World"}))?;
    expect_eq("greeting", &got, &expected_greeting("World"))
}

/// Nested map in, nested map out.
pub fn check_nested(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::Nested,
        Limits::default(),
        PoolConfig::default(),
    )?;
    let got = eval_value(
        &ev,
        json!({"user": {"name": "Ada", "tags": ["math", "poetry", "engines"],
                        "address": {"city": "London", "zip": "N1"}}}),
    )?;
    expect_eq(
        "nested",
        &got,
        &json!({"user": {"name": "Ada", "city": "London"}, "tag_count": 3}),
    )
}

/// The values every engine must carry unchanged through `ctx` and back.
pub fn round_trip_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(42),
        json!(-7),
        json!(1_i64 << 40),
        json!(3.5),
        json!(-0.25),
        json!(""),
        json!("héllo wörld — 世界 🎉"),
        json!([1, "two", 3.5, true]),
        json!({"a": 1, "b": {"c": [1, 2]}, "ü": "ß"}),
    ]
}

/// Every value type round-trips, integers stay integers, floats stay floats.
pub fn check_types_round_trip(h: &dyn Harness) -> Check {
    let ev = build(h, Scenario::Echo, Limits::default(), PoolConfig::default())?;
    let mut failures = Vec::new();
    for value in round_trip_values() {
        match eval_value(&ev, json!({ "value": value })) {
            Ok(got)
                if got == value && crate::ValueType::of(&got) == crate::ValueType::of(&value) => {}
            Ok(got) => failures.push(format!("{value} came back as {got}")),
            Err(e) => failures.push(format!("{value}: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// A syntax error fails at build time as `Error::Compile` with its line.
pub fn check_compile_error(h: &dyn Harness) -> Check {
    match h.evaluator(
        Scenario::CompileError,
        Limits::default(),
        PoolConfig::default(),
    ) {
        Ok(_) => Err("a broken script compiled".into()),
        Err(err @ Error::Compile { .. }) => match (h.compile_error_line(), err.location()) {
            (None, _) => Ok(()),
            (Some(want), Some(loc)) if loc.line == want => Ok(()),
            (Some(want), got) => Err(format!("expected line {want}, got {got:?}: {err}")),
        },
        Err(other) => Err(format!("expected Error::Compile, got {other:?}")),
    }
}

/// A failing script gives `Error::Runtime` and the evaluator keeps working.
pub fn check_runtime_error(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::RuntimeError,
        Limits::default(),
        single_instance(),
    )?;
    for _ in 0..2 {
        match ev.eval(&ctx(json!({"n": 1}))?) {
            Err(Error::Runtime { .. }) => {}
            other => return Err(format!("expected Error::Runtime, got {other:?}")),
        }
    }
    Ok(())
}

/// Many evals on one instance each return their own result.
pub fn check_repeated_evals(h: &dyn Harness) -> Check {
    let ev = build(h, Scenario::Greeting, Limits::default(), single_instance())?;
    for i in 0..20 {
        let name = format!("caller-{i}");
        let got = eval_value(&ev, json!({ "name": name }))?;
        expect_eq("repeated greeting", &got, &expected_greeting(&name))?;
    }
    Ok(())
}

/// A global set by one eval is absent in the next, on the same instance.
pub fn check_isolation(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::LeakGlobal,
        Limits::default(),
        single_instance(),
    )?;
    for n in 1..=3 {
        let got = eval_value(&ev, json!({ "n": n }))?;
        expect_eq(
            &format!("eval {n} saw a previous eval's global"),
            &got,
            &Value::Null,
        )?;
    }
    Ok(())
}

/// A script declaring a top-level variable can run again on the same instance.
pub fn check_top_level_declaration(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::TopLevelDeclaration,
        Limits::default(),
        single_instance(),
    )?;
    for n in 1..=3 {
        let got = eval_value(&ev, json!({ "n": n }))?;
        expect_eq("top-level declaration", &got, &json!(n + 1))?;
    }
    Ok(())
}

/// 8 threads share one evaluator; every result matches its own input.
pub fn check_concurrency(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::Greeting,
        Limits::default(),
        PoolConfig::default(),
    )?;
    let per_thread = h.concurrent_evals_per_thread();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let ev = ev.clone();
                scope.spawn(move || -> Check {
                    for i in 0..per_thread {
                        let name = format!("t{t}-n{i}");
                        let got = eval_value(&ev, json!({ "name": name }))?;
                        expect_eq("concurrent greeting", &got, &expected_greeting(&name))?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| match h.join() {
                Ok(result) => result.err(),
                Err(_) => Some("a thread panicked".into()),
            })
            .collect()
    });
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// Margin for "stopped promptly": generous, because this checks that the
/// script does not hang, not how fast the engine is.
pub(crate) const STOP_MARGIN: Duration = Duration::from_secs(5);

/// An infinite loop ends with `Error::Timeout` shortly after the timeout.
pub fn check_timeout(h: &dyn Harness) -> Check {
    let timeout = Duration::from_millis(300);
    let limits = Limits {
        timeout: Some(timeout),
        operations: None,
        ..Limits::default()
    };
    let ev = build(h, Scenario::InfiniteLoop, limits, single_instance())?;
    let start = Instant::now();
    let outcome = ev.eval(&ctx(json!({}))?);
    let took = start.elapsed();
    match outcome {
        Err(Error::Timeout { .. }) if took < timeout + STOP_MARGIN => {}
        Err(Error::Timeout { .. }) => return Err(format!("timed out only after {took:?}")),
        other => return Err(format!("expected Error::Timeout, got {other:?}")),
    }
    // The evaluator recovers: a per-call deadline also works.
    let short = ctx(json!({}))?.with_timeout(Duration::from_millis(100));
    match ev.eval(&short) {
        Err(Error::Timeout { .. }) => Ok(()),
        other => Err(format!(
            "per-call deadline: expected Error::Timeout, got {other:?}"
        )),
    }
}

/// `cancel()` from another thread stops a running eval with `Error::Cancelled`.
pub fn check_cancel(h: &dyn Harness) -> Check {
    let limits = Limits {
        timeout: Some(Duration::from_secs(60)),
        operations: None,
        ..Limits::default()
    };
    let ev = build(h, Scenario::InfiniteLoop, limits, single_instance())?;
    let token = CancelToken::new();
    let call = ctx(json!({}))?.with_cancel_token(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        token.cancel();
    });
    let start = Instant::now();
    let outcome = ev.eval(&call);
    let took = start.elapsed();
    let _ = canceller.join();
    match outcome {
        Err(Error::Cancelled { .. }) if took < STOP_MARGIN => Ok(()),
        Err(Error::Cancelled { .. }) => Err(format!("cancel took effect only after {took:?}")),
        other => Err(format!("expected Error::Cancelled, got {other:?}")),
    }
}

/// An infinite loop with an operation budget ends with
/// `LimitExceeded { limit: Operations }`.
pub fn check_operation_limit(h: &dyn Harness) -> Check {
    if !h.enforces_operation_limit() {
        return Ok(());
    }
    let limits = Limits {
        timeout: Some(Duration::from_secs(30)),
        operations: Some(100_000),
        ..Limits::default()
    };
    let ev = build(h, Scenario::InfiniteLoop, limits, single_instance())?;
    match ev.eval(&ctx(json!({}))?) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            ..
        }) => Ok(()),
        other => Err(format!("expected LimitExceeded(operations), got {other:?}")),
    }
}

/// A memory bomb ends with `LimitExceeded { limit: Memory }`, and the
/// evaluator still works afterwards.
pub fn check_memory_limit(h: &dyn Harness) -> Check {
    let limits = Limits {
        timeout: Some(Duration::from_secs(30)),
        memory_bytes: Some(8 * 1024 * 1024),
        operations: None,
        ..Limits::default()
    };
    let ev = build(h, Scenario::MemoryBomb, limits, single_instance())?;
    for _ in 0..2 {
        match ev.eval(&ctx(json!({}))?) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                ..
            }) => {}
            other => return Err(format!("expected LimitExceeded(memory), got {other:?}")),
        }
    }
    Ok(())
}

/// Unbounded recursion ends in an error (not a crash, not a hang).
pub fn check_deep_recursion(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::DeepRecursion,
        Limits::default(),
        single_instance(),
    )?;
    match ev.eval(&ctx(json!({}))?) {
        Err(Error::LimitExceeded { .. } | Error::Runtime { .. }) => Ok(()),
        other => Err(format!(
            "expected LimitExceeded or Runtime error, got {other:?}"
        )),
    }
}

fn expect_denied(h: &dyn Harness, scenario: Scenario, secret: Option<&str>) -> Check {
    let ev = build(h, scenario, Limits::default(), PoolConfig::default())?;
    match ev.eval(&ctx(json!({}))?) {
        Err(_) => Ok(()),
        Ok(response) => {
            let value = response.value();
            let leaked = secret.is_some_and(|s| value.as_str() == Some(s));
            if !leaked && matches!(value, Value::Null | Value::Bool(false)) {
                Ok(())
            } else {
                Err(format!("the script got through: {value}"))
            }
        }
    }
}

/// Reading a file fails (error, `null` or `false`).
pub fn check_no_file_access(h: &dyn Harness) -> Check {
    expect_denied(h, Scenario::ReadFile, None)
}

/// Opening a socket fails (error, `null` or `false`).
pub fn check_no_network_access(h: &dyn Harness) -> Check {
    expect_denied(h, Scenario::OpenSocket, None)
}

/// Reading the environment fails (error, `null` or `false`, never `PATH`).
pub fn check_no_env_access(h: &dyn Harness) -> Check {
    let path = std::env::var("PATH").ok();
    expect_denied(h, Scenario::ReadEnv, path.as_deref())
}

/// Convenience for harnesses: an `Arc`'d harness is a harness.
impl<H: Harness + Send> Harness for Arc<H> {
    fn evaluator(&self, s: Scenario, limits: Limits, pool: PoolConfig) -> Result<AnyEvaluator> {
        (**self).evaluator(s, limits, pool)
    }
    fn compile_error_line(&self) -> Option<u32> {
        (**self).compile_error_line()
    }
    fn enforces_operation_limit(&self) -> bool {
        (**self).enforces_operation_limit()
    }
    fn concurrent_evals_per_thread(&self) -> usize {
        (**self).concurrent_evals_per_thread()
    }
    fn number_model(&self) -> NumberModel {
        (**self).number_model()
    }
    fn results_are_values(&self) -> bool {
        (**self).results_are_values()
    }
}
