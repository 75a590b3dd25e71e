//! Property: any JSON value, nested around the depth bound, pushed through
//! an identity script (`ctx.value`) comes back exactly (types, `-0.0`), or
//! is `InvalidData` naming where it is (too deep, or an integer rhai cannot
//! hold); never anything else, never a crash (this binary would die).

use polyscript_core::{Error, EvalContext, Evaluator, Limits, Map, PoolConfig, Source, Value};
use polyscript_rhai::RhaiEngine;
use proptest::prelude::*;
use serde_json::json;

/// Scalars, including the edges of the number rule.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        Just(json!(i64::MIN)),
        Just(json!(i64::MAX)),
        // Above i64::MAX: not an INT.
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(-0.0)),
        ".{0,12}".prop_map(Value::String),
    ]
}

/// Small trees of scalars (map keys are never empty: a context refuses those).
fn small() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z ]{1,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A small tree at the bottom of a spine of `depth` random containers, each
/// with a few small siblings: depths around the bound without building huge
/// values.
fn around_the_bound() -> impl Strategy<Value = Value> {
    let level = (
        any::<bool>(),
        "[a-z]{1,5}",
        prop::collection::vec(small(), 0..3),
        any::<u8>(),
    );
    (small(), prop::collection::vec(level, 110..140)).prop_map(|(mut value, levels)| {
        for (as_map, key, siblings, at) in levels {
            value = if as_map {
                let mut map: Map = siblings
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| (format!("s{i}"), s))
                    .collect();
                map.insert(key, value);
                Value::Object(map)
            } else {
                let mut list = siblings;
                let at = usize::from(at) % (list.len() + 1);
                list.insert(at, value);
                Value::Array(list)
            };
        }
        value
    })
}

/// The nesting depth of `value` (a scalar is 0), without recursion.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0)];
    while let Some((v, d)) = stack.pop() {
        let children: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Object(m) => m.values().collect(),
            _ => continue,
        };
        deepest = deepest.max(d + 1);
        stack.extend(children.into_iter().map(|c| (c, d + 1)));
    }
    deepest
}

/// Whether `value` holds an integer above `i64::MAX` anywhere.
fn has_wide_integer(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) if n.is_u64() && n.as_i64().is_none() => return true,
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    false
}

/// `value` with every map's keys sorted (test values are shallow enough to
/// recurse over).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

fn evaluator() -> Evaluator<RhaiEngine> {
    Evaluator::builder(RhaiEngine::new(), Source::from_text("ctx.value"))
        .limits(Limits::default())
        .pool(PoolConfig::default().with_max_size(1))
        .build()
        .expect("compiles")
}

fn check(ev: &Evaluator<RhaiEngine>, value: Value) -> Result<(), TestCaseError> {
    let data = json!({ "value": value });
    let ctx = EvalContext::with_data(&data).expect("within the context's bound");
    // `ctx` is one level, so the value itself may be one level less deep.
    let too_deep = depth(&value) + 1 > Limits::DEFAULT_DATA_DEPTH as usize;
    match ev.eval(&ctx).map(|r| r.into_value()) {
        Ok(got) => {
            prop_assert!(
                !too_deep && !has_wide_integer(&value),
                "accepted {}",
                depth(&value)
            );
            // The text tells `1` from `1.0` and `-0.0` from `0.0`; map keys
            // come back in rhai's (sorted) order, which JSON does not fix.
            prop_assert_eq!(canonical(&got).to_string(), canonical(&value).to_string());
        }
        Err(Error::InvalidData { path, .. }) => {
            prop_assert!(too_deep || has_wide_integer(&value), "refused {path:?}");
            let path = path.unwrap_or_default();
            prop_assert!(path.starts_with("ctx.value"), "{}", path);
        }
        Err(other) => prop_assert!(false, "unexpected error {other}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn values_around_the_depth_bound_round_trip_or_are_refused(value in around_the_bound()) {
        thread_local! { static EV: Evaluator<RhaiEngine> = evaluator(); }
        EV.with(|ev| check(ev, value))?;
    }

    #[test]
    fn small_values_round_trip(value in small()) {
        thread_local! { static EV: Evaluator<RhaiEngine> = evaluator(); }
        EV.with(|ev| check(ev, value))?;
    }
}
