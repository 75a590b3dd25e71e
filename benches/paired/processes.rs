//! Runs the comparisons in child processes and takes the median of their
//! ratios (see the crate docs for why).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// The flag that makes this binary measure in-process.
pub const CHILD: &str = "--child";
/// Marks the machine-readable line of each summary on a child's stdout.
pub const JSON_PREFIX: &str = "PAIRED-JSON ";
/// Processes per full run (odd, so the median is one of them).
pub const PROCESSES: usize = 3;

/// Every child's summaries, in order.
pub type Runs = Vec<Vec<Value>>;

/// Runs the comparisons matching `filters` in [`PROCESSES`] children (one
/// with `quick`), echoing their output.
pub fn run_children(filters: &[String], quick: bool) -> Runs {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let processes = if quick { 1 } else { PROCESSES };
    (1..=processes)
        .map(|run| {
            println!("-- process {run} of {processes}");
            let mut child = Command::new(&exe)
                // Measure what a service runs: with `RUST_BACKTRACE` set (as
                // it often is in a developer's shell) every wasmtime error
                // captures a std backtrace, and a WASI command that ends with
                // `proc_exit` returns through one on every eval (~90 000
                // instructions). `RUST_LIB_BACKTRACE=0` turns library
                // backtraces off and leaves panics' as they are.
                .env("RUST_LIB_BACKTRACE", "0")
                .arg(CHILD)
                .args(quick.then_some("--quick"))
                .args(filters)
                .stdout(Stdio::piped())
                .spawn()
                .expect("starts a measuring process");
            let stdout = child.stdout.take().expect("piped stdout");
            let mut summaries = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let line = line.expect("reads the child's output");
                match line.strip_prefix(JSON_PREFIX) {
                    Some(json) => summaries.push(serde_json::from_str(json).expect("valid JSON")),
                    None => println!("{line}"),
                }
            }
            let status = child.wait().expect("the measuring process ends");
            assert!(status.success(), "a measuring process failed: {status}");
            summaries
        })
        .collect()
}

/// The median of `values` (the middle one; the mean of the two middle ones
/// for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Each comparison's median over the runs, with the runs' spread.
fn summarise(runs: &Runs) -> Vec<Value> {
    let mut by_name: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for summary in runs.iter().flatten() {
        let key = (
            summary["engine"].as_str().unwrap_or_default().to_owned(),
            summary["what"].as_str().unwrap_or_default().to_owned(),
        );
        by_name.entry(key).or_default().push(summary);
    }
    by_name
        .into_iter()
        .map(|((engine, what), summaries)| {
            let field = |name: &str| -> Vec<f64> {
                summaries.iter().filter_map(|s| s[name].as_f64()).collect()
            };
            let ratios = field("ratio");
            let ratio = median(ratios.clone());
            let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let max = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            println!(
                "{:<42} ratio {:.3} (processes: {})",
                format!("{engine}/{what}"),
                ratio,
                ratios
                    .iter()
                    .map(|r| format!("{r:.3}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            json!({
                "engine": engine,
                "what": what,
                "ratio": ratio,
                "ratio_min": min,
                "ratio_max": max,
                "ratios": ratios,
                "a_ns": median(field("a_ns")),
                "b_ns": median(field("b_ns")),
            })
        })
        .collect()
}

/// Prints the medians and writes every run and the medians where
/// `benches/report.py` looks for them.
pub fn write(runs: &Runs) {
    println!("-- medians over the processes");
    let summary = summarise(runs);
    let path = std::env::var_os("POLYSCRIPT_PAIRED_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "target/criterion/paired.json".into());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("creates the output directory");
    }
    let json = serde_json::to_string_pretty(&json!({ "summary": summary, "runs": runs }))
        .expect("serializes");
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(json.as_bytes()))
        .expect("writes the output file");
    println!("wrote {}", path.display());
}
