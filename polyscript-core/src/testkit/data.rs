//! Conformance checks for the data bounds (see [`crate::data`]): nesting,
//! shared values, the number rule.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    Check, Harness, NumberModel, STOP_MARGIN, Scenario, build, eval_value, expect_eq,
    single_instance,
};
use crate::{Error, LimitKind, Limits, Map, PoolConfig, Value};

/// A list nested `depth` levels deep around `0` (`[[[0]]]` for 3), built
/// without recursion.
pub fn nested_list(depth: usize) -> Value {
    let mut value = json!(0);
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    value
}

fn with_value(value: Value) -> Value {
    Value::Object(Map::from_iter([("value".to_owned(), value)]))
}

/// `Err(InvalidData)` whose path starts with `path`, or what was wrong.
fn expect_invalid_data(what: &str, outcome: Result<Value, Error>, path: &str) -> Check {
    match outcome {
        Err(Error::InvalidData {
            path: Some(got), ..
        }) if got.starts_with(path) => Ok(()),
        Err(err @ Error::InvalidData { .. }) => Err(format!(
            "{what}: InvalidData without the path {path}: {err}"
        )),
        Err(other) => Err(format!(
            "{what}: expected InvalidData at {path}, got {other}"
        )),
        Ok(value) => Err(format!(
            "{what}: expected InvalidData at {path}, got Ok({})",
            shorten(&value)
        )),
    }
}

fn shorten(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!("{}…", &text[..80])
    } else {
        text
    }
}

/// One eval of `data`, keeping the error typed.
fn eval(ev: &crate::AnyEvaluator, data: Value) -> Result<Value, Error> {
    let ctx = crate::EvalContext::with_data(&data)?;
    ev.eval(&ctx).map(crate::Response::into_value)
}

/// Input nested past `Limits::data_depth` is `InvalidData` naming the path;
/// input within it round-trips.
pub fn check_deep_input(h: &dyn Harness) -> Check {
    let ev = build(h, Scenario::Echo, Limits::default(), single_instance())?;
    let deep = nested_list(Limits::DEFAULT_DATA_DEPTH as usize + 72);
    expect_invalid_data(
        "input deeper than the bound",
        eval(&ev, with_value(deep)),
        "ctx.value[0][0]",
    )?;
    let within = nested_list(Limits::DEFAULT_DATA_DEPTH as usize - 28);
    let got = eval_value(&ev, with_value(within.clone()))?;
    expect_eq("input within the bound", &got, &within)
}

/// A result nested past the bound is `InvalidData` naming the path (not a
/// crash, not a string); one within it comes back whole.
pub fn check_deep_result(h: &dyn Harness) -> Check {
    let ev = build(
        h,
        Scenario::DeepResult,
        Limits::default(),
        single_instance(),
    )?;
    expect_invalid_data(
        "a result deeper than the bound",
        eval(&ev, json!({"depth": 10_000})),
        "result[0][0]",
    )?;
    let depth = Limits::DEFAULT_DATA_DEPTH as usize - 28;
    let got = eval_value(&ev, json!({ "depth": depth }))?;
    expect_eq("a result within the bound", &got, &nested_list(depth))
}

/// A result that shares values (a DAG expanding to 2^41 nodes) ends in
/// `LimitExceeded(Memory)` promptly, and the evaluator keeps working.
pub fn check_dag_result(h: &dyn Harness) -> Check {
    if !h.results_are_values() {
        return Ok(());
    }
    let limits = Limits::default()
        .with_memory_bytes(8 * 1024 * 1024)
        .with_timeout(Duration::from_secs(30));
    let ev = build(h, Scenario::DagResult, limits, PoolConfig::default())?;
    let start = Instant::now();
    match eval(&ev, json!({"levels": 40})) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) if start.elapsed() < STOP_MARGIN => {}
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => return Err(format!("stopped only after {:?}", start.elapsed())),
        Err(other) => return Err(format!("expected LimitExceeded(memory), got {other}")),
        Ok(value) => {
            return Err(format!(
                "expected LimitExceeded(memory), got Ok({})",
                shorten(&value)
            ));
        }
    }
    let got = eval_value(&ev, json!({"levels": 2}))?;
    expect_eq("a small shared result", &got, &json!([[[], []], [[], []]]))
}

/// A NaN in a result is `InvalidData` naming where it is (never `null`);
/// a NaN in input is refused before any eval.
pub fn check_non_finite(h: &dyn Harness) -> Check {
    let ev = build(h, Scenario::Echo, Limits::default(), single_instance())?;
    #[derive(serde::Serialize)]
    struct Reading {
        value: f64,
    }
    match ev.prepare(crate::EvalContext::new(), Reading { value: f64::NAN }) {
        Err(Error::InvalidData { .. }) => {}
        other => return Err(format!("a NaN input: expected InvalidData, got {other:?}")),
    }
    if !h.results_are_values() {
        return Ok(());
    }
    let ev = build(
        h,
        Scenario::NonFiniteResult,
        Limits::default(),
        single_instance(),
    )?;
    expect_invalid_data("a NaN result", eval(&ev, json!({})), "result.n")
}

/// Integers either travel exactly or are `InvalidData`, by the engine's
/// number model; never rounded.
pub fn check_integers(h: &dyn Harness) -> Check {
    let ev = build(h, Scenario::Echo, Limits::default(), single_instance())?;
    let safe = crate::data::JS_MAX_SAFE_INTEGER;
    let cases: Vec<(Value, bool)> = match h.number_model() {
        NumberModel::Int64 => vec![
            (json!(i64::MAX), true),
            (json!(i64::MIN), true),
            (json!(u64::MAX), false),
            (json!((i64::MAX as u64) + 1), false),
        ],
        NumberModel::JsNumber => vec![
            (json!(safe), true),
            (json!(-safe), true),
            (json!(safe + 1), false),
            (json!(i64::MIN), false),
            (json!(u64::MAX), false),
        ],
        _ => vec![
            (json!(i64::MAX), true),
            (json!(i64::MIN), true),
            (json!(u64::MAX), true),
        ],
    };
    for (value, exact) in cases {
        let outcome = eval(&ev, with_value(value.clone()));
        if exact {
            match outcome {
                Ok(got) if got == value && got.is_f64() == value.is_f64() => {}
                Ok(got) => return Err(format!("{value} came back as {got}")),
                Err(e) => return Err(format!("{value}: {e}")),
            }
        } else {
            expect_invalid_data(&format!("the integer {value}"), outcome, "ctx.value")?;
        }
    }
    Ok(())
}

/// `-0.0` comes back as `-0.0`, sign and all.
pub fn check_negative_zero(h: &dyn Harness) -> Check {
    let ev = build(h, Scenario::Echo, Limits::default(), single_instance())?;
    let got = eval_value(&ev, with_value(json!(-0.0)))?;
    match got.as_f64() {
        Some(v) if v == 0.0 && v.is_sign_negative() && got.is_f64() => Ok(()),
        _ => Err(format!("-0.0 came back as {got}")),
    }
}
