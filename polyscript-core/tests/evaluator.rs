//! The generic evaluator over the toy engine: compile once, pools, providers,
//! panics, limits, type erasure.
#![cfg(feature = "testkit")]

#[allow(dead_code)] // the harness half of the toy engine is used by tests/testkit.rs
mod toy;

use std::sync::Arc;
use std::time::Duration;

use polyscript_core::{
    AnyEvaluator, ContextProvider, EngineKind, Error, EvalContext, Evaluator, Limits, PoolConfig,
    Source, StaticProvider,
};
use serde::Deserialize;
use serde_json::json;
use toy::{Flaw, Toy};

fn toy(script: &str) -> Evaluator<Toy> {
    Evaluator::new(Toy::new(Flaw::None), Source::from_text(script)).unwrap()
}

#[test]
fn evaluates_with_per_call_data_and_reports_metadata() {
    let ev = toy("greeting");
    let ctx = EvalContext::with_data(json!({"name": "World"})).unwrap();
    let r = ev.eval(&ctx).unwrap();
    assert_eq!(
        r.value(),
        &json!({"greeting": "Hello, World!", "length": 13})
    );
    assert_eq!(r.script_id(), Source::from_text("greeting").id());
    assert_eq!(r.engine(), EngineKind::Other("toy"));
    #[derive(Deserialize)]
    struct G {
        greeting: String,
    }
    assert_eq!(r.deserialize::<G>().unwrap().greeting, "Hello, World!");
}

#[test]
fn compile_errors_surface_when_building() {
    let err = Evaluator::new(Toy::new(Flaw::None), Source::from_text("a\nb !!")).unwrap_err();
    assert_eq!(err.location().map(|l| l.line), Some(2));
}

#[test]
fn static_data_merges_under_per_call_data_and_prepare_adds_more() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("echo"))
        .static_data(json!({"value": {"app": "v1", "env": "prod"}}))
        .build()
        .unwrap();
    let ctx = ev
        .prepare(EvalContext::new(), json!({"value": {"env": "staging"}}))
        .unwrap();
    assert_eq!(
        ev.eval(&ctx).unwrap().into_value(),
        json!({"app": "v1", "env": "staging"})
    );
    // Without per-call data the static data alone is used.
    assert_eq!(
        ev.eval(&EvalContext::new()).unwrap().into_value(),
        json!({"app": "v1", "env": "prod"})
    );
}

#[test]
fn a_static_only_evaluator_refuses_prepare() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("echo"))
        .provider(StaticProvider::new(json!({"value": 1})).unwrap())
        .build()
        .unwrap();
    assert!(matches!(
        ev.prepare(EvalContext::new(), json!({"x": 1})),
        Err(Error::InvalidData { .. })
    ));
}

#[test]
fn prepare_rejects_empty_keys_and_non_maps() {
    let ev = toy("echo");
    assert!(
        ev.prepare(EvalContext::new(), json!({"a": {"": 1}}))
            .is_err()
    );
    assert!(ev.prepare(EvalContext::new(), json!(3)).is_err());
}

#[test]
fn a_custom_context_key_is_honoured() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("echo"))
        .provider(ContextProvider::with_key("request").unwrap())
        .build()
        .unwrap();
    let ctx = ev.prepare(EvalContext::new(), json!({"value": 5})).unwrap();
    assert!(ctx.data().is_none());
    assert_eq!(ev.eval(&ctx).unwrap().into_value(), json!(5));
}

#[test]
fn an_engine_panic_becomes_an_error_and_the_instance_is_discarded() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("panic"))
        .pool(PoolConfig::default().with_max_size(1))
        .build()
        .unwrap();
    let err = ev.eval(&EvalContext::new()).unwrap_err();
    assert!(matches!(err, Error::EnginePanic { .. }), "{err}");
    assert!(err.to_string().contains("toy engine panicked"));
    assert_eq!(ev.pool_stats().discarded, 1);
    // The evaluator still works with a fresh instance.
    assert!(matches!(
        ev.eval(&EvalContext::new()),
        Err(Error::EnginePanic { .. })
    ));
    assert_eq!(ev.pool_stats().discarded, 2);
}

