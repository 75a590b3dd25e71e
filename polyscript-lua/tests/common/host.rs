//! The host functions the host tests call, and evaluators that offer them.

use polyscript_core::host::{HostError, HostFunctions};
use polyscript_core::serde_json::{Value, json};
use polyscript_core::testkit;
use polyscript_core::{Evaluator, Limits, Result};
use polyscript_lua::LuaEngine;

/// The conformance kit's functions (`add`, `user`, `fail`, `slow`,
/// `tenant`) plus:
///
/// * `echo(v)` → `v`; `count(...)` → how many arguments
/// * `upper(s)`, `less(a, b)`: for callbacks (gsub, sort)
/// * `deep(n)` → a list nested `n` levels; `big(n)` → `n` bytes of `x`;
///   `many(n)` → a list of `n` zeros; `huge_int()` → `u64::MAX`
/// * `boom()` panics
pub fn registry() -> HostFunctions {
    testkit::host_functions()
        .register("echo", |(v,): (Value,)| Ok(v))
        .register("count", |args: Vec<Value>| Ok(args.len()))
        .register("upper", |(s,): (String,)| Ok(s.to_uppercase()))
        .register("less", |(a, b): (i64, i64)| Ok(a < b))
        .register("deep", |(n,): (usize,)| {
            let mut v = json!(0);
            for _ in 0..n {
                v = json!([v]);
            }
            Ok(v)
        })
        .register("big", |(n,): (usize,)| Ok("x".repeat(n)))
        .register("many", |(n,): (usize,)| Ok(vec![0u8; n]))
        .register("huge_int", |(): ()| Ok(u64::MAX))
        .register("boom", |(): ()| -> std::result::Result<(), HostError> {
            panic!("kaboom")
        })
}

/// An engine offering `registry`.
pub fn engine(registry: HostFunctions) -> LuaEngine {
    LuaEngine::builder().host_functions(registry).build()
}

/// An evaluator of `script` (one pooled state) offering [`registry`].
pub fn evaluator(script: &str) -> Result<Evaluator<LuaEngine>> {
    evaluator_with(script, Limits::default())
}

/// Like [`evaluator`], with `limits`.
pub fn evaluator_with(script: &str, limits: Limits) -> Result<Evaluator<LuaEngine>> {
    super::evaluator_with(engine(registry()), script, limits)
}

/// Runs `script` once with [`registry`] and `data` as `ctx`.
pub fn run(script: &str, data: Value) -> Result<Value> {
    super::eval(&evaluator(script)?, data)
}

/// The message of a runtime error, or a panic naming what came instead.
pub fn runtime_message(outcome: Result<Value>) -> String {
    match outcome {
        Err(polyscript_core::Error::Runtime { message, .. }) => message,
        other => panic!("expected Error::Runtime, got {other:?}"),
    }
}
