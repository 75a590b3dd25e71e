//! Paired, interleaved measurements of the ratios the benchmark targets are
//! stated in (see BENCHMARKS.md): polyscript run-many ÷ the raw engine API,
//! limits on ÷ off, and 2-thread ÷ 1-thread throughput, for polyscript and
//! for the raw APIs; and limits on ÷ off for the real-script Rhai workloads
//! (`rhai/<workload>_limits_on_over_off`, at a tenth of the criterion
//! bench's sizes so that a round stays short).
//!
//! # Why this exists next to the criterion bench
//!
//! criterion measures one bench, then the next: the two halves of a ratio
//! are taken seconds apart, and this VM's speed drifts by ±5–10% over
//! seconds. That drift is as large as the margins the targets leave, so a
//! ratio of two criterion medians moves by a tenth between runs of the same
//! code. Here the two sides of a ratio alternate in short batches (a few
//! milliseconds each, order swapped every round), every round gives one
//! ratio, and the median of those ratios is reported with its quartiles:
//! drift hits both sides of each round alike and cancels.
//!
//! Run with `cargo bench --bench paired` (all cases) or
//! `cargo bench --bench paired -- rhai` (cases whose name contains `rhai`);
//! `--quick` takes fewer rounds in one process.
//!
//! Each full run measures everything in [`processes::PROCESSES`] separate
//! processes and reports the median of their ratios: within one process the
//! ratios are tight (quartiles within ±2%), but between processes the same
//! code moves by up to ±4% (the heap and code land at other addresses). The
//! results go to stdout and, as JSON, to `target/criterion/paired.json` (or
//! `$POLYSCRIPT_PAIRED_OUT`), which `benches/report.py` reads.

#[allow(dead_code)] // shared with the criterion bench; only the cases are used here
#[path = "../polyscript/engines.rs"]
mod engines;
#[allow(dead_code)] // shared with the criterion bench; only the runners are used here
#[path = "../polyscript/raw.rs"]
mod raw;
#[allow(dead_code)] // shared with the criterion bench; only the workloads are used here
#[path = "../polyscript/rhai_workloads.rs"]
mod rhai_workloads;
#[path = "../polyscript/workers.rs"]
mod workers;
#[path = "../polyscript/workload.rs"]
mod workload;

mod measure;
mod processes;

use polyscript::{AnyEvaluator, Limits};

use crate::engines::{cases, eval_runner};
use crate::measure::{Comparison, Side};
use crate::raw::{Runner, runners};
use crate::workers::Workers;

/// A run-many evaluator of the polyscript case `engine` with `limits`.
fn evaluator(engine: &str, limits: Limits) -> AnyEvaluator {
    let case = cases()
        .into_iter()
        .find(|case| case.name == engine)
        .expect("a polyscript case for every raw case");
    (case.build)(limits).expect("builds")
}

/// A polyscript evaluator of `engine` with `limits`, as a runner.
fn polyscript_runner(engine: &str, limits: Limits) -> Runner {
    eval_runner(evaluator(engine, limits))
}

/// A side that runs `runner` on the bench thread.
fn on_this_thread(mut runner: Runner) -> Side {
    workload::check("a paired side", &runner());
    Box::new(move |iters| {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            std::hint::black_box(runner());
        }
        start.elapsed()
    })
}

/// A side that runs an already checked `runner` on the bench thread.
fn checked_on_this_thread(mut runner: Runner) -> Side {
    Box::new(move |iters| {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            std::hint::black_box(runner());
        }
        start.elapsed()
    })
}

/// Limits on ÷ off for each Rhai workload.
fn rhai_workload_comparisons() -> Vec<Comparison> {
    const SCALE: u64 = 10;
    let names = ["pushes", "map_inserts", "string_building"];
    let whats = [
        "pushes_limits_on_over_off",
        "map_inserts_limits_on_over_off",
        "string_building_limits_on_over_off",
    ];
    names
        .into_iter()
        .zip(whats)
        .map(|(name, what)| {
            let side = move |limits: Limits| -> Box<dyn FnOnce() -> Side> {
                Box::new(move || {
                    let workload = rhai_workloads::workloads(SCALE)
                        .into_iter()
                        .find(|w| w.name == name)
                        .expect("a workload of that name");
                    checked_on_this_thread(rhai_workloads::runner(&workload, limits))
                })
            };
            Comparison::new(
                "rhai",
                what,
                side(Limits::default()),
                side(Limits::unlimited()),
            )
        })
        .collect()
}

