//! Many evaluators together, across engines:
//!
//! 1. a pipeline Lua → WASM (Extism) → JS over one record,
//! 2. a broadcast of one input to every engine,
//! 3. a map-reduce counting vowels in 10 000 strings over a WASM pool,
//!    with 1 and with 2 workers.
//!
//! Run with `cargo run --example coordinate`.

use std::time::{Duration, Instant};

use polyscript::{AnyEvaluator, Coordinator, EvalContext, Map, Stage, Value};
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");
const WASI_GREET: &[u8] = include_bytes!("../polyscript-wasm/guests/wasi/build/scripts.wasm");

fn script(name: &str) -> String {
    format!("{}/examples/coordinate/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// What the example computes (and prints).
#[derive(Debug)]
struct Report {
    pipeline: Value,
    broadcast: Vec<(String, Result<Value, String>)>,
    vowels_one_worker: (u64, Duration),
    vowels_two_workers: (u64, Duration),
}

fn pipeline() -> polyscript::Result<Value> {
    let stages = [
        Stage::new(polyscript::from_lua_file(script("normalize.lua"))?),
        Stage::new(polyscript::from_extism_bytes(PLUGIN, "count_vowels")?),
        Stage::new(polyscript::from_js_file(script("summarize.js"))?),
    ];
    let record = json!({"name": "  Ada Lovelace ", "tags": ["engines", "poetry"]});
    let input: Map = record.as_object().cloned().unwrap_or_default();
    let out = Coordinator::new().pipeline(&stages, &EvalContext::new(), input)?;
    Ok(out.value().clone())
}

fn greeters() -> polyscript::Result<Vec<AnyEvaluator>> {
    Ok(vec![
        polyscript::from_rhai_str(
            r#"let g = "Hello, " + ctx.name + "!"; #{ greeting: g, length: g.len() }"#,
        )?,
        polyscript::from_lua_str(
            r#"local g = "Hello, " .. ctx.name .. "!" return { greeting = g, length = #g }"#,
        )?,
        polyscript::from_js_str(
            r#"const g = "Hello, " + ctx.name + "!"; ({ greeting: g, length: g.length })"#,
        )?,
        polyscript::from_extism_bytes(PLUGIN, "greet")?,
        polyscript::from_wasi_bytes(WASI_GREET)?,
    ])
}

fn broadcast() -> polyscript::Result<Vec<(String, Result<Value, String>)>> {
    let evaluators = greeters()?;
    let ctx = EvalContext::with_data(json!({"name": "World"}))?;
    let results = Coordinator::new().broadcast(&evaluators, &ctx);
    Ok(evaluators
        .iter()
        .zip(results)
        .map(|(ev, result)| {
            (
                ev.engine().to_string(),
                result.map(|r| r.into_value()).map_err(|e| e.to_string()),
            )
        })
        .collect())
}

/// 10 000 strings; the same every run.
fn strings() -> Vec<Value> {
    (0..10_000)
        .map(|i| Value::String(format!("item {i}: polyscript counts vowels in parallel")))
        .collect()
}

fn count_vowels_with(workers: usize, items: &[Value]) -> polyscript::Result<(u64, Duration)> {
    let counter = polyscript::from_extism_bytes(PLUGIN, "count_vowels_batch")?;
    let start = Instant::now();
    let total = Coordinator::with_workers(workers).map_reduce(
        &counter,
        &EvalContext::new(),
        items,
        500,
        0u64,
        |acc, chunk| Ok(acc + chunk["count"].as_u64().unwrap_or(0)),
    )?;
    Ok((total, start.elapsed()))
}

fn run() -> polyscript::Result<Report> {
    let items = strings();
    Ok(Report {
        pipeline: pipeline()?,
        broadcast: broadcast()?,
        vowels_one_worker: count_vowels_with(1, &items)?,
        vowels_two_workers: count_vowels_with(2, &items)?,
    })
}

fn main() {
    match run() {
        Ok(report) => {
            println!("pipeline Lua → WASM → JS: {}", report.pipeline);
            println!("broadcast {{\"name\": \"World\"}} to every engine:");
            for (engine, result) in &report.broadcast {
                match result {
                    Ok(value) => println!("  {engine:>6}: {value}"),
                    Err(error) => println!("  {engine:>6}: error: {error}"),
                }
            }
            let (total, one) = report.vowels_one_worker;
            let (_, two) = report.vowels_two_workers;
            println!("map-reduce over 10 000 strings (WASM pool): {total} vowels");
            println!("  1 worker:  {one:?}");
            println!("  2 workers: {two:?}");
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_runs_lua_then_wasm_then_js() {
        let out = pipeline().unwrap();
        // "Ada Lovelace likes engines and poetry" has 14 vowels.
        assert_eq!(out["count"], json!(14));
        assert_eq!(
            out["summary"],
            json!("\"Ada Lovelace likes engines and poetry\" has 14 vowels")
        );
    }

    #[test]
    fn broadcast_greets_from_every_engine() {
        let results = broadcast().unwrap();
        assert_eq!(results.len(), 5);
        for (engine, result) in results {
            assert_eq!(
                result.unwrap(),
                json!({"greeting": "Hello, World!", "length": 13}),
                "{engine}"
            );
        }
    }

    #[test]
    fn map_reduce_matches_a_sequential_count() {
        let items: Vec<Value> = strings().into_iter().take(1_200).collect();
        let expected: u64 = items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.chars().filter(|c| "aeiouAEIOU".contains(*c)).count() as u64)
            .sum();
        assert_eq!(count_vowels_with(2, &items).unwrap().0, expected);
        assert_eq!(count_vowels_with(1, &items).unwrap().0, expected);
    }
}
