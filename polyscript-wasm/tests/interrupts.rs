//! Stopping one instance never touches another: each store checks its own
//! eval's deadline and token, so no guest call is ever interrupted by
//! someone else's stop, or silently run again (a host function's side
//! effect would repeat).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use polyscript_core::host::HostFunctions;
use polyscript_core::{Error, EvalContext, Evaluator, PoolConfig, Source};
use polyscript_wasm::ExtismEngine;
use serde_json::json;

/// `work`: calls `polyscript::tick` once (a side effect), then loops a while
/// (long enough to be running when another instance is stopped), and
/// returns `[]`. `spin`: loops forever.
const PLUGIN: &str = r#"(module
  (import "polyscript" "tick" (func $tick (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output (param i64 i64)))
  (func $empty_list (result i64) (local $p i64)
    (local.set $p (call $alloc (i64.const 2)))
    (call $store (local.get $p) (i32.const 91))
    (call $store (i64.add (local.get $p) (i64.const 1)) (i32.const 93))
    (local.get $p))
  (func (export "work") (result i32) (local $i i64) (local $p i64)
    (local.set $p (call $empty_list))
    (drop (call $tick (local.get $p)))
    (loop $busy
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $busy (i64.lt_u (local.get $i) (i64.const 3000000))))
    (call $output (local.get $p) (i64.const 2))
    (i32.const 0))
  (func (export "spin") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))"#;

#[test]
fn other_instances_being_stopped_never_interrupt_or_rerun_a_call() {
    let ticks = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&ticks);
    let registry = HostFunctions::new().register("tick", move |(): ()| {
        Ok(counted.fetch_add(1, Ordering::SeqCst))
    });
    let engine = ExtismEngine::builder()
        .entry_point("work")
        .host_functions(registry)
        .build();
    let ev = Evaluator::builder(engine, Source::from_bytes(PLUGIN))
        .pool(PoolConfig::default().with_max_size(4))
        .build()
        .unwrap();
    let works = 60;
    std::thread::scope(|scope| {
        // One thread keeps stopping spinning instances of the same module
        // on the same engine.
        let stopper = scope.spawn(|| {
            for _ in 0..15 {
                let ctx = EvalContext::new()
                    .with_entry_point("spin")
                    .with_timeout(Duration::from_millis(20));
                assert!(matches!(ev.eval(&ctx), Err(Error::Timeout { .. })));
            }
        });
        for _ in 0..works {
            let got = ev
                .eval(&EvalContext::new())
                .expect("never interrupted by another's stop");
            assert_eq!(got.into_value(), json!([]));
        }
        stopper.join().unwrap();
    });
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        works,
        "a call ran its side effect twice"
    );
}
