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
    match language {
        Language::Rhai => narrowed_matches_whole(text),
        Language::Js => lazy_matches_eager(text),
        Language::Lua => {}
    }
}

/// A wide input: 20 numbered keys and the fields the seeds read.
fn wide_ctx() -> EvalContext {
    let mut data = serde_json::Map::new();
    for i in 0..20 {
        data.insert(format!("k{i}"), serde_json::json!(i));
    }
    data.insert("name".into(), serde_json::json!("fuzz"));
    data.insert("n".into(), serde_json::json!(1));
    data.insert("list".into(), serde_json::json!([1, 2, {"a": "b"}]));
    EvalContext::with_data(serde_json::Value::Object(data)).expect("a valid context")
}

/// JavaScript makes an input of 8 or more keys a lazy `ctx` (a proxy);
/// converted eagerly instead, the same input must give the same value, or
/// the same runtime error. Scripts that can tell two runs apart by
/// themselves (the clock, `Math.random`) are not compared.
fn lazy_matches_eager(text: &str) {
    use polyscript::{Evaluator, JsEngine, PoolConfig, Source};
    if ["random", "Date", "now"]
        .iter()
        .any(|word| text.contains(word))
    {
        return;
    }
    let run = |lazy_from: usize| {
        let text = text.to_owned();
        // A thread of its own with a big stack: the eval runs on it (not on
        // a worker thread, which would not see the setting).
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || {
                polyscript::js::set_lazy_min_keys(lazy_from);
                let evaluator = Evaluator::builder(JsEngine::new(), Source::from_text(text))
                    .limits(limits())
                    .pool(PoolConfig::default().with_max_size(1))
                    .build()
                    .ok()?;
                match evaluator.eval(&wide_ctx()) {
                    Ok(response) => Some(Ok(response.into_value())),
                    Err(Error::Runtime { message, .. }) => Some(Err(message)),
                    Err(_) => None,
                }
            })
            .expect("a thread")
            .join()
            .expect("no panic")
    };
    if let (Some(lazy), Some(eager)) = (run(0), run(usize::MAX)) {
        assert_eq!(
            lazy, eager,
            "JavaScript: the lazy ctx answered differently from the eager one"
        );
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
    let ctx = wide_ctx();
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
