//! The WASI command engine's own behaviour: exit codes and stderr, grants,
//! per-evaluator configuration, isolation, threads, recovery after timeouts.
#![cfg(feature = "wasi")]

use std::time::Duration;

use polyscript_core::{
    Error, EvalContext, Evaluator, LimitKind, Limits, PoolConfig, Source, Value,
};
use polyscript_wasm::{InstancePolicy, WasiEngine};
use serde_json::{Value as Json, json};

const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

fn evaluator(engine: WasiEngine, limits: Limits) -> Evaluator<WasiEngine> {
    match Evaluator::builder(engine, Source::from_bytes(SCRIPTS))
        .limits(limits)
        .build()
    {
        Ok(ev) => ev,
        Err(e) => panic!("building the evaluator failed: {e}"),
    }
}

fn eval(ev: &Evaluator<WasiEngine>, data: Json) -> Result<Value, Error> {
    let ctx = EvalContext::with_data(data)?;
    ev.eval(&ctx).map(|r| r.into_value())
}

#[test]
fn greets_over_stdin_and_stdout() {
    let ev = evaluator(WasiEngine::new(), Limits::default());
    let got = eval(&ev, json!({"name": "Wörld"})).expect("greet");
    assert_eq!(got, json!({"greeting": "Hello, Wörld!", "length": 14}));
}

