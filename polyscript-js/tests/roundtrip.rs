//! Property test: random JSON values pushed through an identity script come
//! back exactly as the number rule says, or as the documented typed error
//! (`InvalidData` for nesting past `Limits::data_depth` or an integer a
//! JavaScript number cannot hold); never a crash.

use polyscript_core::data::JS_MAX_SAFE_INTEGER;
use polyscript_core::serde_json::{Map, Number, Value, json};
use polyscript_core::{Error, EvalContext, Evaluator, Limits, PoolConfig, Source};
use polyscript_js::{JsEngine, ThreadMode};
use proptest::prelude::*;

/// The data depth the evaluator runs with (small, so generated values
/// reach past it).
const DEPTH: u32 = 12;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        (-(1_i64 << 53)..(1_i64 << 53)).prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(-0.0)),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(16, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{1,6}", inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// What the identity script returns for `value` at `depth` (1 = the `ctx`
/// object), or `None` when the number rule or the depth bound refuses it.
fn expected(value: &Value, depth: u32) -> Option<Value> {
    Some(match value {
        Value::Number(n) => number(n)?,
        Value::Array(items) => {
            if depth + 1 > DEPTH {
                return None;
            }
            Value::Array(
                items
                    .iter()
                    .map(|v| expected(v, depth + 1))
                    .collect::<Option<_>>()?,
            )
        }
        Value::Object(map) => {
            if depth + 1 > DEPTH {
                return None;
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| Some((k.clone(), expected(v, depth + 1)?)))
                    .collect::<Option<_>>()?,
            )
        }
        other => other.clone(),
    })
}

fn number(n: &Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        return (i.abs() <= JS_MAX_SAFE_INTEGER).then(|| json!(i));
    }
    if n.as_u64().is_some() {
        return None;
    }
    let f = n.as_f64()?;
    let integral = f.fract() == 0.0 && f.abs() <= JS_MAX_SAFE_INTEGER as f64;
    Some(if integral && !(f == 0.0 && f.is_sign_negative()) {
        json!(f as i64)
    } else {
        json!(f)
    })
}

/// Integers stay integers and floats floats, everywhere in the value
/// (`Value`'s equality would take `1` and `1.0` as equal).
fn same_number_types(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.is_f64() == y.is_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_number_types(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| same_number_types(a, b)))
        }
        _ => true,
    }
}

fn evaluator(mode: ThreadMode) -> Evaluator<JsEngine> {
    Evaluator::builder(
        JsEngine::builder().thread_mode(mode).build(),
        Source::from_text("ctx.value"),
    )
    .limits(Limits::default().with_data_depth(DEPTH))
    .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
    .build()
    .expect("builds")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn identity_round_trip(value in value(), dedicated in any::<bool>()) {
        let mode = if dedicated { ThreadMode::Dedicated } else { ThreadMode::CallerThread };
        let ev = evaluator(mode);
        let input = json!({ "value": value.clone() });
        let outcome = EvalContext::with_data(input)
            .and_then(|ctx| ev.eval(&ctx))
            .map(|r| r.into_value());
        match (expected(&value, 1), outcome) {
            (Some(want), Ok(got)) => {
                prop_assert_eq!(&got, &want);
                prop_assert!(same_number_types(&got, &want), "{} vs {}", got, want);
            }
            (None, Err(Error::InvalidData { path: Some(path), .. })) => {
                prop_assert!(path.starts_with("ctx.value"), "{}", path);
            }
            (want, got) => prop_assert!(false, "expected {:?}, got {:?}", want, got),
        }
    }
}
