//! A runtime on wasmtime's baseline compiler (Winch): the same engines and
//! limits, a much cheaper compile.

use std::time::Duration;

use polyscript_core::{Error, EvalContext, Evaluator, LimitKind, Limits, Source};
use polyscript_wasm::{Compiler, ExtismEngine, WasiEngine, WasmRuntime};
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");
const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

fn baseline(fuel: bool) -> WasmRuntime {
    WasmRuntime::builder()
        .compiler(Compiler::Baseline)
        .fuel(fuel)
        .max_instances(8)
        .build()
        .unwrap()
}

#[test]
fn wasi_modules_run_and_stay_bounded_on_the_baseline_compiler() {
    let limits = Limits::default().with_timeout(Duration::from_millis(300));
    let wasi = Evaluator::builder(
        WasiEngine::builder().runtime(baseline(true)).build(),
        Source::from_bytes(SCRIPTS),
    )
    .limits(limits)
    .build()
    .unwrap();
    let got = wasi
        .eval(&EvalContext::with_data(json!({"name": "Winch"})).unwrap())
        .unwrap();
    assert_eq!(got.value()["greeting"], "Hello, Winch!");
    let spin = EvalContext::with_data(json!({"op": "spin"})).unwrap();
    match wasi.eval(&spin.clone().with_limits(limits.with_operations(100_000))) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(Operations), got {other:?}"),
    }
    match wasi.eval(&spin.with_limits(limits.without_operation_limit())) {
        Err(Error::Timeout { .. }) => {}
        other => panic!("expected Timeout, got {other:?}"),
    }
    match wasi.eval(&EvalContext::with_data(json!({"op": "bomb"})).unwrap()) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(Memory), got {other:?}"),
    }
    match wasi.eval(&EvalContext::with_data(json!({"op": "recurse"})).unwrap()) {
        Err(Error::LimitExceeded { .. } | Error::Runtime { .. }) => {}
        other => panic!("expected a stack error, got {other:?}"),
    }
    let got = wasi
        .eval(&EvalContext::with_data(json!({"name": "again"})).unwrap())
        .unwrap();
    assert_eq!(got.value()["greeting"], "Hello, again!");
}

#[test]
fn extism_plugins_run_on_the_baseline_compiler_with_either_policy() {
    use polyscript_wasm::{Allocation, InstancePolicy};
    for (policy, allocation) in [
        (InstancePolicy::Fresh, Allocation::Pooling),
        (InstancePolicy::Stateful, Allocation::OnDemand),
    ] {
        let runtime = WasmRuntime::builder()
            .compiler(Compiler::Baseline)
            .allocation(allocation)
            .max_instances(8)
            .build()
            .unwrap();
        let program = |entry_point: &str| {
            let engine = ExtismEngine::builder()
                .entry_point(entry_point)
                .runtime(runtime.clone())
                .policy(policy)
                .build();
            Evaluator::new(engine, Source::from_bytes(PLUGIN)).unwrap()
        };
        let greet = program("greet");
        for name in ["Winch", "again"] {
            let got = greet
                .eval(&EvalContext::with_data(json!({"input": name})).unwrap())
                .unwrap();
            assert_eq!(
                got.value()["greeting"],
                format!("Hello, {name}!"),
                "{policy:?}"
            );
        }
        // State stays in a stateful instance and never reaches a fresh one.
        let bump = program("bump");
        let counts: Vec<_> = (0..3)
            .map(|_| bump.eval(&EvalContext::new()).unwrap().value().clone())
            .collect();
        let expected = match policy {
            InstancePolicy::Stateful => [json!(0), json!(1), json!(2)],
            _ => [json!(0), json!(0), json!(0)],
        };
        assert_eq!(counts, expected, "{policy:?}");
    }
}

#[test]
fn a_module_using_what_winch_cannot_compile_says_so() {
    let tail_call = r#"(module (func $f (return_call $f)) (func (export "_start")))"#;
    match Evaluator::new(
        WasiEngine::builder().runtime(baseline(true)).build(),
        Source::from_bytes(tail_call),
    ) {
        Err(Error::Compile { message, .. }) => assert!(message.contains("tail"), "{message}"),
        other => panic!("expected a compile error, got {other:?}"),
    }
}
