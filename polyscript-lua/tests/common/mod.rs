//! Helpers shared by the integration tests.
#![allow(dead_code)]

use polyscript_core::serde_json::Value;
use polyscript_core::{EvalContext, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_lua::LuaEngine;

/// An evaluator of `script` with one pooled instance (so evals share a state).
pub fn evaluator_with(
    engine: LuaEngine,
    script: &str,
    limits: Limits,
) -> Result<Evaluator<LuaEngine>> {
    Evaluator::builder(engine, Source::from_text(script))
        .limits(limits)
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
}

/// An evaluator of `script` with the default engine and limits.
pub fn evaluator(script: &str) -> Result<Evaluator<LuaEngine>> {
    evaluator_with(LuaEngine::new(), script, Limits::default())
}

/// Runs `script` once with `data` as `ctx`.
pub fn run(script: &str, data: Value) -> Result<Value> {
    eval(&evaluator(script)?, data)
}

/// Runs `ev` once with `data` as `ctx`.
pub fn eval(ev: &Evaluator<LuaEngine>, data: Value) -> Result<Value> {
    Ok(ev.eval(&EvalContext::with_data(data)?)?.into_value())
}

pub mod host;
