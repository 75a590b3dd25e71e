//! Per-instance memory and fuel from one compiled module, in both engines,
//! and memory limits that fit the data: the multiple-instances pattern
//! "same module, different setups: 1 page for one instance, 256 for
//! another", and a 10 MB input within the default memory limit.

use std::time::Duration;

use polyscript_core::{Error, EvalContext, Evaluator, LimitKind, Limits, Source, Value};
use polyscript_wasm::{ExtismEngine, InstancePolicy, WasiEngine};
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");
const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

const PAGE: u64 = 65_536;

/// A WASI command starting with one page that grows by 255 more (to 16
/// MiB) and writes `grown`.
const GROWER: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "grown")
  (func (export "_start")
    (if (i32.lt_s (memory.grow (i32.const 255)) (i32.const 0)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 5))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

fn with_memory(data: Value, bytes: u64) -> EvalContext {
    EvalContext::with_data(data)
        .unwrap()
        .with_limits(Limits::default().with_memory_bytes(bytes))
}

fn expect_memory_limit(what: &str, outcome: Result<polyscript_core::Response, Error>) {
    match outcome {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => {}
        other => panic!("{what}: expected LimitExceeded(Memory), got {other:?}"),
    }
}

#[test]
fn one_compiled_plugin_one_page_for_one_instance_256_for_another() {
    let evaluator = Evaluator::new(
        ExtismEngine::with_entry_point("allocate"),
        Source::from_bytes(PLUGIN),
    )
    .unwrap();
    let ask = json!({"mib": 4});
    // The plugin's own 64 KiB (Extism's kernel keeps its fixed 1 MiB apart).
    expect_memory_limit("1 page", evaluator.eval(&with_memory(ask.clone(), PAGE)));
    let large = evaluator
        .eval(&with_memory(ask.clone(), 256 * PAGE))
        .unwrap();
    assert_eq!(large.into_value(), json!({"allocated_mib": 4}));
    // And the small one again: each eval's instance has its own limit.
    expect_memory_limit("1 page again", evaluator.eval(&with_memory(ask, PAGE)));
}

#[test]
fn one_compiled_wasi_module_one_page_for_one_instance_256_for_another() {
    let evaluator = Evaluator::new(WasiEngine::new(), Source::from_bytes(GROWER)).unwrap();
    expect_memory_limit("1 page", evaluator.eval(&with_memory(json!({}), PAGE)));
    let large = evaluator.eval(&with_memory(json!({}), 256 * PAGE)).unwrap();
    assert_eq!(large.into_value(), json!("grown"));
}

#[test]
fn a_stateful_instance_takes_each_calls_memory_limit_for_further_growth() {
    let evaluator = Evaluator::builder(
        ExtismEngine::builder()
            .entry_point("allocate")
            .policy(InstancePolicy::Stateful)
            .build(),
        Source::from_bytes(PLUGIN),
    )
    .pool(
        polyscript_core::PoolConfig::default()
            .with_max_size(1)
            .with_min_idle(1),
    )
    .build()
    .unwrap();
    // The instance keeps what it allocates.
    let roomy = with_memory(json!({"mib": 2}), 1024 * PAGE);
    assert_eq!(
        evaluator.eval(&roomy).unwrap().into_value(),
        json!({"allocated_mib": 2})
    );
    // The same instance, now limited to 4 MiB: no room for 8 more (which
    // its earlier 64 MiB allowed).
    expect_memory_limit(
        "4 MiB",
        evaluator.eval(&with_memory(json!({"mib": 8}), 64 * PAGE)),
    );
}

#[test]
fn fuel_is_per_eval_from_one_compiled_module() {
    let spin = |operations: u64| {
        EvalContext::with_data(json!({"spin": true}))
            .unwrap()
            .with_limits(
                Limits::default()
                    .with_timeout(Duration::from_secs(2))
                    .with_operations(operations),
            )
    };
    let extism = Evaluator::new(
        ExtismEngine::builder()
            .entry_point("slow_greet")
            .fuel(true)
            .build(),
        Source::from_bytes(PLUGIN),
    )
    .unwrap();
    match extism.eval(&spin(10_000)) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(Operations), got {other:?}"),
    }
    let greet = EvalContext::with_data(json!({"name": "fuel"}))
        .unwrap()
        .with_limits(Limits::default().with_operations(50_000_000));
    assert_eq!(
        extism.eval(&greet).unwrap().value()["greeting"],
        "Hello, fuel!"
    );

    let wasi = Evaluator::new(WasiEngine::new(), Source::from_bytes(SCRIPTS)).unwrap();
    let op = |operations: u64| {
        EvalContext::with_data(json!({"op": "spin"}))
            .unwrap()
            .with_limits(
                Limits::default()
                    .with_timeout(Duration::from_secs(2))
                    .with_operations(operations),
            )
    };
    match wasi.eval(&op(10_000)) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(Operations), got {other:?}"),
    }
}

/// A 10 MB string is well within the default 64 MiB: it must run (the
/// engines' own copies and the guests' needs fit; see the crate docs).
#[test]
fn a_ten_megabyte_string_runs_within_the_default_memory_limit() {
    let big = "é".repeat(5 << 20); // 10 MiB of UTF-8
    let limits = Limits::default()
        .with_timeout(Duration::from_secs(60))
        .without_operation_limit();
    assert_eq!(limits.memory_bytes, Limits::default().memory_bytes);

    let extism = Evaluator::builder(
        ExtismEngine::with_entry_point("echo"),
        Source::from_bytes(PLUGIN),
    )
    .limits(limits)
    .build()
    .unwrap();
    let got = extism
        .eval(&EvalContext::with_data(json!({"value": big})).unwrap())
        .unwrap();
    assert_eq!(got.value().as_str().map(str::len), Some(big.len()));

    let wasi = Evaluator::builder(WasiEngine::new(), Source::from_bytes(SCRIPTS))
        .limits(limits)
        .build()
        .unwrap();
    let got = wasi
        .eval(&EvalContext::with_data(json!({"name": big})).unwrap())
        .unwrap();
    assert_eq!(got.value()["length"], json!(big.len() + 8));
    let got = wasi
        .eval(&EvalContext::with_data(json!({"op": "echo", "value": big})).unwrap())
        .unwrap();
    assert_eq!(got.value().as_str().map(str::len), Some(big.len()));
}
