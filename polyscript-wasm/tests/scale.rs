//! Thousands of tenant modules in one process (scaled down for CI): every
//! evaluator shares its runtime's engine and pool, costs a few memory
//! mappings and well under 1 MB while idle, identical modules are compiled
//! once, and a full pool says which setting to change.

use std::sync::Mutex;

use polyscript_core::{Error, EvalContext, Evaluator, LimitKind, PoolConfig, Source};
use polyscript_wasm::{Allocation, ExtismEngine, InstancePolicy, WasiEngine, WasmRuntime};
use serde_json::json;

/// The tests measure process-wide figures (mappings, resident memory): one
/// at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const EVALUATORS: usize = 300;

/// Lines of `/proc/self/maps`: the process's memory mappings.
fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count())
}

/// Resident memory in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// A distinct Extism plugin per tenant: its own data segment and output.
fn extism_tenant(i: usize) -> String {
    format!(
        r#"(module
          (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
          (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
          (import "extism:host/env" "output_set" (func $output (param i64 i64)))
          (memory (export "memory") 1)
          (data (i32.const 0) "tenant {i}")
          (func (export "main") (result i32) (local $p i64)
            (local.set $p (call $alloc (i64.const 1)))
            (call $store (local.get $p) (i32.const {digit}))
            (call $output (local.get $p) (i64.const 1))
            (i32.const 0)))"#,
        digit = 48 + i % 10
    )
}

/// A distinct WASI command per tenant, writing one digit.
fn wasi_tenant(i: usize) -> String {
    format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "{digit} tenant {i}")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (i32.const 1))
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
        digit = i % 10
    )
}

/// Builds `EVALUATORS` evaluators with `build`, checks the mappings and
/// resident memory they add while idle, then evaluates each once.
fn check_many<E: polyscript_core::Engine>(what: &str, build: impl Fn(usize) -> Evaluator<E>) {
    // The runtime and its first module (engine, pool, linker or kernel)
    // exist before counting.
    let warm = build(EVALUATORS);
    warm.eval(&EvalContext::new())
        .expect("the first tenant runs");
    let (maps_before, resident_before) = (mappings(), resident());
    let evaluators: Vec<_> = (0..EVALUATORS).map(&build).collect();
    let maps_each = (mappings().saturating_sub(maps_before)) as f64 / EVALUATORS as f64;
    let resident_each = resident().saturating_sub(resident_before) / EVALUATORS as u64;
    eprintln!(
        "{what}: {maps_each:.1} mappings and {} KB resident per idle evaluator",
        resident_each / 1024
    );
    // Each evaluator used to bring its own engine and pool: ~2 000 mappings.
    assert!(
        maps_each <= 8.0,
        "{what}: {maps_each} mappings per evaluator"
    );
    assert!(
        resident_each <= 1 << 20,
        "{what}: {resident_each} bytes per idle evaluator"
    );
    for (i, evaluator) in evaluators.iter().enumerate() {
        let got = evaluator
            .eval(&EvalContext::new())
            .expect("every tenant runs");
        assert_eq!(got.into_value(), json!(i % 10), "{what} tenant {i}");
    }
    // Running them all touched pool slots, but the count stays bounded by
    // the pool, not by the number of evaluators.
    let after = (mappings().saturating_sub(maps_before)) as f64 / EVALUATORS as f64;
    assert!(
        after <= 12.0,
        "{what}: {after} mappings per evaluator after one eval each"
    );
}

#[test]
fn hundreds_of_distinct_modules_share_one_runtime_per_engine() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    check_many("extism", |i| {
        Evaluator::new(ExtismEngine::new(), Source::from_bytes(extism_tenant(i))).expect("compiles")
    });
    check_many("wasi", |i| {
        Evaluator::new(WasiEngine::new(), Source::from_bytes(wasi_tenant(i))).expect("compiles")
    });
}

#[test]
fn identical_modules_are_compiled_once_per_runtime() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let runtime = WasmRuntime::builder()
        .max_instances(8)
        .retain_compiled(0)
        .build()
        .unwrap();
    let plugin = include_bytes!("../guests/plugin/build/plugin.wasm");
    let engine = |pages| {
        ExtismEngine::builder()
            .entry_point("greet")
            .max_pages(pages)
            .runtime(runtime.clone())
            .build()
    };
    let first = Evaluator::new(engine(64), Source::from_bytes(plugin)).unwrap();
    let before = runtime.cache_stats();
    // Other settings (memory), same bytes: the same compiled module.
    let second = Evaluator::new(engine(128), Source::from_bytes(plugin)).unwrap();
    let after = runtime.cache_stats();
    assert_eq!(after.compiled, before.compiled, "compiled again");
    assert_eq!(after.shared, before.shared + 1);
    let ctx = EvalContext::with_data(json!({"name": "twin"})).unwrap();
    assert_eq!(
        first.eval(&ctx).unwrap().value(),
        second.eval(&ctx).unwrap().value()
    );
    // Gone when the last evaluator is.
    drop((first, second));
    assert_eq!(runtime.cached_modules(), 1, "only Extism's kernel stays");
}

