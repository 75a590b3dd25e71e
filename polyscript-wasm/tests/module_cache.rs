//! The compiled-module cache: in the process (identical bytes compiled once
//! per runtime, shared while alive) and on disk with an opt-in directory
//! (loaded by a later runtime; corrupt, truncated or stale files detected
//! and recompiled, never loaded as they are).

use std::path::{Path, PathBuf};

use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_wasm::{ExtismEngine, WasiEngine, WasmRuntime};
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");
const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polyscript-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A runtime with no modules in memory, caching in `dir` (a later process,
/// as far as the cache can tell).
fn runtime(dir: &Path, fuel: bool) -> WasmRuntime {
    WasmRuntime::builder()
        .fuel(fuel)
        .max_instances(4)
        .cache_dir(dir)
        .build()
        .unwrap()
}

fn wasi_greets(runtime: &WasmRuntime) {
    let ev = Evaluator::new(
        WasiEngine::builder().runtime(runtime.clone()).build(),
        Source::from_bytes(SCRIPTS),
    )
    .expect("builds");
    let got = ev
        .eval(&EvalContext::with_data(json!({"name": "cache"})).unwrap())
        .unwrap();
    assert_eq!(got.value()["greeting"], "Hello, cache!");
}

/// The cache files in `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn a_later_runtime_loads_what_an_earlier_one_compiled() {
    let dir = temp_dir("load");
    let first = runtime(&dir, true);
    wasi_greets(&first);
    assert_eq!(first.cache_stats().compiled, 1);
    assert_eq!(files(&dir).len(), 1);

    let second = runtime(&dir, true);
    wasi_greets(&second);
    let stats = second.cache_stats();
    assert_eq!(
        (stats.compiled, stats.loaded, stats.rejected),
        (0, 1, 0),
        "{stats:?}"
    );

    // Extism: its kernel and the plugin both come from the directory.
    let extism = |runtime: &WasmRuntime| {
        let engine = ExtismEngine::builder()
            .entry_point("greet")
            .runtime(runtime.clone())
            .build();
        let ev = Evaluator::new(engine, Source::from_bytes(PLUGIN)).unwrap();
        let got = ev
            .eval(&EvalContext::with_data(json!({"name": "x"})).unwrap())
            .unwrap();
        assert_eq!(got.value()["greeting"], "Hello, x!");
    };
    extism(&runtime(&dir, false));
    let later = runtime(&dir, false);
    extism(&later);
    assert_eq!(later.cache_stats().compiled, 0, "{:?}", later.cache_stats());
    assert_eq!(later.cache_stats().loaded, 2, "kernel and plugin");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_and_truncated_files_are_recompiled_and_replaced() {
    let dir = temp_dir("corrupt");
    wasi_greets(&runtime(&dir, true));
    let file = files(&dir).remove(0);
    let good = std::fs::read(&file).unwrap();

    // One flipped bit in the compiled code.
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    std::fs::write(&file, &flipped).unwrap();
    let after_flip = runtime(&dir, true);
    wasi_greets(&after_flip);
    let stats = after_flip.cache_stats();
    assert_eq!(
        (stats.loaded, stats.rejected, stats.compiled),
        (0, 1, 1),
        "{stats:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), good, "the file was replaced");

    // Cut short.
    std::fs::write(&file, &good[..good.len() / 3]).unwrap();
    let after_cut = runtime(&dir, true);
    wasi_greets(&after_cut);
    assert_eq!(after_cut.cache_stats().rejected, 1);

    // Replaced, it loads again.
    let repaired = runtime(&dir, true);
    wasi_greets(&repaired);
    assert_eq!(repaired.cache_stats().loaded, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_compiled_with_other_settings_is_stale_and_recompiled() {
    let dir = temp_dir("stale");
    // Compiled with fuel (different code), then put where a runtime without
    // fuel looks: a valid checksum, but wasmtime refuses it.
    wasi_greets(&runtime(&dir, true));
    let with_fuel = files(&dir).remove(0);
    let plain = runtime(&dir, false);
    let ev = Evaluator::new(
        WasiEngine::builder()
            .fuel(false)
            .runtime(plain.clone())
            .build(),
        Source::from_bytes(SCRIPTS),
    )
    .unwrap();
    drop(ev);
    let without_fuel: Vec<_> = files(&dir)
        .into_iter()
        .filter(|f| *f != with_fuel)
        .collect();
    assert_eq!(without_fuel.len(), 1, "settings are part of the key");
    std::fs::copy(&with_fuel, &without_fuel[0]).unwrap();

    let later = runtime(&dir, false);
    let ev = Evaluator::new(
        WasiEngine::builder()
            .fuel(false)
            .runtime(later.clone())
            .build(),
        Source::from_bytes(SCRIPTS),
    )
    .unwrap();
    let got = ev
        .eval(&EvalContext::with_data(json!({"name": "stale"})).unwrap())
        .unwrap();
    assert_eq!(got.value()["greeting"], "Hello, stale!");
    let stats = later.cache_stats();
    assert_eq!(
        (stats.loaded, stats.rejected, stats.compiled),
        (0, 1, 1),
        "{stats:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn recently_used_modules_outlive_their_evaluators_a_while() {
    let runtime = WasmRuntime::builder()
        .max_instances(4)
        .retain_compiled(2)
        .build()
        .unwrap();
    let tenant = |i: usize| format!("(module (func (export \"_start\") (drop (i32.const {i}))))");
    let build = |i| {
        Evaluator::new(
            WasiEngine::builder()
                .fuel(false)
                .runtime(runtime.clone())
                .build(),
            Source::from_bytes(tenant(i)),
        )
        .unwrap()
    };
    drop(build(0));
    drop(build(0));
    assert_eq!(
        runtime.cache_stats().compiled,
        1,
        "kept after its evaluator was dropped"
    );
    drop((build(1), build(2)));
    assert_eq!(runtime.cached_modules(), 2, "only the two most recent stay");
    drop(build(0));
    assert_eq!(runtime.cache_stats().compiled, 4, "the oldest was freed");
}

#[test]
fn without_a_directory_modules_are_shared_while_alive() {
    let runtime = WasmRuntime::builder()
        .max_instances(4)
        .retain_compiled(0)
        .build()
        .unwrap();
    let build = || {
        Evaluator::new(
            WasiEngine::builder()
                .fuel(false)
                .runtime(runtime.clone())
                .build(),
            Source::from_bytes(SCRIPTS),
        )
        .unwrap()
    };
    let a = build();
    let b = build();
    assert_eq!(runtime.cache_stats().compiled, 1);
    assert_eq!(runtime.cache_stats().shared, 1);
    drop((a, b));
    assert_eq!(runtime.cached_modules(), 0, "freed with the last evaluator");
    let _c = build();
    assert_eq!(
        runtime.cache_stats().compiled,
        2,
        "compiled again once freed"
    );
}
