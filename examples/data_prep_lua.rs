//! Static configuration at creation, per-request data prepared separately
//! (go-polyscript's `AddDataToContext`), then one eval.
//!
//! `cargo run --example data_prep_lua --no-default-features --features lua`

use polyscript::prelude::*;
use serde_json::json;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lua/data_prep.lua");

/// Builds the evaluator with static config, prepares the request, evaluates.
fn run() -> polyscript::Result<Value> {
    let config = json!({
        "app_version": "1.0.0",
        "environment": "production",
        "config": {
            "timeout": 30,
            "max_retries": 3,
            "feature_flags": {"dark_mode": true, "beta_features": false}
        }
    });
    let evaluator = polyscript::from_lua_file_with_data(SCRIPT, config)?;
    let ctx = evaluator.prepare(
        EvalContext::new(),
        json!({
            "name": "World",
            "timestamp": "2025-01-01T12:00:00Z",
            "user_data": {"id": 12345, "role": "admin"},
            "request": {"method": "GET", "path": "/api/greeting"}
        }),
    )?;
    Ok(evaluator.eval(&ctx)?.into_value())
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
    fn combines_static_and_request_data() {
        assert_eq!(
            run().unwrap(),
            json!({
                "greeting": "Hello, World!",
                "message": "Processed by app version 1.0.0 in production",
                "user_id": 12345,
                "request_info": "GET /api/greeting",
                "app_info": {
                    "version": "1.0.0",
                    "environment": "production",
                    "timeout": 30,
                    "max_retries": 3,
                    "dark_mode": true
                }
            })
        );
    }
}
