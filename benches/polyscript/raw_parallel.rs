//! The raw engine APIs on 1 and 2 threads, each thread with its own engine
//! state (reported as `parallel/<engine>/raw_<n>_threads`): how far each
//! engine itself scales on this machine, the ceiling for polyscript's
//! `parallel/<engine>/<n>_threads`.
//!
//! The threads live for the whole benchmark (a boa context cannot move
//! between threads, and an Extism compile takes ~100 ms): each measurement
//! hands every thread its share of the iterations and waits for all of them.

use std::hint::black_box;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use criterion::Criterion;

use crate::raw::{Runner, runners};
use crate::workload::check;

/// Threads that each own a runner and run it `n` times when sent `n`.
struct Workers {
    orders: Vec<Sender<u64>>,
    done: Receiver<()>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    fn spawn(threads: usize, make: fn() -> Runner) -> Workers {
        let (done_tx, done) = channel();
        let mut orders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..threads {
            let (order_tx, order_rx) = channel::<u64>();
            let done_tx = done_tx.clone();
            handles.push(std::thread::spawn(move || {
                let mut run = make();
                check("raw parallel", &run());
                done_tx.send(()).expect("bench thread waits");
                for n in order_rx {
                    for _ in 0..n {
                        black_box(run());
                    }
                    done_tx.send(()).expect("bench thread waits");
                }
            }));
            orders.push(order_tx);
        }
        let workers = Workers {
            orders,
            done,
            handles,
        };
        workers.wait();
        workers
    }

    fn wait(&self) {
        for _ in 0..self.orders.len() {
            self.done.recv().expect("a worker finished");
        }
    }

    /// Time per eval across all threads for `iters` evals.
    fn run(&self, iters: u64) -> Duration {
        let threads = self.orders.len() as u64;
        let per_thread = iters.div_ceil(threads);
        let start = Instant::now();
        for order in &self.orders {
            order.send(per_thread).expect("worker alive");
        }
        self.wait();
        start
            .elapsed()
            .mul_f64(iters as f64 / (per_thread * threads) as f64)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.orders.clear();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

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
