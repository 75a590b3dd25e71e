//! Random JSON values, nested around the depth bound, through
//! `return ctx.value`: they come back exactly (integers as integers, floats
//! as floats, `-0.0` with its sign, empty lists as lists, empty maps as
//! maps), or as the documented typed error: `InvalidData` naming the path
//! for nesting past `Limits::data_depth` and for integers above `i64::MAX`.

use std::sync::OnceLock;

use polyscript_core::serde_json::{self, Map, Number, Value};
use polyscript_core::{Error, EvalContext, Evaluator, Limits, PoolConfig, Source};
use polyscript_lua::LuaEngine;
use proptest::prelude::*;

fn evaluator() -> &'static Evaluator<LuaEngine> {
    static EV: OnceLock<Evaluator<LuaEngine>> = OnceLock::new();
    EV.get_or_init(|| {
        Evaluator::builder(LuaEngine::new(), Source::from_text("return ctx.value"))
            .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
            .build()
            .unwrap()
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::from),
        prop_oneof![
            any::<f64>(),
            Just(-0.0),
            Just(0.0),
            Just(3.0),
            Just(f64::MIN_POSITIVE)
        ]
        .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z]{1,6}", "\\PC{1,8}", "[0-9]{1,3}"]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(Map::from_iter(entries))),
        ]
    })
}

/// A small tree at the bottom of a spine of lists and maps `depth` long,
/// so values land on both sides of the bound.
fn deep() -> impl Strategy<Value = Value> {
    (
        tree(),
        prop::collection::vec(prop::option::of(key()), 90..170),
    )
        .prop_map(|(mut value, spine)| {
            for step in spine {
                value = match step {
                    Some(k) => Value::Object(Map::from_iter([(k, value)])),
                    None => Value::Array(vec![value]),
                };
            }
            value
        })
}

/// Nesting depth (scalars 0, `[]` 1), without recursion.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => {
                deepest = deepest.max(d + 1);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(d + 1);
                stack.extend(map.values().map(|i| (i, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

fn has_big_integer(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) if n.is_u64() && n.as_i64().is_none() => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    false
}

/// The value's JSON text with every map's keys sorted (results come back
/// sorted) and floats in their exact form (so `-0.0` differs from `0.0`).
fn canonical(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().map(|(k, v)| (k.clone(), sort(v))).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(Map::from_iter(entries))
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sort(value)).unwrap()
}

fn check(value: Value) -> Result<(), TestCaseError> {
    let ctx = EvalContext::with_data(serde_json::json!({ "value": value.clone() }))
        .map_err(|e| TestCaseError::fail(format!("context refused: {e}")))?;
    let outcome = evaluator().eval(&ctx).map(|r| r.into_value());
    // `ctx` is the outermost map (depth 1), so `ctx.value` may nest one
    // level less than the bound.
    let too_deep = depth(&value) + 1 > Limits::DEFAULT_DATA_DEPTH as usize;
    match outcome {
        Ok(got) => {
            prop_assert!(
                !too_deep && !has_big_integer(&value),
                "accepted: {}",
                canonical(&value)
            );
            prop_assert_eq!(canonical(&got), canonical(&value));
        }
        Err(Error::InvalidData {
            path: Some(path),
            message,
            ..
        }) => {
            prop_assert!(path.starts_with("ctx.value"), "{path}: {message}");
            prop_assert!(too_deep || has_big_integer(&value), "{path}: {message}");
        }
        Err(other) => prop_assert!(false, "unexpected error: {other}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn small_values_come_back_exactly(value in tree()) {
        check(value)?;
    }

    #[test]
    fn values_around_the_depth_bound(value in deep()) {
        check(value)?;
    }
}

#[test]
fn the_bound_itself() {
    // 127 levels under `ctx` is the deepest that passes.
    for (levels, passes) in [(126, true), (127, true), (128, false), (129, false)] {
        let mut value = serde_json::json!(0);
        for _ in 0..levels {
            value = Value::Array(vec![value]);
        }
        let ctx = EvalContext::with_data(serde_json::json!({ "value": value })).unwrap();
        let outcome = evaluator().eval(&ctx);
        assert_eq!(outcome.is_ok(), passes, "{levels}: {outcome:?}");
    }
}
