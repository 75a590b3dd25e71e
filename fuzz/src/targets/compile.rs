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
    if let Language::Rhai = language {
        narrowed_matches_whole(text);
    }
}

/// Rhai converts only the `ctx` entries a script reads once the input has
/// 16 or more keys; a `configure` hook (even an empty one) keeps the whole
/// conversion. On a wide input both must give the same value, or both a
/// runtime error (limits may differ: the whole input costs more memory).
fn narrowed_matches_whole(text: &str) {
    use polyscript::{Evaluator, PoolConfig, RhaiEngine, Source};
    let build = |engine: RhaiEngine| {
        Evaluator::builder(engine, Source::from_text(text))
            .limits(limits())
            .pool(PoolConfig::default().with_max_size(1))
            .build()
    };
    let (Ok(narrowed), Ok(whole)) = (
        build(RhaiEngine::new()),
        build(RhaiEngine::builder().configure(|_| {}).build()),
    ) else {
        return;
    };
    let mut data = serde_json::Map::new();
    for i in 0..20 {
        data.insert(format!("k{i}"), serde_json::json!(i));
    }
    data.insert("name".into(), serde_json::json!("fuzz"));
    data.insert("n".into(), serde_json::json!(1));
    data.insert("list".into(), serde_json::json!([1, 2, {"a": "b"}]));
    let ctx = EvalContext::with_data(serde_json::Value::Object(data)).expect("a valid context");
    let outcome = |evaluator: &Evaluator<RhaiEngine>| match evaluator.eval(&ctx) {
        Ok(response) => Some(Ok(response.into_value())),
        Err(Error::Runtime { message, .. }) => Some(Err(message)),
        Err(_) => None,
    };
    if let (Some(a), Some(b)) = (outcome(&narrowed), outcome(&whole)) {
        assert_eq!(
            a, b,
            "Rhai: the narrowed ctx answered differently from the whole one"
        );
    }
}
