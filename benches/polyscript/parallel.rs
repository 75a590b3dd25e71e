//! One evaluator shared by 1 and by 2 threads: time per eval (lower is better;
//! throughput = 1 / time). With 2 threads the time per eval should halve.
//! The threads are the same long-lived bench threads the raw baselines use
//! (`workers.rs`), each calling `eval` on a clone of the one evaluator.

use criterion::Criterion;

use crate::engines::{cases, eval_runner};
use crate::workers::Workers;

pub fn bench(c: &mut Criterion) {
    for case in cases() {
        let ev = (case.build)(polyscript::Limits::default()).expect("builds");
        let make = move || eval_runner(ev.clone());
        let mut group = c.benchmark_group(format!("parallel/{}", case.name));
        for threads in [1usize, 2] {
            let workers = Workers::spawn(threads, make.clone());
            group.bench_function(format!("{threads}_threads"), |b| {
                b.iter_custom(|iters| workers.run(iters))
            });
        }
        group.finish();
    }
}
