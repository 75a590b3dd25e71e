//! Real-script workloads on Rhai (issue 17): scripts that grow one large
//! value step by step, where a memory limit that re-measures the value after
//! every change turns linear work quadratic. Each runs with the default
//! limits (`limits_on`: with the facade's accounting allocator, a per-eval
//! memory meter) and with none (`limits_off`); the ratio is the limits' cost.
//!
//! The scripts are this project's own equivalents of rhai's benchmark
//! scripts `scripts/for2.rhai` (a million `push`es, then a pass over the
//! list) and `scripts/strings_map.rhai` (hundreds of thousands of map
//! inserts with built string keys, then look-ups), plus string building in a
//! loop.

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use polyscript::{AnyEvaluator, EvalContext, Evaluator, Limits, RhaiEngine, Source};
use serde_json::{Value, json};

use crate::raw::Runner;

/// One workload: a script of size `n` and what it must return.
pub struct Workload {
    pub name: &'static str,
    pub script: String,
    pub expected: Value,
}

/// The workloads at `scale` (1: the sizes issue 17 measured; the paired
/// bench uses 10 for short rounds).
pub fn workloads(scale: u64) -> Vec<Workload> {
    let pushes = 1_000_000 / scale;
    let inserts = 200_000 / scale;
    let appends = 200_000 / scale;
    vec![
        // for2.rhai's shape: build a list of `pushes` integers, sum it.
        Workload {
            name: "pushes",
            script: format!(
                "let list = []; for i in 0..{pushes} {{ list.push(i); }} \
                 let sum = 0; for x in list {{ sum += x; }} sum"
            ),
            expected: json!(pushes * (pushes - 1) / 2),
        },
        // strings_map.rhai's shape: insert `inserts` built keys, look them
        // up again.
        Workload {
            name: "map_inserts",
            script: format!(
                r#"let m = #{{}}; for i in 0..{inserts} {{ m["key" + i] = i; }}
                   let hits = 0; for i in 0..{inserts} {{ if ("key" + i) in m {{ hits += 1; }} }} hits"#
            ),
            expected: json!(inserts),
        },
        // A report assembled line by line.
        Workload {
            name: "string_building",
            script: format!(
                r#"let s = ""; for i in 0..{appends} {{ s += "line " + i + "\n"; }} s.len()"#
            ),
            expected: json!(
                (0..appends)
                    .map(|i| 6 + i.to_string().len() as u64)
                    .sum::<u64>()
            ),
        },
    ]
}

/// A run-many evaluator of `workload` with `limits` (and a timeout long
/// enough for the workload, so that "limits on" measures the memory and
/// operation bounds rather than failing on the clock).
pub fn evaluator(workload: &Workload, limits: Limits) -> AnyEvaluator {
    let limits = match limits.timeout {
        Some(_) => limits.with_timeout(Duration::from_secs(60)),
        None => limits,
    };
    Evaluator::builder(RhaiEngine::new(), Source::from_text(&workload.script))
        .limits(limits)
        .build()
        .expect("the workload compiles")
        .into_any()
}

/// An eval of `workload` with `limits`, checked once, as a runner.
pub fn runner(workload: &Workload, limits: Limits) -> Runner {
    let ev = evaluator(workload, limits);
    let ctx = EvalContext::new();
    let mut run: Runner = Box::new(move || ev.eval(&ctx).expect("evals").into_value());
    assert_eq!(
        run(),
        workload.expected,
        "rhai workload {} returned a wrong answer",
        workload.name
    );
    run
}

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("rhai_workloads");
    // One eval takes a large fraction of a second: few samples.
    group.sample_size(10);
    for workload in workloads(1) {
        for (label, limits) in [
            ("limits_off", Limits::unlimited()),
            ("limits_on", Limits::default()),
        ] {
            let mut run = runner(&workload, limits);
            group.bench_function(format!("{}/{label}", workload.name), |b| {
                b.iter(|| black_box(run()))
            });
        }
    }
    group.finish();
}
