use super::*;
use crate::value::Value;
use serde_json::json;

fn map(v: Value) -> Map {
    v.as_object().cloned().expect("test data is a map")
}

#[test]
fn static_returns_its_data_and_refuses_runtime_data() {
    let p = StaticProvider::new(json!({"app": "x"})).unwrap();
    let ctx = EvalContext::new();
    assert_eq!(*p.data(&ctx).unwrap(), map(json!({"app": "x"})));
    let err = p.add_data(ctx, map(json!({"user": 1}))).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }));
    assert!(err.to_string().contains("user"), "{err}");
}

#[test]
fn context_provider_reads_and_merges_its_slot() {
    let p = ContextProvider::new();
    let ctx = p
        .add_data(EvalContext::new(), map(json!({"a": {"x": 1}, "l": [1, 2]})))
        .unwrap();
    let ctx = p
        .add_data(ctx, map(json!({"a": {"y": 2}, "l": [3]})))
        .unwrap();
    assert_eq!(
        *p.data(&ctx).unwrap(),
        map(json!({"a": {"x": 1, "y": 2}, "l": [3]}))
    );
    // Another key reads another slot.
    let other = ContextProvider::with_key("request").unwrap();
    assert!(other.data(&ctx).unwrap().is_empty());
    assert!(ContextProvider::with_key("").is_err());
}

#[test]
fn composite_later_overrides_earlier_and_merges_deeply() {
    let base = StaticProvider::new(json!({
        "name": "base", "config": {"timeout": 30, "retries": 3}, "tags": ["a", "b"]
    }))
    .unwrap();
    let over = StaticProvider::new(json!({
        "name": "override", "config": {"timeout": 60}, "tags": ["c"]
    }))
    .unwrap();
    let p = CompositeProvider::new().with(base).with(over);
    let data = p.data(&EvalContext::new()).unwrap().into_owned();
    assert_eq!(
        data,
        map(json!({
            "name": "override",
            "config": {"timeout": 60, "retries": 3},
            "tags": ["c"]
        }))
    );
}

#[test]
fn composite_of_statics_refuses_runtime_data_but_with_context_accepts_it() {
    let statics = CompositeProvider::new().with(StaticProvider::new(json!({"a": 1})).unwrap());
    assert!(!statics.accepts_runtime_data());
    assert!(
        statics
            .add_data(EvalContext::new(), map(json!({"b": 2})))
            .is_err()
    );

    let p = CompositeProvider::new()
        .with(StaticProvider::new(json!({"a": 1, "shared": {"s": 1}})).unwrap())
        .with(ContextProvider::new());
    let ctx = p
        .add_data(EvalContext::new(), map(json!({"b": 2, "shared": {"c": 2}})))
        .unwrap();
    assert_eq!(
        p.data(&ctx).unwrap().into_owned(),
        map(json!({"a": 1, "shared": {"s": 1, "c": 2}, "b": 2}))
    );
}

#[test]
fn empty_keys_are_rejected_and_named() {
    let top = StaticProvider::new(json!({"": 1})).unwrap_err();
    assert!(top.to_string().contains(r#"at ctx[""]"#), "{top}");
    let nested = ContextProvider::new()
        .add_data(
            EvalContext::new(),
            map(json!({"user": {"profile": {"": 1}}})),
        )
        .unwrap_err();
    assert!(
        nested.to_string().contains(r#"ctx.user.profile[""]"#),
        "{nested}"
    );
    let in_list = CompositeProvider::new()
        .with(ContextProvider::new())
        .add_data(
            EvalContext::new(),
            map(json!({"items": [{"ok": 1}, {"": 2}]})),
        )
        .unwrap_err();
    assert!(
        in_list.to_string().contains(r#"ctx.items[1][""]"#),
        "{in_list}"
    );
}

#[test]
fn non_map_data_is_an_error_not_dropped() {
    assert!(matches!(
        StaticProvider::new(json!("text")),
        Err(Error::InvalidData { .. })
    ));
}

#[test]
fn single_provider_data_is_borrowed_not_copied() {
    let p = CompositeProvider::new().with(ContextProvider::new());
    let ctx = EvalContext::with_data(json!({"a": 1})).unwrap();
    assert!(matches!(p.data(&ctx).unwrap(), Cow::Borrowed(_)));
}

#[test]
fn composite_input_borrows_every_layer_and_reads_as_its_merge() {
    let fixed =
        Arc::new(StaticProvider::new(json!({"config": {"a": 1}, "big": [1, 2, 3]})).unwrap());
    let p = CompositeProvider::new()
        .with_shared(fixed.clone())
        .with(StaticProvider::default())
        .with(ContextProvider::new());
    let ctx = EvalContext::with_data(json!({"config": {"b": 2}, "call": true})).unwrap();
    let input = p.input(&ctx).unwrap();
    // Two layers (the empty one dropped), neither copied: the static
    // entry the call does not touch is read in place.
    assert!(input.as_map().is_none());
    match input.get("big").unwrap() {
        Some(Cow::Borrowed(v)) => assert!(std::ptr::eq(v, &fixed.as_map()["big"])),
        other => panic!("expected a borrowed entry, got {other:?}"),
    }
    assert_eq!(
        Value::Object(input.to_map().unwrap().into_owned()),
        Value::Object(p.data(&ctx).unwrap().into_owned())
    );
    // Static data alone: one layer, the static map itself.
    let empty = EvalContext::new();
    let input = p.input(&empty).unwrap();
    assert!(std::ptr::eq(input.as_map().unwrap(), fixed.as_map()));
}

#[test]
fn static_data_is_shared_not_copied_when_an_input_is_made_owned() {
    let fixed = Arc::new(StaticProvider::new(json!({"config": {"a": 1}})).unwrap());
    let p = CompositeProvider::new()
        .with_shared(fixed.clone())
        .with(ContextProvider::new());
    let ctx = EvalContext::with_data(json!({"call": true})).unwrap();
    assert_eq!(Arc::strong_count(&fixed.data), 1);
    let owned = p.input(&ctx).unwrap().to_static();
    // The worker-bound input holds the provider's map itself.
    assert_eq!(Arc::strong_count(&fixed.data), 2);
    assert_eq!(
        *owned.to_map().unwrap(),
        map(json!({"config": {"a": 1}, "call": true}))
    );
    drop(owned);
    assert_eq!(Arc::strong_count(&fixed.data), 1);
}
