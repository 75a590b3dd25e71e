//! Random JSON values through a host function and back: `ctx.value` goes
//! into Lua, out as a host argument, back into Lua as the host's result, and
//! out as the eval's result. Each crossing uses one of the crate's
//! converters, so the value must come back exactly (integers as integers,
//! floats as floats, `-0.0` with its sign, empty lists as lists, empty maps
//! as maps).

mod common;

use std::sync::OnceLock;

use polyscript_core::serde_json::{Map, Number, Value, json};
use polyscript_core::{EvalContext, Evaluator};
use polyscript_lua::LuaEngine;
use proptest::prelude::*;

fn evaluator() -> &'static Evaluator<LuaEngine> {
    static EV: OnceLock<Evaluator<LuaEngine>> = OnceLock::new();
    EV.get_or_init(|| {
        common::host::evaluator(
            "return { once = host.echo(ctx.value), twice = host.echo(host.echo(ctx.value)) }",
        )
        .unwrap()
    })
}

/// Values every converter takes (no integers above `i64::MAX`, which the
/// input refuses before the script runs).
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![any::<f64>(), Just(-0.0), Just(3.0), Just(f64::MIN_POSITIVE)]
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

/// `value` as text with map keys sorted, integers and floats told apart
/// and the sign of zero kept.
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_f64() => format!("f{:?}", n.as_f64().unwrap_or_default()),
        Value::Number(n) => format!("i{n}"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(map) => {
            let mut entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k:?}:{}", canonical(v)))
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn values_cross_a_host_call_exactly(value in tree()) {
        let ctx = EvalContext::with_data(json!({ "value": value.clone() })).unwrap();
        let got = evaluator().eval(&ctx).unwrap().into_value();
        prop_assert_eq!(&got["once"], &value);
        prop_assert_eq!(&got["twice"], &value);
        // Number kinds and float signs too (`==` treats -0.0 as 0.0).
        prop_assert_eq!(canonical(&got["once"]), canonical(&value));
        prop_assert_eq!(canonical(&got["twice"]), canonical(&value));
    }
}
