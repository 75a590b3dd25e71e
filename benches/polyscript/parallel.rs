//! One evaluator shared by 1 and by 2 threads: time per eval (lower is better;
//! throughput = 1 / time). With 2 threads the time per eval should halve.

use std::time::{Duration, Instant};

use std::hint::black_box;

use criterion::Criterion;

use crate::engines::{cases, greeting_ctx};

pub fn bench(c: &mut Criterion) {
    for case in cases() {
        let ev = (case.build)(polyscript::Limits::default()).expect("builds");
        let mut group = c.benchmark_group(format!("parallel/{}", case.name));
        for threads in [1usize, 2] {
            group.bench_function(format!("{threads}_threads"), |b| {
                b.iter_custom(|iters| {
                    let per_thread = iters.div_ceil(threads as u64);
                    let start = Instant::now();
                    std::thread::scope(|scope| {
                        for _ in 0..threads {
                            let ev = ev.clone();
                            scope.spawn(move || {
                                let ctx = greeting_ctx();
                                for _ in 0..per_thread {
                                    black_box(ev.eval(&ctx).expect("evals"));
                                }
                            });
                        }
                    });
                    let elapsed: Duration = start.elapsed();
                    // Time per eval across all threads.
                    elapsed.mul_f64(iters as f64 / (per_thread * threads as u64) as f64)
                })
            });
        }
        group.finish();
    }
}
