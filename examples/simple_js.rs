//! The simplest use: a JavaScript script and its data given together, evaluated once.
//!
//! `cargo run --example simple_js --no-default-features --features js`

use polyscript::prelude::*;
use serde_json::json;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/js/greet.js");

/// Compiles `greet.js` with `{"name": "World"}` as static data and runs it
/// once with an empty context.
fn run() -> polyscript::Result<Value> {
    let evaluator = polyscript::from_js_file_with_data(SCRIPT, json!({"name": "World"}))?;
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
