//! The multiple-instance claims: one compiled module, many isolated
//! instances, in parallel, configured differently, pooled.

use std::time::Duration;

use polyscript_core::{
    CancelToken, Engine, EngineKind, Error, EvalContext, Evaluator, Guard, LimitKind, Limits,
    PoolConfig, Source, Value,
};
use polyscript_wasm::{ExtismEngine, InstancePolicy};
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");

fn evaluator(engine: ExtismEngine) -> Evaluator<ExtismEngine> {
    Evaluator::builder(engine, Source::from_bytes(PLUGIN))
        .build()
        .expect("the guest compiles")
}

fn with_pool(engine: ExtismEngine, limits: Limits, pool: PoolConfig) -> Evaluator<ExtismEngine> {
    Evaluator::builder(engine, Source::from_bytes(PLUGIN))
        .limits(limits)
        .pool(pool)
        .build()
        .expect("the guest compiles")
}

fn data(value: Value) -> EvalContext {
    EvalContext::with_data(value).expect("a map")
}

#[test]
fn two_instances_of_one_module_do_not_share_memory() {
    let ev = evaluator(ExtismEngine::with_entry_point("get_state"));
    let mut a = ev.instantiate().unwrap();
    let mut b = ev.instantiate().unwrap();
    assert_eq!(a.call("set_state", b"42").unwrap(), b"42");
    assert_eq!(b.call("get_state", b"").unwrap(), b"0");
    assert_eq!(a.call("get_state", b"").unwrap(), b"42");
    assert_eq!(b.call("set_state", b"7").unwrap(), b"7");
    assert_eq!(a.call("get_state", b"").unwrap(), b"42");
}

#[test]
fn instances_run_concurrently_with_their_own_results() {
    let ev = with_pool(
        ExtismEngine::with_entry_point("greet"),
        Limits::default(),
        PoolConfig::default().with_max_size(4),
    );
    std::thread::scope(|scope| {
        for t in 0..6 {
            let ev = ev.clone();
            scope.spawn(move || {
                for i in 0..40 {
                    let name = format!("thread-{t}-call-{i}");
                    let got = ev
                        .eval(&data(json!({ "name": name })))
                        .unwrap()
                        .into_value();
                    let greeting = format!("Hello, {name}!");
                    assert_eq!(got, json!({"greeting": greeting, "length": greeting.len()}));
                }
            });
        }
    });
    assert!(ev.pool_stats().created <= 4);
}

#[test]
fn two_evaluators_of_one_module_with_different_memory_limits() {
    let small = evaluator(
        ExtismEngine::builder()
            .entry_point("allocate")
            .max_pages(64)
            .build(),
    );
    let large = evaluator(
        ExtismEngine::builder()
            .entry_point("allocate")
            .max_pages(1024)
            .build(),
    );
    let ask = || data(json!({"mib": 8}));
    match small.eval(&ask()) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => {}
        other => panic!("4 MiB evaluator allocated 8 MiB: {other:?}"),
    }
    assert_eq!(
        large.eval(&ask()).unwrap().into_value(),
        json!({"allocated_mib": 8})
    );

    // The bomb ends with the memory limit in both.
    for pages in [64, 1024] {
        let bomb = evaluator(
            ExtismEngine::builder()
                .entry_point("alloc_bomb")
                .max_pages(pages)
                .build(),
        );
        match bomb.eval(&data(json!({}))) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                ..
            }) => {}
            other => panic!("{pages} pages: {other:?}"),
        }
    }
}

#[test]
fn a_full_pool_answers_pool_exhausted_then_recovers() {
    let ev = with_pool(
        ExtismEngine::with_entry_point("greet"),
        Limits::default(),
        PoolConfig::default()
            .with_max_size(2)
            .with_min_idle(0)
            .with_acquire_timeout(Duration::from_millis(200)),
    );
    let first = ev.pool().acquire().unwrap();
    let second = ev.pool().acquire().unwrap();
    match ev.pool().acquire() {
        Err(Error::PoolExhausted { max_size: 2, .. }) => {}
        Err(other) => panic!("expected PoolExhausted, got {other:?}"),
        Ok(_) => panic!("a third instance out of a pool of two"),
    }
    match ev.eval(&data(json!({"name": "x"}))) {
        Err(Error::PoolExhausted { .. }) => {}
        other => panic!("expected PoolExhausted, got {other:?}"),
    }
    drop(first);
    let got = ev
        .eval(&data(json!({"name": "again"})))
        .unwrap()
        .into_value();
    assert_eq!(got["greeting"], "Hello, again!");
    drop(second);
    assert_eq!(ev.pool_stats().in_use, 0);
}

