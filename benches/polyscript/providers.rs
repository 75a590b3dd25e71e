//! Static vs context vs composite data providers, on two engines.

use std::hint::black_box;

use criterion::Criterion;
use polyscript::{
    CompositeProvider, ContextProvider, EvalContext, Evaluator, Source, StaticProvider,
};
use serde_json::json;

use crate::workload::{self, check};

fn run<E: polyscript::Engine>(c: &mut Criterion, name: &str, engine: fn() -> E, script: &str) {
    let mut group = c.benchmark_group(format!("providers/{name}"));
    let source = Source::from_text(script);

    let fixed = Evaluator::builder(engine(), source.clone())
        .provider(StaticProvider::new(workload::input()).expect("map"))
        .build()
        .expect("builds");
    let empty = EvalContext::new();
    check(name, fixed.eval(&empty).expect("evals").value());
    group.bench_function("static", |b| {
        b.iter(|| black_box(fixed.eval(&empty).expect("evals")))
    });

    let per_call = Evaluator::builder(engine(), source.clone())
        .provider(ContextProvider::new())
        .build()
        .expect("builds");
    let ctx = per_call
        .prepare(EvalContext::new(), workload::input())
        .expect("prepares");
    check(name, per_call.eval(&ctx).expect("evals").value());
    group.bench_function("context", |b| {
        b.iter(|| black_box(per_call.eval(&ctx).expect("evals")))
    });

    // Static config plus per-call data, deep-merged on every eval.
    let composite = Evaluator::builder(engine(), source)
        .provider(
            CompositeProvider::new()
                .with(
                    StaticProvider::new(json!({"config": {"timeout": 30}, "name": "default"}))
                        .expect("map"),
                )
                .with(ContextProvider::new()),
        )
        .build()
        .expect("builds");
    let ctx = composite
        .prepare(EvalContext::new(), workload::input())
        .expect("prepares");
    check(name, composite.eval(&ctx).expect("evals").value());
    group.bench_function("composite", |b| {
        b.iter(|| black_box(composite.eval(&ctx).expect("evals")))
    });
    group.finish();
}

pub fn bench(c: &mut Criterion) {
    run(c, "lua", polyscript::LuaEngine::new, workload::LUA);
    run(c, "rhai", polyscript::RhaiEngine::new, workload::RHAI);
}
