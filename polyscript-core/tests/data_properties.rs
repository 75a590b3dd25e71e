//! Property tests of the core's data bounds: the bounded serializer agrees
//! with serde_json on every value within the bound and refuses every value
//! past it; JSON output parsing agrees with serde_json within the bound;
//! contexts round-trip through the wire.

use polyscript_core::data::{self, Budget, DataErrorKind};
use polyscript_core::{EvalContext, Limits, Map, Value};
use proptest::prelude::*;

/// Random JSON values, up to ~6 levels from the generator (deeper ones
/// come from `nest`).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map>())),
        ]
    })
}

fn nest(mut value: Value, levels: usize) -> Value {
    for _ in 0..levels {
        value = Value::Array(vec![value]);
    }
    value
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_bounded_serializer_agrees_with_serde_json(value in json_value(), extra in 0usize..200) {
        let value = nest(value, extra);
        let d = depth(&value);
        match data::to_value(&value, Limits::DEFAULT_DATA_DEPTH) {
            Ok(ours) => {
                prop_assert!(d <= Limits::DEFAULT_DATA_DEPTH as usize);
                prop_assert_eq!(ours, value);
            }
            Err(e) => {
                prop_assert!(d > Limits::DEFAULT_DATA_DEPTH as usize, "refused at depth {}: {}", d, e);
                prop_assert_eq!(e.kind(), &DataErrorKind::TooDeep { limit: Limits::DEFAULT_DATA_DEPTH });
            }
        }
    }

    #[test]
    fn json_output_parses_like_serde_json_within_the_bound(value in json_value(), extra in 0usize..200) {
        let value = nest(value, extra);
        let text = serde_json::to_string(&value).unwrap();
        let d = depth(&value);
        match data::parse_json(text.as_bytes(), &mut Budget::new(Limits::DEFAULT_DATA_DEPTH, None)) {
            Ok(Some(parsed)) => {
                prop_assert!(d <= Limits::DEFAULT_DATA_DEPTH as usize);
                prop_assert_eq!(parsed, value);
            }
            Ok(None) => prop_assert!(false, "valid JSON read as not JSON: {}", text),
            Err(e) => prop_assert!(d > Limits::DEFAULT_DATA_DEPTH as usize, "{}", e),
        }
    }

    #[test]
    fn contexts_round_trip_through_the_wire(value in json_value()) {
        let data = Value::Object(Map::from_iter([("v".to_owned(), value)]));
        let ctx = EvalContext::with_data(&data).unwrap();
        let wire = serde_json::to_string(&ctx).unwrap();
        let back: EvalContext = serde_json::from_str(&wire).unwrap();
        prop_assert_eq!(back.data(), ctx.data());
    }
}
