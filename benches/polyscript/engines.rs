//! Per engine: single execution vs run-many, limits on vs off, compile time,
//! instance creation, and taking an instance from the pool.

use std::hint::black_box;

use criterion::Criterion;
use polyscript::{
    AnyEvaluator, Engine, EvalContext, Evaluator, ExtismEngine, InstancePolicy, Limits, PoolConfig,
    Source,
};

use crate::raw::Runner;
use crate::workload::{self, check};

/// Everything the engine benches need to know about one engine.
pub struct Case {
    pub name: &'static str,
    /// The facade's one-shot constructor with the data given at creation.
    pub one_shot: Box<dyn Fn() -> polyscript::Result<AnyEvaluator>>,
    /// A run-many evaluator with the given limits.
    pub build: Box<dyn Fn(Limits) -> polyscript::Result<AnyEvaluator>>,
    /// Compile only (no instance).
    pub compile: Box<dyn Fn()>,
    /// Create one new instance from the compiled program.
    pub instantiate: Box<dyn Fn()>,
    /// Take an idle instance from the evaluator's pool and give it back.
    pub acquire: Box<dyn Fn()>,
}

/// A case for engine `E` whose scripts are `source`.
pub fn case<E: Engine>(
    name: &'static str,
    engine: fn() -> E,
    source: Source,
    one_shot: fn() -> polyscript::Result<AnyEvaluator>,
) -> Case {
    let for_build = source.clone();
    let for_compile = source.clone();
    let typed = Evaluator::new(engine(), source).expect("benchmark script compiles");
    let pooled = typed.clone();
    Case {
        name,
        one_shot: Box::new(one_shot),
        build: Box::new(move |limits| {
            Ok(Evaluator::builder(engine(), for_build.clone())
                .limits(limits)
                .build()?
                .into_any())
        }),
        compile: Box::new(move || {
            let ev = Evaluator::builder(engine(), for_compile.clone())
                .pool(PoolConfig::default().with_min_idle(0))
                .build()
                .expect("compiles");
            black_box(ev);
        }),
        instantiate: Box::new(move || {
            black_box(typed.instantiate().expect("instantiates"));
        }),
        acquire: Box::new(move || {
            pooled
                .pool()
                .with_instance(|instance| {
                    black_box(instance);
                })
                .expect("an idle instance");
        }),
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "rhai",
            polyscript::RhaiEngine::new,
            Source::from_text(workload::RHAI),
            || polyscript::from_rhai_str_with_data(workload::RHAI, workload::input()),
        ),
        case(
            "lua",
            polyscript::LuaEngine::new,
            Source::from_text(workload::LUA),
            || polyscript::from_lua_str_with_data(workload::LUA, workload::input()),
        ),
        case(
            "js",
            polyscript::JsEngine::new,
            Source::from_text(workload::JS),
            || polyscript::from_js_str_with_data(workload::JS, workload::input()),
        ),
        // Extism's default policy: a fresh plugin instance per eval.
        case(
            "extism",
            || ExtismEngine::with_entry_point(workload::EXTISM_ENTRY),
            Source::from_bytes(workload::EXTISM_WASM),
            || {
                polyscript::from_extism_bytes_with_data(
                    workload::EXTISM_WASM,
                    workload::EXTISM_ENTRY,
                    workload::input(),
                )
            },
        ),
        // Pooled instances that keep their state: what a raw reused plugin does.
        case(
            "extism_stateful",
            || {
                ExtismEngine::builder()
                    .entry_point(workload::EXTISM_ENTRY)
                    .policy(InstancePolicy::Stateful)
                    .build()
            },
            Source::from_bytes(workload::EXTISM_WASM),
            || {
                Ok(Evaluator::builder(
                    ExtismEngine::builder()
                        .entry_point(workload::EXTISM_ENTRY)
                        .policy(InstancePolicy::Stateful)
                        .build(),
                    Source::from_bytes(workload::EXTISM_WASM),
                )
                .static_data(workload::input())
                .build()?
                .into_any())
            },
        ),
        case(
            "wasi",
            polyscript::WasiEngine::new,
            Source::from_bytes(workload::WASI_WASM),
            || polyscript::from_wasi_bytes_with_data(workload::WASI_WASM, workload::input()),
        ),
    ]
}

pub fn greeting_ctx() -> EvalContext {
    EvalContext::with_data(workload::input()).expect("valid data")
}

/// An eval of the greeting through `ev` (a clone of a shared evaluator, or
/// the only one), as a runner the raw baselines' harness can drive.
pub fn eval_runner(ev: AnyEvaluator) -> Runner {
    let ctx = greeting_ctx();
    Box::new(move || ev.eval(&ctx).expect("evals").into_value())
}

pub fn bench(c: &mut Criterion) {
    for case in cases() {
        let mut group = c.benchmark_group(format!("eval/{}", case.name));
        group.bench_function("single_execution", |b| {
            b.iter(|| {
                let ev = (case.one_shot)().expect("builds");
                let out = ev.eval(&EvalContext::new()).expect("evals");
                black_box(out);
            })
        });
        // `run_many` last, right before the raw baseline it is compared with.
        for (label, limits) in [
            ("limits_off", Limits::unlimited()),
            ("run_many", Limits::default()),
        ] {
            let ev = (case.build)(limits).expect("builds");
            let ctx = greeting_ctx();
            check(case.name, ev.eval(&ctx).expect("evals").value());
            group.bench_function(label, |b| {
                b.iter(|| black_box(ev.eval(&ctx).expect("evals")))
            });
        }
        group.finish();
        crate::raw::bench_engine(c, case.name);

        let mut group = c.benchmark_group("compile");
        group.bench_function(case.name, |b| b.iter(|| (case.compile)()));
        group.finish();

        let mut group = c.benchmark_group("instantiate");
        group.bench_function(case.name, |b| b.iter(|| (case.instantiate)()));
        group.finish();

        let mut group = c.benchmark_group("acquire");
        group.bench_function(case.name, |b| b.iter(|| (case.acquire)()));
        group.finish();
    }
}