/// `eval_async` awaited on a current-thread tokio runtime ÷ `eval` (both
/// with a context cloned per eval), and,
/// with the `live` feature, a live evaluator's eval ÷ a plain one's (one
/// atomic load more), for the Lua and Rhai greetings.
fn async_and_live_comparisons() -> Vec<Comparison> {
    let mut all = Vec::new();
    for engine in ["lua", "rhai"] {
        all.push(Comparison::new(
            engine,
            "eval_async_over_eval",
            Box::new(move || {
                let ev = evaluator(engine, Limits::default());
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a runtime");
                let ctx = engines::greeting_ctx();
                on_this_thread(Box::new(move || {
                    runtime
                        .block_on(ev.eval_async(ctx.clone()))
                        .expect("evals")
                        .into_value()
                }))
            }),
            // `eval` with a context of its own per eval too, as a service
            // builds one per request: `eval_async` takes the context by
            // value, and what is measured is what the async path adds.
            Box::new(move || {
                let ev = evaluator(engine, Limits::default());
                let ctx = engines::greeting_ctx();
                on_this_thread(Box::new(move || {
                    ev.eval(&ctx.clone()).expect("evals").into_value()
                }))
            }),
        ));
        #[cfg(feature = "live")]
        all.push(Comparison::new(
            engine,
            "live_over_plain",
            Box::new(move || {
                let live = polyscript::live::LiveEvaluator::builder(move |source| {
                    Ok(match engine {
                        "lua" => polyscript::Evaluator::new(polyscript::LuaEngine::new(), source)?
                            .into_any(),
                        _ => polyscript::Evaluator::new(polyscript::RhaiEngine::new(), source)?
                            .into_any(),
                    })
                })
                .source(polyscript::Source::from_text(match engine {
                    "lua" => workload::LUA,
                    _ => workload::RHAI,
                }))
                .build()
                .expect("compiles");
                // The live evaluator itself must outlive its runner.
                let ev = live.evaluator();
                let runner = eval_runner(ev);
                let mut runner = Some((live, runner));
                on_this_thread(Box::new(move || {
                    let (_, runner) = runner.as_mut().expect("present");
                    runner()
                }))
            }),
            Box::new(move || on_this_thread(polyscript_runner(engine, Limits::default()))),
        ));
    }
    all
}

/// A side that splits its evals over `threads` long-lived threads.
fn on_threads(threads: usize, make: impl Fn() -> Runner + Clone + Send + 'static) -> Side {
    let workers = Workers::spawn(threads, make);
    Box::new(move |iters| workers.run(iters))
}

/// Every comparison, named `<engine>/<what>`.
fn comparisons() -> Vec<Comparison> {
    let mut all = Vec::new();
    for raw_case in runners() {
        let engine = raw_case.engine;
        let make_raw = raw_case.make;
        all.push(Comparison::new(
            engine,
            "run_many_over_raw",
            Box::new(move || on_this_thread(polyscript_runner(engine, Limits::default()))),
            Box::new(move || on_this_thread(make_raw())),
        ));
        if engine == "js" {
            all.push(Comparison::new(
                engine,
                "run_many_over_raw_script",
                Box::new(move || on_this_thread(polyscript_runner(engine, Limits::default()))),
                Box::new(|| on_this_thread(raw::js_script_runner())),
            ));
        }
        all.push(Comparison::new(
            engine,
            "limits_on_over_off",
            Box::new(move || on_this_thread(polyscript_runner(engine, Limits::default()))),
            Box::new(move || on_this_thread(polyscript_runner(engine, Limits::unlimited()))),
        ));
        // Scaling is time per eval on 1 thread over time per eval on 2, so
        // the first side is the 1-thread one.
        all.push(Comparison::new_pair(
            engine,
            "two_thread_scaling",
            Box::new(move || {
                // One evaluator shared by both sides, as in `parallel/<engine>`.
                let ev = evaluator(engine, Limits::default());
                let make = move || eval_runner(ev.clone());
                (on_threads(1, make.clone()), on_threads(2, make))
            }),
        ));
        all.push(Comparison::new_pair(
            engine,
            "raw_two_thread_scaling",
            Box::new(move || (on_threads(1, make_raw), on_threads(2, make_raw))),
        ));
    }
    all.extend(rhai_workload_comparisons());
    all.extend(async_and_live_comparisons());
    all
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    // cargo passes `--bench`; anything else not starting with `-` filters.
    let filters: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    if args.iter().any(|a| a == processes::CHILD) {
        let rounds = if quick { 20 } else { 120 };
        run_here(&filters, rounds);
    } else {
        let runs = processes::run_children(&filters, quick);
        processes::write(&runs);
    }
}

/// Runs every comparison matching `filters` in this process, printing each
/// summary for people and as a JSON line for the parent process.
fn run_here(filters: &[String], rounds: usize) {
    for comparison in comparisons() {
        if !filters.is_empty()
            && !filters
                .iter()
                .any(|f| comparison.name().contains(f.as_str()))
        {
            continue;
        }
        let summary = comparison.run(rounds);
        println!("{summary}");
        println!("{}{}", processes::JSON_PREFIX, summary.to_json());
    }
}
