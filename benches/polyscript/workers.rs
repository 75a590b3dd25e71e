//! Benchmark threads that live for a whole benchmark: each owns a
//! [`Runner`] (built on the thread: a boa context cannot move between
//! threads) and runs it as many times as it is told. A measurement hands
//! every thread its share of the iterations and waits for all of them, so no
//! thread is started inside a measurement.

use std::hint::black_box;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::raw::Runner;
use crate::workload::check;

/// Threads that each own a runner and run it `n` times when sent `n`.
pub struct Workers {
    orders: Vec<Sender<u64>>,
    done: Receiver<()>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    pub fn spawn(threads: usize, make: impl Fn() -> Runner + Clone + Send + 'static) -> Workers {
        let (done_tx, done) = channel();
        let mut orders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..threads {
            let (order_tx, order_rx) = channel::<u64>();
            let done_tx = done_tx.clone();
            let make = make.clone();
            handles.push(std::thread::spawn(move || {
                let mut run = make();
                check("a bench thread", &run());
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
    pub fn run(&self, iters: u64) -> Duration {
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
