//! Static data plus per-call data (the evaluator's composite provider)
//! reaches every engine as the layered `EvalInput`, merged where the script
//! reads it. What every engine sees must be exactly the eager deep merge of
//! the layers, on the eager path (a small input) and the lazy one (a wide
//! input), whatever the script reads or returns.

use polyscript::{AnyEvaluator, EvalContext, Map, Value, deep_merge};
use serde_json::json;

/// Static data of `keys` top-level entries (`k0`…), some of which the
/// per-call data below overrides, merges into or replaces.
fn static_data(keys: usize) -> Value {
    let mut map = Map::new();
    map.insert(
        "common".into(),
        json!({"a": 1, "inner": {"x": 1, "y": [1, 2]}}),
    );
    map.insert("replaced".into(), json!({"gone": true}));
    map.insert("scalar".into(), json!("static"));
    for i in 0..keys {
        map.insert(format!("k{i}"), json!({"i": i, "s": format!("v{i}")}));
    }
    Value::Object(map)
}

/// Per-call data: merges into `common`, replaces a map with a list and a
/// scalar with a map, and adds a key of its own.
fn call_data() -> Value {
    json!({
        "common": {"b": 2, "inner": {"y": "call", "z": null}},
        "replaced": [1, 2, 3],
        "scalar": {"now": "a map"},
        "k1": 7,
        "only_call": "c",
    })
}

/// What the composite provider's eager merge gives.
fn merged(keys: usize) -> Value {
    let Value::Object(mut acc) = static_data(keys) else {
        unreachable!()
    };
    let Value::Object(call) = call_data() else {
        unreachable!()
    };
    deep_merge(&mut acc, call).unwrap();
    Value::Object(acc)
}

/// The reads every script makes, as a list.
fn expected_reads(keys: usize) -> Value {
    let m = merged(keys);
    json!([
        m["common"],
        m["replaced"],
        m["scalar"],
        m["k0"],
        m["k1"],
        m["only_call"]
    ])
}

/// Evals `whole` (returns `ctx`) and `reads` (returns the reads above) on
/// a small and a wide input, several times each (warm instances too).
fn check(
    build: impl Fn(&str, Value) -> polyscript::Result<AnyEvaluator>,
    whole: &str,
    reads: &str,
) {
    for keys in [1, 40] {
        let ctx = EvalContext::with_data(call_data()).unwrap();
        let ev = build(whole, static_data(keys)).unwrap();
        for _ in 0..3 {
            assert_eq!(
                ev.eval(&ctx).unwrap().into_value(),
                merged(keys),
                "{keys} keys, whole ctx"
            );
        }
        let ev = build(reads, static_data(keys)).unwrap();
        for _ in 0..3 {
            assert_eq!(
                ev.eval(&ctx).unwrap().into_value(),
                expected_reads(keys),
                "{keys} keys, reads"
            );
        }
        // Without per-call data: the static layer alone.
        assert_eq!(
            ev.eval(&EvalContext::new()).unwrap().into_value()[3],
            json!({"i": 0, "s": "v0"})
        );
    }
}

#[cfg(feature = "rhai")]
#[test]
fn rhai_reads_the_merge() {
    check(
        |text, data| polyscript::from_rhai_str_with_data(text, data),
        "ctx",
        "[ctx.common, ctx.replaced, ctx.scalar, ctx.k0, ctx.k1, ctx.only_call]",
    );
}

#[cfg(feature = "lua")]
#[test]
fn lua_reads_the_merge() {
    check(
        |text, data| polyscript::from_lua_str_with_data(text, data),
        "return ctx",
        "return {ctx.common, ctx.replaced, ctx.scalar, ctx.k0, ctx.k1, ctx.only_call}",
    );
}

#[cfg(feature = "js")]
#[test]
fn js_reads_the_merge() {
    check(
        |text, data| polyscript::from_js_str_with_data(text, data),
        "ctx",
        "[ctx.common, ctx.replaced, ctx.scalar, ctx.k0, ctx.k1, ctx.only_call]",
    );
}

/// The JavaScript key order is the merge's (static keys first, then the
/// call's new ones), on the lazy `ctx` as on the eager one.
#[cfg(feature = "js")]
#[test]
fn js_key_order_is_the_merge_order() {
    for keys in [1, 40] {
        let ev = polyscript::from_js_str_with_data("Object.keys(ctx)", static_data(keys)).unwrap();
        let ctx = EvalContext::with_data(call_data()).unwrap();
        let Value::Object(expected) = merged(keys) else {
            unreachable!()
        };
        let expected: Vec<Value> = expected.keys().map(|k| json!(k)).collect();
        assert_eq!(ev.eval(&ctx).unwrap().into_value(), Value::Array(expected));
    }
}

#[cfg(feature = "wasm")]
#[test]
fn wasm_guests_read_the_merge() {
    const PLUGIN: &[u8] = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");
    const WASI: &[u8] = include_bytes!("../polyscript-wasm/guests/wasi/build/scripts.wasm");
    // Both guests echo `value`: put the layers under it.
    let static_value = json!({"value": static_data(3)});
    let ctx = EvalContext::with_data(json!({"value": call_data()})).unwrap();
    let extism =
        polyscript::from_extism_bytes_with_data(PLUGIN, "echo", static_value.clone()).unwrap();
    assert_eq!(extism.eval(&ctx).unwrap().into_value(), merged(3));
    let mut wasi_static = static_value;
    wasi_static["op"] = json!("echo");
    let wasi = polyscript::from_wasi_bytes_with_data(WASI, wasi_static).unwrap();
    assert_eq!(wasi.eval(&ctx).unwrap().into_value(), merged(3));
}
