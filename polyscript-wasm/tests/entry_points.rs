//! Calling any export of a module compiled once: the entry point chosen per
//! call, checked against the exports, never compiled again.

use polyscript_core::{Engine, Error, EvalContext, Evaluator, Source};
use polyscript_wasm::{ExtismEngine, WasiEngine, WasmRuntime};
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");
const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

#[test]
fn one_extism_evaluator_calls_several_exports() {
    let runtime = WasmRuntime::builder().max_instances(4).build().unwrap();
    let engine = ExtismEngine::builder()
        .entry_point("greet")
        .runtime(runtime.clone())
        .build();
    assert!(engine.supports_entry_points());
    let ev = Evaluator::new(engine, Source::from_bytes(PLUGIN)).unwrap();
    let compiled = runtime.cache_stats().compiled;
    let data = json!({"input": "an input"});
    let greeting = ev
        .eval(&EvalContext::with_data(data.clone()).unwrap())
        .unwrap();
    assert_eq!(greeting.value()["greeting"], "Hello, an input!");
    let vowels = ev
        .eval(
            &EvalContext::with_data(data.clone())
                .unwrap()
                .with_entry_point("count_vowels"),
        )
        .unwrap();
    assert_eq!(vowels.value()["count"], 3);
    let reversed = ev
        .eval(
            &EvalContext::with_data(data)
                .unwrap()
                .with_entry_point("reverse_string"),
        )
        .unwrap();
    assert_eq!(reversed.value()["reversed"], "tupni na");
    assert_eq!(
        runtime.cache_stats().compiled,
        compiled,
        "nothing was compiled again"
    );
}

#[test]
fn an_unknown_export_is_entry_point_not_found_listing_the_callable_ones() {
    let ev = Evaluator::new(
        ExtismEngine::with_entry_point("greet"),
        Source::from_bytes(PLUGIN),
    )
    .unwrap();
    match ev.eval(&EvalContext::new().with_entry_point("nope")) {
        Err(Error::EntryPointNotFound {
            entry_point,
            available,
            ..
        }) => {
            assert_eq!(entry_point, "nope");
            assert!(
                available.iter().any(|e| e == "count_vowels"),
                "{available:?}"
            );
            assert!(!available.iter().any(|e| e == "memory"), "{available:?}");
        }
        other => panic!("expected EntryPointNotFound, got {other:?}"),
    }
}

#[test]
fn a_wasi_module_runs_a_named_export_instead_of_start() {
    // Configured for the evaluator...
    let ev = Evaluator::new(
        WasiEngine::builder().entry_point("hello").build(),
        Source::from_bytes(SCRIPTS),
    )
    .unwrap();
    assert_eq!(
        ev.eval(&EvalContext::new()).unwrap().into_value(),
        json!("hello from an export")
    );
    // ...or chosen per call on a `_start` evaluator.
    let ev = Evaluator::new(WasiEngine::new(), Source::from_bytes(SCRIPTS)).unwrap();
    let hello = ev
        .eval(&EvalContext::new().with_entry_point("hello"))
        .unwrap();
    assert_eq!(hello.into_value(), json!("hello from an export"));
    let greet = ev
        .eval(&EvalContext::with_data(json!({"name": "start"})).unwrap())
        .unwrap();
    assert_eq!(greet.value()["greeting"], "Hello, start!");
    match ev.eval(&EvalContext::new().with_entry_point("missing")) {
        Err(Error::EntryPointNotFound { available, .. }) => {
            assert!(
                available.contains(&"_start".to_owned()) && available.contains(&"hello".to_owned()),
                "{available:?}"
            );
        }
        other => panic!("expected EntryPointNotFound, got {other:?}"),
    }
    match Evaluator::new(
        WasiEngine::builder().entry_point("missing").build(),
        Source::from_bytes(SCRIPTS),
    ) {
        Err(Error::EntryPointNotFound { entry_point, .. }) => assert_eq!(entry_point, "missing"),
        other => panic!("expected EntryPointNotFound at build, got {other:?}"),
    }
}

#[test]
fn a_wasi_reactor_is_initialised_before_its_export() {
    let reactor = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (global $ready (mut i32) (i32.const 0))
      (data (i32.const 16) "ready?")
      (func (export "_initialize") (global.set $ready (i32.const 1)))
      (func (export "run")
        (if (i32.eqz (global.get $ready)) (then unreachable))
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 5))
        (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;
    let ev = Evaluator::new(
        WasiEngine::builder().entry_point("run").build(),
        Source::from_bytes(reactor),
    )
    .unwrap();
    assert_eq!(
        ev.eval(&EvalContext::new()).unwrap().into_value(),
        json!("ready")
    );
}