#[test]
fn non_zero_exit_is_a_runtime_error_with_stderr() {
    let ev = evaluator(WasiEngine::new(), Limits::default());
    match eval(&ev, json!({"op": "fail"})) {
        Err(Error::Runtime { message, .. }) => {
            assert_eq!(message, "boom: this script always fails");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn output_that_is_not_json_is_a_string() {
    let ev = evaluator(WasiEngine::new(), Limits::default());
    let got = eval(&ev, json!({"op": "text"})).expect("text");
    assert_eq!(got, json!("plain text, not JSON"));
}

#[test]
fn env_is_granted_explicitly_and_only_what_is_granted() {
    let granted = evaluator(
        WasiEngine::builder().env("GREETING", "hi there").build(),
        Limits::default(),
    );
    let default = evaluator(WasiEngine::new(), Limits::default());
    let ask = json!({"op": "env", "key": "GREETING"});
    assert_eq!(eval(&granted, ask.clone()).expect("env"), json!("hi there"));
    assert_eq!(eval(&default, ask).expect("env"), Json::Null);
    assert_eq!(
        eval(&granted, json!({"op": "env", "key": "PATH"})).expect("env"),
        Json::Null
    );
}

#[test]
fn args_are_the_program_name_plus_granted_ones() {
    let ev = evaluator(
        WasiEngine::builder()
            .program_name("scripts")
            .args(["--mode", "fast"])
            .build(),
        Limits::default(),
    );
    let got = eval(&ev, json!({"op": "args"})).expect("args");
    assert_eq!(got, json!(["scripts", "--mode", "fast"]));
}

#[test]
fn a_read_only_preopen_is_visible_only_when_granted() {
    let dir = std::env::temp_dir().join(format!("polyscript-wasi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("note.txt"), "granted content").expect("write");
    let granted = evaluator(
        WasiEngine::builder()
            .preopened_dir_read_only(&dir, "/data")
            .build(),
        Limits::default(),
    );
    let ask = json!({"op": "read_file", "path": "note.txt"});
    assert_eq!(
        eval(&granted, ask.clone()).expect("read"),
        json!("granted content")
    );
    let default = evaluator(WasiEngine::new(), Limits::default());
    assert_eq!(eval(&default, ask).expect("read"), Json::Null);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_evaluators_with_different_memory_limits_differ_on_the_same_module() {
    let roomy = evaluator(
        WasiEngine::new(),
        Limits::default().with_memory_bytes(64 << 20),
    );
    let tight = evaluator(
        WasiEngine::new(),
        Limits::default().with_memory_bytes(4 << 20),
    );
    let ask = json!({"op": "alloc", "mb": 8});
    assert_eq!(
        eval(&roomy, ask.clone()).expect("roomy alloc"),
        json!({"allocated_mb": 8})
    );
    match eval(&tight, ask) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(memory), got {other:?}"),
    }
}

#[test]
fn fresh_instances_do_not_share_memory() {
    // One pooled slot: every eval still runs in a new instance, so the global
    // the previous eval stored is never seen.
    let ev = Evaluator::builder(WasiEngine::new(), Source::from_bytes(SCRIPTS))
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
        .expect("build");
    for n in 1..=5 {
        let got = eval(&ev, json!({"op": "counter", "n": n})).expect("counter");
        assert_eq!(got, Json::Null, "eval {n} saw an earlier eval's global");
    }
}

#[test]
fn stateful_policy_is_unsupported_for_commands() {
    let engine = WasiEngine::builder()
        .policy(InstancePolicy::Stateful)
        .build();
    match Evaluator::builder(engine, Source::from_bytes(SCRIPTS)).build() {
        Err(Error::Unsupported { message }) => assert!(message.contains("Stateful"), "{message}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn a_module_without_start_is_entry_point_not_found() {
    let reactor = wat_module("(module (func (export \"greet\")) (memory (export \"memory\") 1))");
    match Evaluator::builder(WasiEngine::new(), Source::from_bytes(reactor)).build() {
        Err(Error::EntryPointNotFound {
            entry_point,
            available,
            ..
        }) => {
            assert_eq!(entry_point, "_start");
            assert_eq!(available, vec!["greet".to_owned()]);
        }
        other => panic!("expected EntryPointNotFound, got {other:?}"),
    }
}

#[test]
fn unknown_imports_fail_at_compile_time() {
    let module = wat_module(
        "(module (import \"extism:host/env\" \"input_length\" (func (result i64))) \
         (func (export \"_start\")))",
    );
    match Evaluator::builder(WasiEngine::new(), Source::from_bytes(module)).build() {
        Err(Error::Compile { message, .. }) => assert!(message.contains("import"), "{message}"),
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn concurrent_evals_on_threads_are_correct() {
    let ev = evaluator(WasiEngine::new(), Limits::default());
    std::thread::scope(|scope| {
        for t in 0..6 {
            let ev = ev.clone();
            scope.spawn(move || {
                for i in 0..50 {
                    let name = format!("thread {t} call {i}");
                    let got = eval(&ev, json!({ "name": name })).expect("greet");
                    let greeting = format!("Hello, {name}!");
                    assert_eq!(got, json!({"greeting": greeting, "length": greeting.len()}));
                }
            });
        }
    });
}

#[test]
fn a_timed_out_eval_does_not_poison_the_next() {
    let ev = Evaluator::builder(WasiEngine::new(), Source::from_bytes(SCRIPTS))
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .limits(
            Limits::default()
                .with_timeout(Duration::from_millis(100))
                .without_operation_limit(),
        )
        .build()
        .expect("build");
    match eval(&ev, json!({"op": "spin"})) {
        Err(Error::Timeout { .. }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    let got = eval(&ev, json!({"name": "again"})).expect("greet after timeout");
    assert_eq!(got, json!({"greeting": "Hello, again!", "length": 13}));
}

#[test]
fn fuel_off_leaves_operations_to_the_timeout() {
    let limits = Limits::default()
        .with_timeout(Duration::from_millis(200))
        .with_operations(1_000);
    let fueled = evaluator(WasiEngine::new(), limits);
    let unfueled = evaluator(WasiEngine::builder().fuel(false).build(), limits);
    match eval(&fueled, json!({"op": "spin"})) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(operations), got {other:?}"),
    }
    match eval(&unfueled, json!({"op": "spin"})) {
        Err(Error::Timeout { .. }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// The engine compiles explicit bounds and stack checks (no signal-based
/// traps, see `runtime.rs`): both must still stop the guest with the right
/// error, and the pooled slot must be usable afterwards.
#[test]
fn runaway_recursion_and_out_of_bounds_access_are_typed_errors() {
    let recursion = wat_module(
        "(module (memory (export \"memory\") 1) \
         (func $down (param i64) (result i64) \
           (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1))) \
         (func (export \"_start\") (drop (call $down (i64.const 0)))))",
    );
    let out_of_bounds = wat_module(
        "(module (memory (export \"memory\") 1) \
         (func (export \"_start\") (drop (i32.load (i32.const 1000000)))))",
    );
    let build = |bytes: Vec<u8>| {
        Evaluator::builder(WasiEngine::new(), Source::from_bytes(bytes))
            .build()
            .expect("build")
    };
    let deep = build(recursion);
    match eval(&deep, json!({})) {
        Err(Error::LimitExceeded {
            limit: LimitKind::CallDepth,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(call depth), got {other:?}"),
    }
    let oob = build(out_of_bounds);
    for _ in 0..2 {
        match eval(&oob, json!({})) {
            Err(Error::Runtime { message, .. }) => {
                assert!(message.contains("out of bounds"), "{message}")
            }
            other => panic!("expected an out-of-bounds trap, got {other:?}"),
        }
    }
    let ev = evaluator(WasiEngine::new(), Limits::default());
    let got = eval(&ev, json!({"name": "after traps"})).expect("greet");
    assert_eq!(
        got,
        json!({"greeting": "Hello, after traps!", "length": 19})
    );
}

/// A module in the text format, which wasmtime (with its default `wat`
/// feature) compiles like the binary one.
fn wat_module(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}
