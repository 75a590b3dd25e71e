//! Property: random nested JSON pushed through the identity guests (the
//! Extism `echo` export, the WASI `echo` op) comes back exactly, or — when it
//! nests past `Limits::data_depth` — as the documented typed error
//! (`InvalidData` naming the path under `ctx.value`), never anything else.

use polyscript_core::{Error, EvalContext, Evaluator, Limits, Map, Source, Value};
use polyscript_wasm::{ExtismEngine, WasiEngine};
use proptest::prelude::*;
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");
const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

/// A small bound, so that values around it stay cheap.
const DEPTH: u32 = 12;

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.data_depth = DEPTH;
    limits
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (i64::MAX as u64..=u64::MAX).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(-0.0)),
        "\\PC{0,12}".prop_map(Value::String),
        // Escapes and quotes the guests must pass through untouched.
        Just(Value::String("\"\\\u{0}\n\u{1f}é🎉".into())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    "[a-z\"\\\\é]{1,6}"
}

/// A value of at most a few levels.
fn shallow() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map>())),
        ]
    })
}

/// `value` wrapped in `levels` lists or maps (chosen by `kinds`' bits).
fn wrap(mut value: Value, levels: u32, kinds: u64) -> Value {
    for level in 0..levels {
        value = if kinds >> (level % 64) & 1 == 0 {
            Value::Array(vec![value])
        } else {
            Value::Object(Map::from_iter([("k".to_owned(), value)]))
        };
    }
    value
}

/// Containers from the outside in (a scalar is 0).
fn depth(value: &Value) -> u32 {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Nested values around the bound.
fn around_the_bound() -> impl Strategy<Value = Value> {
    (shallow(), (DEPTH - 6)..(DEPTH + 3), any::<u64>())
        .prop_map(|(inner, levels, kinds)| wrap(inner, levels, kinds))
}

fn check(
    what: &str,
    outcome: Result<polyscript_core::Response, Error>,
    value: &Value,
) -> Result<(), TestCaseError> {
    // The input map `{"value": X, ...}` is one level above X.
    let too_deep = depth(value) + 1 > DEPTH;
    match outcome {
        Ok(response) if !too_deep => {
            prop_assert_eq!(response.value(), value, "{} changed the value", what);
        }
        Err(Error::InvalidData {
            path: Some(path), ..
        }) if too_deep => {
            prop_assert!(
                path.starts_with("ctx.value"),
                "{}: the path is {}",
                what,
                path
            );
        }
        other => prop_assert!(false, "{what}: depth {} gave {other:?}", depth(value)),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn identity_round_trip_is_exact_or_a_typed_error(value in around_the_bound()) {
        thread_local! {
            static EVALUATORS: (Evaluator<ExtismEngine>, Evaluator<WasiEngine>) = (
                Evaluator::builder(ExtismEngine::with_entry_point("echo"), Source::from_bytes(PLUGIN))
                    .limits(limits())
                    .build()
                    .expect("the plugin builds"),
                Evaluator::builder(WasiEngine::new(), Source::from_bytes(SCRIPTS))
                    .limits(limits())
                    .build()
                    .expect("the module builds"),
            );
        }
        EVALUATORS.with(|(extism, wasi)| {
            let plugin_in = EvalContext::with_data(json!({ "value": value })).unwrap();
            check("extism echo", extism.eval(&plugin_in), &value)?;
            let command_in = EvalContext::with_data(json!({ "op": "echo", "value": value })).unwrap();
            check("wasi echo", wasi.eval(&command_in), &value)
        })?;
    }
}
