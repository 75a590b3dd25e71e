//! WASI instances over one shared memory: what one writes the others read,
//! coordinated with atomics; and the modules that cannot share safely are
//! refused.

use std::time::Duration;

use polyscript_core::{Error, EvalContext, Evaluator, Limits, Source};
use polyscript_wasm::{Allocation, SharedMemory, WasiEngine, WasmRuntime};
use serde_json::json;

const MAILBOX: &str = include_str!("../guests/shared/mailbox.wat");

fn runtime() -> WasmRuntime {
    WasmRuntime::shared(true, Allocation::Pooling).unwrap()
}

fn evaluator(memory: &SharedMemory, entry: &str) -> Evaluator<WasiEngine> {
    let engine = WasiEngine::builder()
        .shared_memory(memory.clone())
        .entry_point(entry)
        .build();
    Evaluator::builder(engine, Source::from_bytes(MAILBOX))
        .limits(
            Limits::default()
                .with_timeout(Duration::from_secs(20))
                .without_operation_limit(),
        )
        .build()
        .expect("the mailbox module builds")
}

#[test]
fn a_write_by_one_instance_is_seen_by_another() {
    let memory = SharedMemory::new(&runtime(), 1, 1).unwrap();
    let consumer = evaluator(&memory, "consume");
    let producer = evaluator(&memory, "produce");
    std::thread::scope(|scope| {
        // The consumer waits (spinning on an atomic load) in its own instance.
        let waiting = scope.spawn(|| consumer.eval(&EvalContext::new()));
        std::thread::sleep(Duration::from_millis(50));
        producer
            .eval(&EvalContext::new())
            .expect("the producer posts");
        let got = waiting.join().unwrap().expect("the consumer sees the post");
        assert_eq!(got.into_value(), json!("hello"));
    });
    // The host sees the same bytes.
    assert_eq!(memory.read(128, 5).unwrap(), b"hello");
    assert_eq!(memory.read(0, 1).unwrap(), [1]);
}

#[test]
fn atomic_adds_from_concurrent_instances_all_land() {
    let memory = SharedMemory::new(&runtime(), 1, 1).unwrap();
    let counter = evaluator(&memory, "count");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let counter = counter.clone();
            scope.spawn(move || {
                for _ in 0..5 {
                    counter.eval(&EvalContext::new()).unwrap();
                }
            });
        }
    });
    let total = evaluator(&memory, "total")
        .eval(&EvalContext::new())
        .unwrap();
    assert_eq!(total.into_value(), json!(20_000));
}

#[test]
fn a_waiting_instance_is_still_stopped_by_its_deadline() {
    let memory = SharedMemory::new(&runtime(), 1, 1).unwrap();
    let consumer = evaluator(&memory, "consume");
    let ctx = EvalContext::new().with_timeout(Duration::from_millis(200));
    match consumer.eval(&ctx) {
        Err(Error::Timeout { .. }) => {}
        other => panic!("expected a timeout, nobody posts: {other:?}"),
    }
}

#[test]
fn modules_that_cannot_share_safely_are_refused() {
    let memory = SharedMemory::new(&runtime(), 1, 1).unwrap();
    let build = |wat: &str| {
        Evaluator::new(
            WasiEngine::builder().shared_memory(memory.clone()).build(),
            Source::from_bytes(wat.as_bytes()),
        )
    };
    let waits = r#"(module (import "env" "memory" (memory 1 1 shared))
        (func (export "_start")
          (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))"#;
    match build(waits) {
        Err(Error::Compile { message, .. }) => {
            assert!(message.contains("memory.atomic.wait"), "{message}")
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    let data = r#"(module (import "env" "memory" (memory 1 1 shared))
        (data (i32.const 0) "overwritten by every instance")
        (func (export "_start")))"#;
    match build(data) {
        Err(Error::Compile { message, .. }) => {
            assert!(message.contains("active data segments"), "{message}")
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    // A module importing a shared memory, built without one.
    match Evaluator::new(
        WasiEngine::builder().entry_point("consume").build(),
        Source::from_bytes(MAILBOX),
    ) {
        Err(Error::Compile { message, .. }) => {
            assert!(
                message.contains("env::memory") && message.contains("shared_memory"),
                "{message}"
            )
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    // A memory from another runtime.
    let other = WasmRuntime::builder().max_instances(2).build().unwrap();
    let foreign = SharedMemory::new(&other, 1, 1).unwrap();
    let engine = WasiEngine::builder()
        .runtime(runtime())
        .shared_memory(foreign)
        .entry_point("consume")
        .build();
    match Evaluator::new(engine, Source::from_bytes(MAILBOX)) {
        Err(Error::Unsupported { message }) => {
            assert!(message.contains("another runtime"), "{message}")
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
