//! Arbitrary bytes as a script in each engine: compiling gives an evaluator
//! or a typed error, and running what compiles (with tight limits) ends in a
//! value or a typed error, never a panic, an abort or a hang.

use std::time::Duration;

use polyscript::{AnyEvaluator, Error, EvalContext, Limits, Result};

/// The language under test.
#[derive(Debug, Clone, Copy)]
pub enum Language {
    Rhai,
    Lua,
    Js,
}

/// Tight limits, so a fuzzed script that runs away costs milliseconds.
fn limits() -> Limits {
    Limits::default()
        .with_timeout(Duration::from_millis(200))
        .with_memory_bytes(16 << 20)
        .with_operations(2_000_000)
}

fn build(language: Language, text: &str) -> Result<AnyEvaluator> {
    use polyscript::{Evaluator, PoolConfig, Source};
    let source = Source::from_text(text);
    let pool = PoolConfig::default().with_max_size(1);
    match language {
        Language::Rhai => Ok(Evaluator::builder(polyscript::RhaiEngine::new(), source)
            .limits(limits())
            .pool(pool)
            .build()?
            .into_any()),
        Language::Lua => Ok(Evaluator::builder(polyscript::LuaEngine::new(), source)
            .limits(limits())
            .pool(pool)
            .build()?
            .into_any()),
        Language::Js => Ok(Evaluator::builder(polyscript::JsEngine::new(), source)
            .limits(limits())
            .pool(pool)
            .build()?
            .into_any()),
    }
}

pub fn compile(language: Language, data: &[u8]) {
    // Engines take text; invalid UTF-8 is refused before any engine sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let evaluator = match build(language, text) {
        Ok(evaluator) => evaluator,
        Err(Error::Compile { .. } | Error::Unsupported { .. } | Error::LimitExceeded { .. }) => {
            return;
        }
        Err(other) => panic!("{language:?}: compiling gave {other}"),
    };
    let ctx = EvalContext::with_data(serde_json::json!({"name": "fuzz", "n": 1, "list": [1, 2]}))
        .expect("a valid context");
    match evaluator.eval(&ctx) {
        Ok(_) => {}
        Err(Error::EnginePanic { message, .. }) => {
            panic!("{language:?}: the engine panicked: {message}")
        }
        Err(
            Error::Runtime { .. }
            | Error::Timeout { .. }
            | Error::LimitExceeded { .. }
            | Error::InvalidData { .. }
            | Error::Compile { .. },
        ) => {}
        Err(other) => panic!("{language:?}: unexpected error {other}"),
    }
}