#[test]
fn concurrent_evals_beyond_the_pool_size_get_pool_exhausted() {
    let ev = with_pool(
        ExtismEngine::with_entry_point("slow_greet"),
        Limits::default().with_timeout(Duration::from_secs(30)),
        PoolConfig::default()
            .with_max_size(2)
            .with_acquire_timeout(Duration::from_millis(300)),
    );
    let token = CancelToken::new();
    std::thread::scope(|scope| {
        let spinners: Vec<_> = (0..2)
            .map(|_| {
                let ev = ev.clone();
                let ctx = data(json!({"spin": true})).with_cancel_token(token.clone());
                scope.spawn(move || ev.eval(&ctx))
            })
            .collect();
        // Wait until both instances are busy.
        while ev.pool_stats().in_use < 2 {
            std::thread::sleep(Duration::from_millis(5));
        }
        match ev.eval(&data(json!({"name": "third"}))) {
            Err(Error::PoolExhausted { max_size: 2, .. }) => {}
            other => panic!("expected PoolExhausted, got {other:?}"),
        }
        token.cancel();
        for spinner in spinners {
            assert!(matches!(
                spinner.join().unwrap(),
                Err(Error::Cancelled { .. })
            ));
        }
    });
    let got = ev
        .eval(&data(json!({"name": "after"})))
        .unwrap()
        .into_value();
    assert_eq!(got["greeting"], "Hello, after!");
}

#[test]
fn a_plugin_that_timed_out_is_usable_for_the_next_eval() {
    let limits = Limits::default().with_timeout(Duration::from_millis(150));
    let ev = with_pool(
        ExtismEngine::with_entry_point("slow_greet"),
        limits,
        PoolConfig::default().with_max_size(1).with_min_idle(1),
    );
    for round in 0..3 {
        match ev.eval(&data(json!({"spin": true}))) {
            Err(Error::Timeout { .. }) => {}
            other => panic!("round {round}: expected Timeout, got {other:?}"),
        }
        let got = ev
            .eval(&data(json!({"name": "next"})))
            .unwrap()
            .into_value();
        assert_eq!(got["greeting"], "Hello, next!");
    }

    // The same instance object, driven directly, replaces its plugin.
    let engine = ev.engine_impl();
    let mut instance = ev.instantiate().unwrap();
    let token = CancelToken::new();
    let guard = || Guard::new(EngineKind::Extism, ev.script_id(), limits, None, &token);
    let spin = json!({"spin": true}).as_object().unwrap().clone();
    let greet = json!({"name": "same"}).as_object().unwrap().clone();
    assert!(matches!(
        engine.eval(&mut instance, ev.program(), &(&spin).into(), &guard()),
        Err(Error::Timeout { .. })
    ));
    let got = engine
        .eval(&mut instance, ev.program(), &(&greet).into(), &guard())
        .unwrap();
    assert_eq!(got["greeting"], "Hello, same!");
}

#[test]
fn stopping_one_instance_does_not_break_its_siblings() {
    // All instances of a module share one wasmtime engine whose epoch Extism
    // bumps to stop a plugin; the engine retries evals it did not stop.
    let ev = with_pool(
        ExtismEngine::with_entry_point("slow_greet"),
        Limits::default(),
        PoolConfig::default().with_max_size(4),
    );
    std::thread::scope(|scope| {
        let stopper = {
            let ev = ev.clone();
            scope.spawn(move || {
                for _ in 0..10 {
                    let ctx = data(json!({"spin": true})).with_timeout(Duration::from_millis(100));
                    assert!(matches!(ev.eval(&ctx), Err(Error::Timeout { .. })));
                }
            })
        };
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let ev = ev.clone();
                scope.spawn(move || {
                    for i in 0..200 {
                        let name = format!("w{t}-{i}");
                        let got = ev
                            .eval(&data(json!({ "name": name })))
                            .unwrap()
                            .into_value();
                        assert_eq!(got["greeting"], format!("Hello, {name}!"));
                    }
                })
            })
            .collect();
        stopper.join().unwrap();
        for w in workers {
            w.join().unwrap();
        }
    });
}

#[test]
fn stateful_keeps_state_across_evals_and_fresh_does_not() {
    let pool = PoolConfig::default().with_max_size(1).with_min_idle(1);
    let stateful = with_pool(
        ExtismEngine::builder()
            .entry_point("bump")
            .policy(InstancePolicy::Stateful)
            .build(),
        Limits::default(),
        pool,
    );
    let fresh = with_pool(
        ExtismEngine::with_entry_point("bump"),
        Limits::default(),
        pool,
    );
    let run = |ev: &Evaluator<ExtismEngine>| -> Vec<Value> {
        (0..3)
            .map(|_| ev.eval(&EvalContext::new()).unwrap().into_value())
            .collect()
    };
    assert_eq!(run(&stateful), vec![json!(0), json!(1), json!(2)]);
    assert_eq!(run(&fresh), vec![json!(0), json!(0), json!(0)]);
}

#[test]
fn a_missing_entry_point_is_found_at_compile_time() {
    let err = Evaluator::builder(
        ExtismEngine::with_entry_point("nope"),
        Source::from_bytes(PLUGIN),
    )
    .build()
    .unwrap_err();
    match &err {
        Error::EntryPointNotFound {
            entry_point,
            available,
            ..
        } => {
            assert_eq!(entry_point, "nope");
            assert!(available.iter().any(|e| e == "greet"), "{available:?}");
        }
        other => panic!("expected EntryPointNotFound, got {other:?}"),
    }
    let err = Evaluator::builder(ExtismEngine::new(), Source::from_bytes(b"garbage"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Compile { .. }), "{err:?}");
}