#[test]
fn a_full_pool_says_what_ran_out_and_which_setting_to_change() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // Room for one plugin instance (its kernel and its module); stateful
    // instances keep theirs between evals.
    let runtime = WasmRuntime::builder().max_instances(1).build().unwrap();
    assert!(runtime.is_pooled());
    let tenant = || {
        let engine = ExtismEngine::builder()
            .entry_point("get_state")
            .policy(InstancePolicy::Stateful)
            .runtime(runtime.clone())
            .build();
        Evaluator::builder(
            engine,
            Source::from_bytes(include_bytes!("../guests/plugin/build/plugin.wasm")),
        )
        .pool(PoolConfig::default().with_min_idle(0).with_max_size(4))
        .build()
        .unwrap()
    };
    let first = tenant();
    first.eval(&EvalContext::new()).expect("one instance fits");
    let second = tenant();
    match second.eval(&EvalContext::new()) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            message,
            ..
        }) => {
            assert!(
                message.contains("WasmRuntimeBuilder::max_instances"),
                "{message}"
            );
            assert!(!message.contains("GC heap"), "{message}");
        }
        Err(other) => panic!("expected LimitExceeded(Memory), got {other}"),
        Ok(_) => panic!("a second instance in a pool of one"),
    }
    drop(first);
    second
        .eval(&EvalContext::new())
        .expect("a slot is free again");
}

#[test]
fn stateful_evaluators_use_the_on_demand_runtime_by_default() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let pooled = WasmRuntime::shared(false, Allocation::Pooling).unwrap();
    let on_demand = WasmRuntime::shared(false, Allocation::OnDemand).unwrap();
    assert!(!on_demand.is_pooled());
    let plugin = include_bytes!("../guests/plugin/build/plugin.wasm");
    let fresh = Evaluator::new(
        ExtismEngine::with_entry_point("bump"),
        Source::from_bytes(plugin),
    )
    .unwrap();
    let stateful = Evaluator::new(
        ExtismEngine::builder()
            .entry_point("bump")
            .policy(InstancePolicy::Stateful)
            .build(),
        Source::from_bytes(plugin),
    )
    .unwrap();
    assert!(WasmRuntime::same(fresh.program().runtime(), &pooled));
    assert!(WasmRuntime::same(stateful.program().runtime(), &on_demand));
}

/// Open file descriptors of the process.
fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// Open files added by building and evaluating `count` distinct WASI tenants
/// (offset by `first`, so no module is shared with another call) on `engine`.
fn files_per_tenants(first: usize, count: usize, engine: impl Fn() -> WasiEngine) -> usize {
    let before = open_files();
    let tenants: Vec<_> = (first..first + count)
        .map(|i| Evaluator::new(engine(), Source::from_bytes(wasi_tenant(i))).expect("compiles"))
        .collect();
    for (i, tenant) in (first..).zip(&tenants) {
        let got = tenant.eval(&EvalContext::new()).expect("every tenant runs");
        assert_eq!(got.into_value(), json!(i % 10), "tenant {i}");
    }
    open_files().saturating_sub(before)
}

#[test]
fn wasi_tenants_default_to_a_runtime_without_copy_on_write_images() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let tenant = Evaluator::new(WasiEngine::new(), Source::from_bytes(wasi_tenant(0))).unwrap();
    let runtime = tenant.program().runtime();
    assert!(WasmRuntime::same(
        runtime,
        &WasmRuntime::shared_wasi(true).unwrap()
    ));
    assert!(!WasmRuntime::same(
        runtime,
        &WasmRuntime::shared(true, Allocation::Pooling).unwrap()
    ));
    assert!(!runtime.settings().copy_on_write);
    assert!(runtime.is_pooled());

    // What the default saves: a copy-on-write runtime keeps one memory file
    // per module with data once it has been instantiated; the default none.
    let cow = WasmRuntime::builder()
        .fuel(true)
        .copy_on_write(true)
        .build()
        .unwrap();
    let with_images = files_per_tenants(10_000, 100, || {
        WasiEngine::builder().runtime(cow.clone()).build()
    });
    let by_default = files_per_tenants(20_000, 100, WasiEngine::new);
    assert!(
        with_images >= 50,
        "copy-on-write runtime: {with_images} files"
    );
    assert!(by_default <= 5, "default runtime: {by_default} files");
}
