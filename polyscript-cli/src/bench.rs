//! `polyscript bench`: single execution, then evals on N threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use polyscript::PoolConfig;

use crate::cli::BenchArgs;
use crate::engine_choice::WasmCompile;
use crate::failure::Failure;
use crate::{OK, Outcome, data_input, engine_choice};

pub(crate) fn bench(args: BenchArgs) -> Outcome {
    let script = &args.script;
    let threads = args.threads.max(1);
    let base_ctx = data_input::context(args.data.as_deref())?;

    // Single execution: compile + one eval, as a one-shot caller pays it.
    let single_start = Instant::now();
    let built = engine_choice::build(
        &script.file,
        script.engine,
        script.entry.as_deref(),
        script.limits(),
        PoolConfig::default().with_max_size(threads.max(2)),
        WasmCompile::from_arg(script.compiler, false),
    )?;
    let ctx = built.context(base_ctx);
    built
        .evaluator
        .eval(&ctx)
        .map_err(|e| Failure::of(e, &script.file))?;
    let single = single_start.elapsed();

    let warm_up = args.time / 10;
    let progress = ProgressBar::new((warm_up + args.time).as_millis() as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {elapsed}/{duration}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message("warming up");
    let measuring = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let began = Instant::now();
    let results: Vec<Result<Vec<Duration>, polyscript::Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (ctx, evaluator, measuring, stop) = (&ctx, &built.evaluator, &measuring, &stop);
                scope.spawn(move || {
                    let mut times = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        evaluator.eval(ctx)?;
                        if measuring.load(Ordering::Relaxed) {
                            times.push(t.elapsed());
                        }
                    }
                    Ok(times)
                })
            })
            .collect();
        while began.elapsed() < warm_up + args.time {
            if began.elapsed() >= warm_up && !measuring.swap(true, Ordering::Relaxed) {
                progress.set_message("measuring");
            }
            progress.set_position(began.elapsed().as_millis() as u64);
            std::thread::sleep(Duration::from_millis(50));
        }
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Ok(Vec::new())))
            .collect()
    });
    progress.finish_and_clear();
    let mut times = Vec::new();
    for result in results {
        times.extend(result.map_err(|e| Failure::of(e, &script.file))?);
    }
    times.sort_unstable();
    let count = times.len();
    let pick = |q: f64| {
        times
            .get(((count as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!("file:              {}", script.file.display());
    println!("engine:            {}", built.chosen.name());
    println!("threads:           {threads}");
    println!("single execution:  {single:?} (compile + one eval)");
    println!("evals measured:    {count} in {:?}", args.time);
    println!("per eval, median:  {:?}", pick(0.5));
    println!("per eval, p99:     {:?}", pick(0.99));
    println!(
        "throughput:        {:.0} evals/s",
        count as f64 / args.time.as_secs_f64()
    );
    Ok(OK)
}
