//! Data preparation separated from evaluation: static configuration given at
//! creation, per-request data added with `prepare`, then one eval of the
//! plugin's `data_prep` export, which receives the merged data as JSON.
//!
//! `cargo run --example data_prep_wasm --no-default-features --features wasm`

use polyscript::prelude::*;
use serde_json::json;

/// The committed guest module.
const PLUGIN: &[u8] = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");

/// Builds the evaluator with the app's static configuration, prepares one
/// request's data into a context, and evaluates it.
fn run() -> polyscript::Result<Value> {
    let evaluator = polyscript::from_extism_bytes_with_data(
        PLUGIN,
        "data_prep",
        json!({
            "app_version": "1.0.0",
            "environment": "production",
            "config": {
                "timeout": 30,
                "max_retries": 3,
                "feature_flags": {"dark_mode": true, "beta_features": false}
            }
        }),
    )?;

    // Preparation could happen elsewhere: the prepared context is serializable.
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
    fn merges_static_and_request_data() {
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
