//! The raw engine APIs on 1 and 2 threads, each thread with its own engine
//! state (reported as `parallel/<engine>/raw_<n>_threads`): how far each
//! engine itself scales on this machine, the ceiling for polyscript's
//! `parallel/<engine>/<n>_threads`.
//!
//! The threads live for the whole benchmark (see `workers.rs`), as they do
//! for the polyscript figures.

use criterion::Criterion;

use crate::raw::runners;
use crate::workers::Workers;

pub fn bench(c: &mut Criterion) {
    for case in runners() {
        let mut group = c.benchmark_group(format!("parallel/{}", case.engine));
        for threads in [1usize, 2] {
            let workers = Workers::spawn(threads, case.make);
            group.bench_function(format!("raw_{threads}_threads"), |b| {
                b.iter_custom(|iters| workers.run(iters))
            });
        }
        group.finish();
    }
}
