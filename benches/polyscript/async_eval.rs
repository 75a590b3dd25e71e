//! `eval_async` against `eval` on the greeting, for every engine: one eval
//! at a time, awaited on a tokio current-thread runtime and on a 2-worker
//! multi-thread runtime, next to the plain synchronous `eval`. What the
//! difference measures is the hand-off to polyscript's eval threads and the
//! wake-up of the awaiting task (see BENCHMARKS.md, "Async").

use std::hint::black_box;

use criterion::Criterion;
use polyscript::Limits;

use crate::engines::{cases, greeting_ctx};
use crate::workload::check;

pub fn bench(c: &mut Criterion) {
    for case in cases() {
        let engine = case.name;
        let ev = (case.build)(Limits::default()).expect("builds");
        let ctx = greeting_ctx();
        let mut group = c.benchmark_group(format!("async_eval/{engine}"));
        group.bench_function("eval", |b| {
            // A context per eval, as `eval_async` (which takes it by value)
            // needs: what is compared is what the async path adds.
            b.iter(|| black_box(ev.eval(&ctx.clone()).expect("evals")))
        });
        let runtimes = [
            (
                "eval_async_current_thread",
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a runtime"),
            ),
            (
                "eval_async_multi_thread",
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .expect("a runtime"),
            ),
        ];
        for (name, runtime) in runtimes {
            let once = runtime.block_on(ev.eval_async(ctx.clone())).expect("evals");
            check(&format!("async {engine}"), once.value());
            group.bench_function(name, |b| {
                b.iter(|| black_box(runtime.block_on(ev.eval_async(ctx.clone())).expect("evals")))
            });
        }
        group.finish();
    }
}
