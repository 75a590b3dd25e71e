//! An Extism plugin instance takes no GC heap unless its guest asks for one
//! (vendor/PATCHES.md, extism patch 8). Upstream allocated the host
//! context's `ExternRef` in every new store: the store's first GC
//! allocation, which wasmtime fails and retries after growing a heap. That
//! failure captured a backtrace under `RUST_BACKTRACE=1`, whose cost grows
//! with every module loaded in the process (60 µs per fresh-instance eval
//! at 1 000 modules became 800 µs, 28 ms at 10 000). Here a pooling engine
//! with no GC heap at all shows the allocation is gone: with it, creating
//! the plugin failed ("GC heap out of memory").

#![cfg(feature = "extism")]

use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, UserData, Val, ValType};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig};

const PLUGIN: &str = r#"(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "main") (result i32) (local $p i64)
    (local.set $p (call $alloc (i64.const 1)))
    (call $store (local.get $p) (i32.const 55))
    (call $output (local.get $p) (i64.const 1))
    (i32.const 0)))"#;

/// Outputs the digit the host function `peek` returns: the call's host
/// context, or 0 without one.
const PEEK: &str = r#"(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output (param i64 i64)))
  (import "extism:host/user" "peek" (func $peek (result i64)))
  (memory (export "memory") 1)
  (func (export "main") (result i32) (local $p i64)
    (local.set $p (call $alloc (i64.const 1)))
    (call $store (local.get $p)
      (i32.add (i32.const 48) (i32.wrap_i64 (call $peek))))
    (call $output (local.get $p) (i64.const 1))
    (i32.const 0)))"#;

/// An engine configured as `CompiledPlugin::new` requires, whose instance
/// pool holds `gc_heaps` GC heaps.
fn engine_with_gc_heaps(gc_heaps: u32) -> Engine {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(8)
        .total_memories(8)
        .total_tables(8)
        .total_gc_heaps(gc_heaps)
        .max_memory_size(1 << 24);
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .wasm_tail_call(true)
        .wasm_function_references(true)
        .wasm_gc(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).expect("engine")
}

fn compiled(engine: &Engine, wat: &str) -> CompiledPlugin {
    let kernel = extism::kernel_module(engine).expect("kernel compiles");
    let main = Module::new(engine, wat).expect("plugin compiles");
    let peek = |plugin: &mut extism::CurrentPlugin, _: &[Val], out: &mut [Val], _: UserData<()>| {
        let context = plugin.host_context::<u32>().map_or(0, |c| i64::from(*c));
        out[0] = Val::I64(context);
        Ok(())
    };
    CompiledPlugin::new(
        PluginBuilder::new(Manifest::default())
            .with_engine(engine.clone(), kernel)
            .with_main_module(main)
            .with_function("peek", [], [ValType::I64], UserData::new(()), peek),
    )
    .expect("compiled plugin")
}

fn call_once(plugin: &mut Plugin) -> Vec<u8> {
    plugin
        .call::<&[u8], Vec<u8>>("main", b"")
        .unwrap_or_else(|e| panic!("{e:#}"))
}

#[test]
fn a_plugin_runs_on_an_engine_without_gc_heaps() {
    let engine = engine_with_gc_heaps(0);
    let compiled = compiled(&engine, PLUGIN);
    // Several fresh instances, each with its own store, as the default
    // fresh-instance policy makes them.
    for _ in 0..3 {
        let mut plugin = Plugin::new_from_compiled(&compiled)
            .unwrap_or_else(|e| panic!("a new plugin needs no GC heap: {e:#}"));
        assert_eq!(call_once(&mut plugin), b"7");
        assert_eq!(call_once(&mut plugin), b"7");
    }
}

#[test]
fn a_host_context_reaches_the_call_that_passes_one_and_no_other() {
    // The context's `ExternRef` is made on first use (so this plugin needs
    // a GC heap); calls without a context, before and after, see none.
    let engine = engine_with_gc_heaps(2);
    let compiled = compiled(&engine, PEEK);
    let mut plugin = Plugin::new_from_compiled(&compiled).expect("plugin");
    let with_context = |plugin: &mut Plugin, context: u32| {
        plugin
            .call_with_host_context::<&[u8], Vec<u8>, u32>("main", b"", context)
            .unwrap_or_else(|e| panic!("{e:#}"))
    };
    assert_eq!(call_once(&mut plugin), b"0");
    assert_eq!(with_context(&mut plugin, 7), b"7");
    assert_eq!(call_once(&mut plugin), b"0");
    assert_eq!(with_context(&mut plugin, 3), b"3");
}
