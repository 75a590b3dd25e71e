//! Compile a Lua script once, then evaluate it many times with different data.
//!
//! `cargo run --example multiple_instantiation_lua --no-default-features --features lua`

use std::time::Duration;

use polyscript::prelude::*;
use serde_json::json;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lua/greet.lua");

/// Each name's result and how long its eval took.
fn run() -> polyscript::Result<Vec<(Value, Duration)>> {
    let evaluator = polyscript::from_lua_file(SCRIPT)?;
    ["World", "Alice", "Bob", "Charlie"]
        .into_iter()
        .map(|name| {
            let response = evaluator.eval(&EvalContext::with_data(json!({"name": name}))?)?;
            let took = response.exec_time();
            Ok((response.into_value(), took))
        })
        .collect()
}

fn main() {
    match run() {
        Ok(results) => {
            for (value, took) in results {
                println!("{value} ({took:?})");
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
    fn greets_everyone_from_one_compiled_script() {
        let values: Vec<Value> = run().unwrap().into_iter().map(|(v, _)| v).collect();
        assert_eq!(
            values,
            vec![
                json!({"greeting": "Hello, World!", "length": 13}),
                json!({"greeting": "Hello, Alice!", "length": 13}),
                json!({"greeting": "Hello, Bob!", "length": 11}),
                json!({"greeting": "Hello, Charlie!", "length": 15}),
            ]
        );
    }
}
