//! Criterion benchmarks of polyscript on go-polyscript's greeting workload
//! (`{"name": "World"}` → `{"greeting": "Hello, World!", "length": 13}`).
//!
//! Groups (see BENCHMARKS.md for the results and how to read them):
//! `eval/<engine>`: single execution vs compile-once-run-many, limits on/off,
//! and the raw engine API baseline (measured right after `run_many`); `eval/overhead` (polyscript's own fixed
//! cost per eval, with an engine that does nothing); `instantiate`, `compile`; `providers`;
//! `parallel/<engine>` (1 vs 2 threads, polyscript and the raw API); `coordinate` (map-reduce workers);
//! `rhai_workloads` (real Rhai scripts that grow one large value, limits on vs off);
//! `host_call/<engine>` (1000 host calls per eval: polyscript's host functions vs the engine's own API);
//! `async_eval/<engine>` (`eval_async` awaited on tokio current-thread and multi-thread runtimes vs `eval`).
//!
//! `cargo bench` runs everything; `cargo bench -- --quick` is a fast pass;
//! `POLYSCRIPT_BENCH_FAST=1` shortens measurement for smoke runs.

mod async_eval;
mod coordinate;
mod engines;
mod host_calls;
mod overhead;
mod parallel;
mod providers;
mod raw;
mod raw_parallel;
mod rhai_workloads;
mod workers;
mod workload;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn config() -> Criterion {
    let fast = std::env::var_os("POLYSCRIPT_BENCH_FAST").is_some();
    Criterion::default()
        .warm_up_time(Duration::from_millis(if fast { 200 } else { 1000 }))
        .measurement_time(Duration::from_millis(if fast { 500 } else { 3000 }))
        .sample_size(if fast { 10 } else { 40 })
}

criterion_group! {
    name = benches;
    config = config();
    targets = engines::bench, async_eval::bench, overhead::bench, providers::bench, parallel::bench, raw_parallel::bench, coordinate::bench, rhai_workloads::bench, host_calls::bench
}
criterion_main!(benches);
