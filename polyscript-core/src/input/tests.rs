use super::*;
use crate::deep_merge;
use proptest::prelude::*;
use serde_json::json;

fn map(v: Value) -> Map {
    match v {
        Value::Object(m) => m,
        other => panic!("not a map: {other}"),
    }
}

fn layered(layers: &[Map]) -> EvalInput<'_> {
    let mut input = EvalInput::new(Cow::Borrowed(&layers[0]));
    for layer in &layers[1..] {
        input.push_layer(Cow::Borrowed(layer));
    }
    input
}

/// What the composite provider's eager merge gives for `layers`.
fn merged(layers: &[Map]) -> Map {
    let mut acc = Map::new();
    for layer in layers {
        deep_merge(&mut acc, layer.clone()).unwrap();
    }
    acc
}

/// Every view of the layered input against the eager merge, order included.
fn assert_same_as_merge(layers: &[Map]) {
    let expected = merged(layers);
    let input = layered(layers);
    let keys: Vec<&str> = input.keys().collect();
    let expected_keys: Vec<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(keys, expected_keys);
    assert_eq!(input.len(), expected.len());
    for n in 0..expected.len() + 2 {
        assert_eq!(input.len_at_least(n), expected.len() >= n, "at least {n}");
    }
    assert_eq!(input.is_empty(), expected.is_empty());
    for (key, value) in &expected {
        assert!(input.contains_key(key));
        assert_eq!(input.get(key).unwrap().as_deref(), Some(value), "at {key}");
    }
    assert_eq!(input.get("absent key").unwrap(), None);
    assert!(!input.contains_key("absent key"));
    let iterated: Map = input
        .iter()
        .map(|(k, v)| (k.to_owned(), v.unwrap().into_owned()))
        .collect();
    assert_eq!(iterated, expected);
    let whole = input.to_map().unwrap();
    assert_eq!(
        whole.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    assert_eq!(*whole, expected);
    // Serialized as the merged map, in its order.
    assert_eq!(
        serde_json::to_string(&input).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
}

#[test]
fn one_layer_is_read_in_place() {
    let data = map(json!({"a": {"b": 1}, "c": [1, 2]}));
    let input = EvalInput::from(&data);
    assert!(std::ptr::eq(input.as_map().unwrap(), &data));
    assert!(matches!(input.get("a").unwrap(), Some(Cow::Borrowed(_))));
    assert!(matches!(input.to_map().unwrap(), Cow::Borrowed(_)));
    assert_same_as_merge(&[data]);
}

#[test]
fn later_layers_win_and_nested_maps_merge() {
    assert_same_as_merge(&[
        map(json!({"user": {"name": "a", "tags": [1]}, "limit": 3, "only_first": true})),
        map(json!({"user": {"tags": [2], "id": 7}, "limit": {"max": 5}, "new": null})),
        map(json!({"user": {"name": "c"}, "last": "z", "limit": {"min": 1}})),
    ]);
}

#[test]
fn a_scalar_between_two_maps_cuts_the_merge() {
    let layers = [
        map(json!({"k": {"from_first": 1}})),
        map(json!({"k": 2})),
        map(json!({"k": {"from_third": 3}})),
    ];
    assert_eq!(
        layered(&layers).get("k").unwrap().as_deref(),
        Some(&json!({"from_third": 3}))
    );
    assert_same_as_merge(&layers);
}

#[test]
fn only_the_entries_both_layers_hold_as_maps_are_copied() {
    let layers = [
        map(json!({"big": {"x": 1}, "shared": {"a": 1}, "list": [1]})),
        map(json!({"shared": {"b": 2}, "list": [2]})),
    ];
    let input = layered(&layers);
    assert!(input.as_map().is_none());
    assert!(matches!(input.get("big").unwrap(), Some(Cow::Borrowed(_))));
    assert!(matches!(input.get("list").unwrap(), Some(Cow::Borrowed(_))));
    assert!(matches!(input.get("shared").unwrap(), Some(Cow::Owned(_))));
}

#[test]
fn empty_layers_are_dropped() {
    let empty = Map::new();
    let data = map(json!({"a": 1}));
    let mut input = EvalInput::from(&empty);
    input.push_layer(Cow::Borrowed(&data));
    input.push_layer(Cow::Borrowed(&empty));
    // One layer left: the fast path.
    assert!(std::ptr::eq(input.as_map().unwrap(), &data));
}

#[test]
fn a_merge_too_deep_on_both_sides_names_its_path() {
    fn nested(levels: u32) -> Value {
        (0..levels).fold(json!(1), |v, _| json!({ "n": v }))
    }
    let deep = Limits::MAX_DATA_DEPTH + 2;
    let layers = [
        map(json!({"k": nested(deep)})),
        map(json!({"k": nested(deep)})),
    ];
    let input = layered(&layers);
    let err = input.get("k").unwrap_err();
    assert!(matches!(
        err.kind(),
        crate::data::DataErrorKind::TooDeep { .. }
    ));
    // Below the key: the caller names it.
    assert!(
        err.path("ctx").starts_with("ctx.n.n"),
        "{}",
        err.path("ctx")
    );
    let err = input.to_map().unwrap_err();
    assert!(
        err.path("ctx").starts_with("ctx.k.n"),
        "{}",
        err.path("ctx")
    );
    let err = serde_json::to_string(&input).unwrap_err().to_string();
    assert!(err.contains("at ctx.k.n"), "{err}");
}

/// The layer's map, if it is shared (not copied).
fn shared_map<'l>(layer: &'l Layer<'_>) -> Option<&'l Arc<Map>> {
    match layer {
        Layer::Shared(map) => Some(map),
        _ => None,
    }
}

#[test]
fn to_static_shares_a_shared_layer_and_copies_the_rest() {
    let fixed = Arc::new(map(json!({"config": {"depth": 2}, "name": "fixed"})));
    let call = map(json!({"name": "call", "config": {"extra": true}}));
    let mut input = EvalInput::shared(&fixed);
    input.push_layer(Cow::Borrowed(&call));
    let owned = input.to_static();
    // The provider's map is the same allocation, not a copy...
    assert!(Arc::ptr_eq(shared_map(&owned.first).unwrap(), &fixed));
    assert_eq!(Arc::strong_count(&fixed), 2);
    // ...and the call's borrowed map became an owned copy.
    assert!(matches!(owned.rest.as_slice(), [Layer::Owned(m)] if *m == call));
    let expected = merged(&[(*fixed).clone(), call.clone()]);
    assert_eq!(*owned.to_map().unwrap(), expected);
    assert_eq!(*input.to_map().unwrap(), expected);
    // Copying again still shares; dropping the copies releases the map.
    let again = owned.to_static();
    assert!(Arc::ptr_eq(shared_map(&again.first).unwrap(), &fixed));
    drop((owned, again));
    assert_eq!(Arc::strong_count(&fixed), 1);
}

#[test]
fn a_shared_layer_alone_is_read_in_place_and_merges_like_any_other() {
    let fixed = Arc::new(map(json!({"a": [1, 2], "b": {"c": null}})));
    let input = EvalInput::shared(&fixed);
    assert!(std::ptr::eq(input.as_map().unwrap(), &*fixed));
    assert!(matches!(input.to_map().unwrap(), Cow::Borrowed(_)));
    // An owned input made from it gives the whole map back (a copy, as the
    // provider still holds it).
    let owned = input.to_static();
    assert_eq!(*owned.into_map().unwrap(), *fixed);
    assert_same_as_merge(&[(*fixed).clone()]);
}

/// Small maps over few keys, so that layers collide often.
fn small_map() -> impl Strategy<Value = Map> {
    let leaf = prop_oneof![
        Just(json!(null)),
        any::<i8>().prop_map(|i| json!(i)),
        "[a-c]{0,2}".prop_map(Value::String),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::vec(("[a-d]", inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    });
    proptest::collection::vec(("[a-f]", value), 0..5).prop_map(|e| e.into_iter().collect())
}

proptest! {
    /// Any stack of layers reads exactly as the eager merge of them.
    #[test]
    fn layers_read_as_their_merge(layers in proptest::collection::vec(small_map(), 1..5)) {
        assert_same_as_merge(&layers);
    }

    /// An input made owned by `to_static`, with its first layer shared,
    /// reads as the same merge.
    #[test]
    fn to_static_reads_as_the_same_merge(layers in proptest::collection::vec(small_map(), 1..5)) {
        let fixed = Arc::new(layers[0].clone());
        let mut input = EvalInput::shared(&fixed);
        for layer in &layers[1..] {
            input.push_layer(Cow::Borrowed(layer));
        }
        let owned = input.to_static();
        prop_assert_eq!(&*owned.to_map().unwrap(), &merged(&layers));
    }
}
