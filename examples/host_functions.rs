//! One registry of host functions, the same business rule in Rhai, Lua,
//! JavaScript and an Extism plugin, each calling the same two functions:
//! `customer(id)` (a lookup) and `audit(line)` (a side effect).
//!
//! Scripts call them as `host.NAME(...)`; the plugin (source in
//! `polyscript-wasm/guests/plugin/assembly/rules.ts`) imports them from the
//! `polyscript` namespace and exchanges JSON through Extism's memory. A host
//! error is the script's to catch; uncaught, it ends the eval as
//! `Error::Runtime` naming the function.
//!
//! ```sh
//! cargo run --example host_functions
//! ```

use std::sync::{Arc, Mutex};

use polyscript::host::{HostError, HostFunctions};
use polyscript::{
    AnyEvaluator, EvalContext, Evaluator, ExtismEngine, JsEngine, LuaEngine, Result, RhaiEngine,
    Source,
};
use serde::Serialize;
use serde_json::json;

#[derive(Serialize)]
struct Customer {
    id: String,
    tier: String,
}

/// The host side: a customer directory and an audit log.
fn registry(audit: Arc<Mutex<Vec<String>>>) -> HostFunctions {
    HostFunctions::new()
        .register("customer", |(id,): (String,)| {
            let tier = match id.as_str() {
                "c-1" => "gold",
                "c-2" => "silver",
                _ => return Err(HostError::new(format!("no customer {id}"))),
            };
            Ok(Customer {
                id,
                tier: tier.to_owned(),
            })
        })
        .register("audit", move |(line,): (String,)| {
            audit
                .lock()
                .map_err(|_| HostError::new("audit log poisoned"))?
                .push(line);
            Ok(())
        })
}

/// The rule: gold customers get 20% off, everyone else 5%.
const RHAI: &str = r#"
let c = host.customer(ctx.customer);
let rate = if c.tier == "gold" { 0.20 } else { 0.05 };
host.audit(`rhai: ${c.id} ${c.tier}`);
#{ customer: c.id, discount: ctx.total * rate }
"#;

const LUA: &str = r#"
local c = host.customer(ctx.customer)
local rate = c.tier == "gold" and 0.20 or 0.05
host.audit("lua: " .. c.id .. " " .. c.tier)
return { customer = c.id, discount = ctx.total * rate }
"#;

const JS: &str = r#"
const c = host.customer(ctx.customer);
const rate = c.tier === "gold" ? 0.20 : 0.05;
host.audit(`js: ${c.id} ${c.tier}`);
({ customer: c.id, discount: ctx.total * rate })
"#;

const PLUGIN: &[u8] = include_bytes!("../polyscript-wasm/guests/plugin/build/rules.wasm");

fn evaluators(host: &HostFunctions) -> Result<Vec<(&'static str, AnyEvaluator)>> {
    Ok(vec![
        (
            "rhai",
            Evaluator::new(
                RhaiEngine::builder().host_functions(host.clone()).build(),
                Source::from_text(RHAI),
            )?
            .into_any(),
        ),
        (
            "lua",
            Evaluator::new(
                LuaEngine::builder().host_functions(host.clone()).build(),
                Source::from_text(LUA),
            )?
            .into_any(),
        ),
        (
            "js",
            Evaluator::new(
                JsEngine::builder().host_functions(host.clone()).build(),
                Source::from_text(JS),
            )?
            .into_any(),
        ),
        (
            "extism",
            Evaluator::new(
                ExtismEngine::builder()
                    .entry_point("discount")
                    .host_functions(host.clone())
                    .build(),
                Source::from_bytes(PLUGIN),
            )?
            .into_any(),
        ),
    ])
}

/// Each engine's result, by engine name.
type Results = Vec<(String, serde_json::Value)>;

/// Runs the rule once per engine: the results and the audit log.
fn run() -> Result<(Results, Vec<String>)> {
    let audit = Arc::new(Mutex::new(Vec::new()));
    let host = registry(Arc::clone(&audit));
    let ctx = EvalContext::with_data(json!({"customer": "c-1", "total": 100}))?;
    let mut results = Vec::new();
    for (name, evaluator) in evaluators(&host)? {
        results.push((name.to_owned(), evaluator.eval(&ctx)?.into_value()));
    }
    let log = audit.lock().map(|l| l.clone()).unwrap_or_default();
    Ok((results, log))
}

fn main() {
    match run() {
        Ok((results, log)) => {
            for (engine, value) in results {
                println!("{engine:>6}: {value}");
            }
            println!("audit log: {log:?}");
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn every_engine_applies_the_same_rule_through_the_same_host_functions() {
        let (results, log) = super::run().expect("the example runs");
        for (engine, value) in &results {
            // JavaScript has one number type: an integral result comes back
            // as the integer 20 (JSON.stringify's rule), the others as 20.0.
            assert_eq!(value["customer"], json!("c-1"), "{engine}");
            assert_eq!(value["discount"].as_f64(), Some(20.0), "{engine}: {value}");
        }
        assert_eq!(results.len(), 4);
        assert_eq!(log.len(), 4, "{log:?}");
        assert!(log.iter().all(|l| l.ends_with("c-1 gold")), "{log:?}");
    }
}
