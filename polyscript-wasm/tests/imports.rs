//! Modules whose imports the evaluator cannot satisfy are refused when it is
//! built, naming each missing import (not at their first eval).

use polyscript_core::host::HostFunctions;
use polyscript_core::{Error, Evaluator, Source};
use polyscript_wasm::{ExtismEngine, WasiEngine};

/// An Extism plugin written with WASI (as many PDKs build by default).
const WASI_PLUGIN: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func (param i32) (result i32)))
  (import "extism:host/env" "output_set" (func (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "main") (result i32) (i32.const 0)))"#;

fn compile_error<E: polyscript_core::Engine>(built: Result<Evaluator<E>, Error>) -> String {
    match built {
        Err(Error::Compile { message, .. }) => message,
        Err(other) => panic!("expected a compile error, got {other}"),
        Ok(_) => panic!("expected a compile error, the evaluator was built"),
    }
}

#[test]
fn an_extism_plugin_needing_wasi_is_refused_while_wasi_is_off() {
    let message = compile_error(Evaluator::new(
        ExtismEngine::new(),
        Source::from_bytes(WASI_PLUGIN),
    ));
    assert!(
        message.contains("`wasi_snapshot_preview1::fd_write`"),
        "{message}"
    );
    assert!(
        message.contains("`wasi_snapshot_preview1::fd_close`"),
        "{message}"
    );
    assert!(
        message.contains("ExtismEngineBuilder::wasi(true)"),
        "{message}"
    );
    assert!(
        !message.contains("output_set"),
        "a provided import is not listed: {message}"
    );
    Evaluator::new(
        ExtismEngine::builder().wasi(true).build(),
        Source::from_bytes(WASI_PLUGIN),
    )
    .expect("with WASI on it builds");
}

#[test]
fn unknown_host_and_kernel_functions_are_named() {
    let plugin = r#"(module
      (import "polyscript" "price" (func (param i64) (result i64)))
      (import "polyscript" "add" (func (param i32) (result i32)))
      (import "extism:host/env" "from_a_newer_pdk" (func (param i64)))
      (import "acme" "thing" (func))
      (func (export "main") (result i32) (i32.const 0)))"#;
    let registry = HostFunctions::new().register("add", |(a, b): (i64, i64)| Ok(a + b));
    let engine = ExtismEngine::builder().host_functions(registry).build();
    let message = compile_error(Evaluator::new(engine, Source::from_bytes(plugin)));
    for needle in [
        "`polyscript::price` (no host function `price` is registered",
        "`polyscript::add` (imported as (i32) -> (i32), provided as (i64) -> (i64))",
        "`extism:host/env::from_a_newer_pdk`",
        "`acme::thing`",
    ] {
        assert!(message.contains(needle), "missing {needle:?} in: {message}");
    }
}

#[test]
fn a_wasi_module_importing_unknown_host_functions_is_refused() {
    let module = r#"(module
      (import "polyscript_host" "price" (func (param i32 i32) (result i32)))
      (import "polyscript_host_result" "len" (func (result i32)))
      (import "wasi_snapshot_preview1" "not_in_preview1" (func))
      (memory (export "memory") 1)
      (func (export "_start")))"#;
    let message = compile_error(Evaluator::new(
        WasiEngine::new(),
        Source::from_bytes(module),
    ));
    assert!(message.contains("`polyscript_host::price`"), "{message}");
    assert!(
        message
            .contains("`wasi_snapshot_preview1::not_in_preview1` (not a WASI preview 1 function)"),
        "{message}"
    );
    assert!(
        !message.contains("polyscript_host_result::len"),
        "{message}"
    );
    let registry = HostFunctions::new().register("price", |(): ()| Ok(1));
    let module = module.replace(
        r#"(import "wasi_snapshot_preview1" "not_in_preview1" (func))"#,
        "",
    );
    Evaluator::new(
        WasiEngine::builder().host_functions(registry).build(),
        Source::from_bytes(module),
    )
    .expect("with the function registered it builds");
}
