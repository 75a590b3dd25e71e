//! The simplest use: an Extism plugin and its data given together, evaluated
//! once. The plugin (AssemblyScript, `polyscript-wasm/guests/plugin`) is
//! embedded in the binary.
//!
//! `cargo run --example simple_wasm --no-default-features --features wasm`

use polyscript::prelude::*;
use serde_json::json;

/// The committed guest module.
const PLUGIN: &[u8] = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");

/// Compiles the plugin's `greet` export with `{"name": "World"}` as static
/// data and runs it once with an empty context.
fn run() -> polyscript::Result<Value> {
    let evaluator =
        polyscript::from_extism_bytes_with_data(PLUGIN, "greet", json!({"name": "World"}))?;
    let response = evaluator.eval(&EvalContext::new())?;
    Ok(response.into_value())
}

fn main() {
    match run() {
        Ok(value) => println!("{value}"),
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
    fn greets_the_world() {
        assert_eq!(
            run().unwrap(),
            json!({"greeting": "Hello, World!", "length": 13})
        );
    }
}