#[test]
fn fatal_errors_discard_instances_and_plain_runtime_errors_do_not() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("fail"))
        .pool(PoolConfig::default().with_max_size(1))
        .build()
        .unwrap();
    assert!(ev.eval(&EvalContext::new()).is_err());
    assert_eq!(ev.pool_stats().discarded, 0);

    let spin = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("spin"))
        .limits(Limits::default().with_timeout(Duration::from_millis(20)))
        .pool(PoolConfig::default().with_max_size(1))
        .build()
        .unwrap();
    assert!(matches!(
        spin.eval(&EvalContext::new()),
        Err(Error::Timeout { .. })
    ));
    assert_eq!(spin.pool_stats().discarded, 1);
}

#[test]
fn per_call_limits_override_the_evaluators() {
    let ev = toy("spin");
    let ctx = EvalContext::new().with_limits(Limits::unlimited().with_operations(10));
    assert!(matches!(ev.eval(&ctx), Err(Error::LimitExceeded { .. })));
}

#[test]
fn an_already_cancelled_context_does_not_run() {
    let ev = toy("greeting");
    let ctx = EvalContext::new();
    ctx.cancel_token().cancel();
    assert!(matches!(ev.eval(&ctx), Err(Error::Cancelled { .. })));
}

#[test]
fn instantiate_makes_an_instance_outside_the_pool() {
    let ev = toy("greeting");
    let before = ev.pool_stats();
    let instance = ev.instantiate().unwrap();
    assert_eq!(instance.evals, 0);
    assert_eq!(ev.program(), "greeting");
    assert_eq!(ev.pool_stats(), before);
}

#[test]
fn instances_are_reused_not_recreated() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("greeting"))
        .pool(PoolConfig::default().with_max_size(1))
        .build()
        .unwrap();
    for _ in 0..10 {
        ev.eval(&EvalContext::new()).unwrap();
    }
    assert_eq!(ev.pool_stats().created, 1);
    assert_eq!(ev.pool().with_instance(|i| i.evals).unwrap(), 10);
}

#[test]
fn any_evaluator_is_send_sync_clone_and_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<AnyEvaluator>();
    assert_send_sync::<Evaluator<Toy>>();
    let ev: AnyEvaluator = toy("greeting").into();
    let ev = Arc::new(ev);
    std::thread::scope(|s| {
        for t in 0..4 {
            let ev = Arc::clone(&ev);
            s.spawn(move || {
                for i in 0..100 {
                    let name = format!("{t}-{i}");
                    let ctx = EvalContext::with_data(json!({"name": name})).unwrap();
                    let v = ev.eval(&ctx).unwrap().into_value();
                    assert_eq!(v["greeting"], json!(format!("Hello, {name}!")));
                }
            });
        }
    });
    assert_eq!(ev.engine(), EngineKind::Other("toy"));
}

#[test]
fn a_busy_pool_reports_exhaustion() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("greeting"))
        .pool(
            PoolConfig::default()
                .with_max_size(1)
                .with_acquire_timeout(Duration::from_millis(30)),
        )
        .build()
        .unwrap();
    let _held = ev.pool().acquire().unwrap();
    assert!(matches!(
        ev.eval(&EvalContext::new()),
        Err(Error::PoolExhausted { .. })
    ));
}

#[test]
fn an_entry_point_is_refused_by_an_engine_without_entry_points() {
    let ev = toy("greeting");
    let ctx = EvalContext::new().with_entry_point("other");
    let err = ev.eval(&ctx).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("`other`"), "{err}");
}

#[test]
fn an_acquire_timeout_of_duration_max_waits_instead_of_panicking() {
    let ev = Evaluator::builder(Toy::new(Flaw::None), Source::from_text("greeting"))
        .limits(Limits::unlimited())
        .pool(
            PoolConfig::default()
                .with_max_size(1)
                .with_acquire_timeout(Duration::MAX),
        )
        .build()
        .unwrap();
    let held = ev.pool().acquire().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| ev.eval(&EvalContext::new()));
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        assert!(waiter.join().unwrap().is_ok());
    });
}
