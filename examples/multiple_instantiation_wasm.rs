//! Compile once, evaluate many times: one Extism evaluator, a different name
//! in each call's context. Each eval runs in a fresh plugin instance made
//! from the module compiled once.
//!
//! `cargo run --example multiple_instantiation_wasm --no-default-features --features wasm`

use std::time::Duration;

use polyscript::prelude::*;
use serde_json::json;

/// The committed guest module.
const PLUGIN: &[u8] = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");

/// The names evaluated, in order.
const NAMES: [&str; 4] = ["World", "Alice", "Bob", "Charlie"];

/// Compiles the plugin once and evaluates `greet` for each name with per-call
/// data; returns each name's result and how long its eval took.
fn run() -> polyscript::Result<Vec<(String, Value, Duration)>> {
    let evaluator = polyscript::from_extism_bytes(PLUGIN, "greet")?;
    NAMES
        .iter()
        .map(|&name| {
            let ctx = EvalContext::with_data(json!({ "name": name }))?;
            let response = evaluator.eval(&ctx)?;
            let took = response.exec_time();
            Ok((name.to_owned(), response.into_value(), took))
        })
        .collect()
}

fn main() {
    match run() {
        Ok(results) => {
            for (name, value, took) in results {
                println!("{name}: {value} (eval took {took:?})");
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_each_name_with_its_own_data() {
        let results = run().unwrap();
        assert_eq!(results.len(), NAMES.len());
        for ((name, value, _), expected) in results.iter().zip(NAMES) {
            assert_eq!(name, expected);
            let greeting = format!("Hello, {expected}!");
            assert_eq!(
                value,
                &json!({"greeting": greeting, "length": greeting.len()})
            );
        }
    }
}
