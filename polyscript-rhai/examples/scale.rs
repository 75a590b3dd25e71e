//! What a Rhai evaluator costs: compile, a new instance, a single execution,
//! a warm eval, and the memory and mappings of many evaluators of distinct
//! scripts held in one process.
//!
//! `cargo run --release -p polyscript-rhai --example scale [-- N...]`
//! (default counts 1 000 and 10 000). Linux only for the memory figures
//! (`/proc/self/statm`, `/proc/self/maps`); elsewhere they print as 0.

use std::hint::black_box;
use std::time::{Duration, Instant};

use polyscript_core::{Engine, EvalContext, Evaluator, Limits, Source};
use polyscript_rhai::RhaiEngine;
use serde_json::json;

/// The greeting workload the benchmarks use.
const GREETING: &str = r#"let g = "Hello, " + ctx.name + "!"; #{greeting: g, length: g.len()}"#;

/// A distinct script per tenant (`i` makes each one different).
fn tenant_script(i: usize) -> String {
    format!(r#"let g = "Hello, " + ctx.name + " #{i}"; #{{greeting: g, length: g.len() + {i}}}"#)
}

/// Resident bytes of this process.
fn rss_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

/// The page size (4 KiB where it cannot be read).
fn page_size() -> u64 {
    #[cfg(unix)]
    // SAFETY: sysconf has no preconditions.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    #[cfg(not(unix))]
    let page = 4096;
    page
}

/// (memory mappings, mapped address space in bytes) of this process.
fn mappings() -> (usize, u64) {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return (0, 0);
    };
    let mut count = 0;
    let mut bytes = 0;
    for line in maps.lines() {
        count += 1;
        let range = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = range.split_once('-') {
            let start = u64::from_str_radix(start, 16).unwrap_or(0);
            let end = u64::from_str_radix(end, 16).unwrap_or(0);
            bytes += end.saturating_sub(start);
        }
    }
    (count, bytes)
}

fn micros(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn main() -> polyscript_core::Result<()> {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![1_000, 10_000]
    } else {
        counts
    };
    let engine = RhaiEngine::new();
    let limits = Limits::default();
    let ctx = EvalContext::with_data(json!({"name": "World"}))?;

    // Warm up the process-wide parts (clock, shared modules) once.
    Evaluator::new(engine.clone(), Source::from_text(GREETING))?.eval(&ctx)?;

    let rounds = 300;
    let source = Source::from_text(GREETING);
    let started = Instant::now();
    for _ in 0..rounds {
        black_box(engine.compile(&source, &limits)?);
    }
    let compile = micros(started.elapsed(), rounds);

    let program = engine.compile(&source, &limits)?;
    let started = Instant::now();
    for _ in 0..rounds {
        black_box(engine.instantiate(&program, &limits)?);
    }
    let instance = micros(started.elapsed(), rounds);

    let started = Instant::now();
    for i in 0..rounds {
        // A fresh script each time, as a CLI or a rarely used rule has.
        let ev = Evaluator::new(engine.clone(), Source::from_text(tenant_script(i)))?;
        black_box(ev.eval(&ctx)?);
    }
    let single = micros(started.elapsed(), rounds);

    let warm = Evaluator::new(engine.clone(), Source::from_text(GREETING))?;
    let evals = 100_000;
    for _ in 0..1_000 {
        black_box(warm.eval(&ctx)?);
    }
    let started = Instant::now();
    for _ in 0..evals {
        black_box(warm.eval(&ctx)?);
    }
    let hot = micros(started.elapsed(), evals);

    println!("compile            {compile:>9.1} µs");
    println!("new instance       {instance:>9.1} µs");
    println!("single execution   {single:>9.1} µs  (compile + first eval, fresh script)");
    println!("warm eval          {hot:>9.3} µs  (greeting, {evals} evals)");

    for &n in &counts {
        let rss_before = rss_bytes();
        let (maps_before, space_before) = mappings();
        let started = Instant::now();
        let mut held = Vec::with_capacity(n);
        for i in 0..n {
            let ev = Evaluator::new(engine.clone(), Source::from_text(tenant_script(i)))?;
            ev.eval(&ctx)?;
            held.push(ev);
        }
        let build = micros(started.elapsed(), n);
        let rss = rss_bytes().saturating_sub(rss_before);
        let (maps, space) = mappings();
        let started = Instant::now();
        for ev in &held {
            black_box(ev.eval(&ctx)?);
        }
        let rotation = micros(started.elapsed(), n);
        println!(
            "{n:>6} evaluators: {:>7.1} KB RSS each, {:>8.1} µs each to build + first eval, \
             {rotation:>6.2} µs per eval in rotation, +{} mappings, +{:.1} GiB address space",
            rss as f64 / 1e3 / n as f64,
            build,
            maps.saturating_sub(maps_before),
            space.saturating_sub(space_before) as f64 / (1u64 << 30) as f64,
        );
        drop(held);
    }
    Ok(())
}
