//! Key validation and deep merge: contexts, `prepare` through every
//! provider shape, and `deep_merge` agree with a simple reference model, and
//! refuse empty keys and too-deep data with a typed error.

use arbitrary::Arbitrary;
use polyscript::{
    CompositeProvider, ContextProvider, Error, EvalContext, Map, Provider, StaticProvider, Value,
};

use super::json::{ArbValue, depth, drop_flat, has_empty_key, same};

#[derive(Debug, Arbitrary)]
pub struct MergeInput {
    base: Vec<(String, ArbValue)>,
    layers: Vec<Vec<(String, ArbValue)>>,
}

fn to_map(entries: &[(String, ArbValue)]) -> Map {
    entries
        .iter()
        .map(|(k, v)| (k.clone(), v.to_value()))
        .collect()
}

/// The merge rule, written the obvious way: maps merge key by key, the later
/// value wins everywhere else.
fn model_merge(dst: &mut Map, src: &Map) {
    for (key, value) in src {
        match (dst.get_mut(key), value) {
            (Some(Value::Object(a)), Value::Object(b)) => model_merge(a, b),
            _ => {
                dst.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Whether a map can go into a context at all.
fn acceptable(map: &Map) -> bool {
    let value = Value::Object(map.clone());
    let ok = !has_empty_key(&value) && depth(&value) <= polyscript::Limits::MAX_DATA_DEPTH as usize;
    drop_flat(value);
    ok
}

pub fn merge(input: MergeInput) {
    let base = to_map(&input.base);
    let layers: Vec<Map> = input.layers.iter().take(6).map(|l| to_map(l)).collect();
    // Deep recursion in the model itself is the fuzzer's problem, not ours.
    if depth(&Value::Object(base.clone())) > 200
        || layers
            .iter()
            .any(|l| depth(&Value::Object(l.clone())) > 200)
    {
        return;
    }

    // A context built from the base, then each layer merged in.
    let built = EvalContext::with_data(Value::Object(base.clone()));
    if !acceptable(&base) {
        assert!(
            matches!(built, Err(Error::InvalidData { .. })),
            "bad base accepted"
        );
        return;
    }
    let mut ctx = built.expect("an acceptable base");
    let mut expected = base.clone();
    for layer in &layers {
        let outcome = ctx.merge_into_slot(EvalContext::DEFAULT_KEY, layer.clone());
        if acceptable(layer) {
            outcome.expect("an acceptable layer merges");
            model_merge(&mut expected, layer);
        } else {
            assert!(
                matches!(outcome, Err(Error::InvalidData { .. })),
                "bad layer accepted"
            );
        }
    }
    let got = Value::Object(ctx.data().cloned().unwrap_or_default());
    assert!(
        same(&got, &Value::Object(expected.clone())),
        "context merge differs from the model"
    );

    // The same through providers: statics under a context provider.
    let mut composite =
        CompositeProvider::new().with(StaticProvider::new(Value::Object(base)).expect("base"));
    for layer in layers.iter().filter(|l| acceptable(l)).take(2) {
        composite =
            composite.with(StaticProvider::new(Value::Object(layer.clone())).expect("layer"));
    }
    let composite = composite.with(ContextProvider::new());
    let empty = EvalContext::new();
    let merged = composite.data(&empty).expect("statics merge");
    drop(merged);

    // What engines read: the layered input, with the last acceptable layer
    // as the call's data, is the merge of all of them, key by key and in
    // the merge's key order.
    let call = layers
        .iter()
        .rev()
        .find(|l| acceptable(l))
        .cloned()
        .unwrap_or_default();
    let ctx = EvalContext::with_data(Value::Object(call)).expect("an acceptable layer");
    let eager = composite.data(&ctx).expect("the layers merge").into_owned();
    let input = composite.input(&ctx).expect("the layers");
    let layered = input.to_map().expect("the layers merge").into_owned();
    assert!(
        layered.keys().eq(eager.keys()),
        "layered key order differs from the merge"
    );
    assert_eq!(input.len(), eager.len(), "layered length differs");
    for (key, value) in &eager {
        let got = input.get(key).expect("merges").expect("a merged key");
        assert!(
            same(&got, value),
            "layered entry {key:?} differs from the merge"
        );
    }
    assert!(
        same(&Value::Object(layered), &Value::Object(eager)),
        "layered input differs from the merge"
    );
    // `prepare` through the composite accepts what a context accepts.
    for layer in &layers {
        let prepared = composite.add_data(EvalContext::new(), layer.clone());
        assert_eq!(
            prepared.is_ok(),
            acceptable(layer),
            "prepare disagrees with the context"
        );
    }
}
