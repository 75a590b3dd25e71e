//! Values through an identity script in each engine: they come back exactly
//! (types, `-0.0`), or as the typed error the depth bound and the number rule
//! name — never a crash, a hang, or a changed value.

use std::sync::OnceLock;

use polyscript::data::JS_MAX_SAFE_INTEGER;
use polyscript::{AnyEvaluator, Error, EvalContext, Map, Value};

use super::json::{
    all_integers, arbitrary_value, default_bound, depth, drop_flat, has_empty_key, same, same_in_js,
};

/// The engine under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Rhai,
    Lua,
    Js,
    Extism,
    Wasi,
}

const PLUGIN: &[u8] = include_bytes!("../../../polyscript-wasm/guests/plugin/build/plugin.wasm");
const WASI: &[u8] = include_bytes!("../../../polyscript-wasm/guests/wasi/build/scripts.wasm");

/// One evaluator per engine for the whole fuzzing run: compiling is the
/// expensive part, and reusing instances is what the pool does in real use.
fn evaluator(target: Target) -> &'static AnyEvaluator {
    static EVALUATORS: [OnceLock<AnyEvaluator>; 5] = [const { OnceLock::new() }; 5];
    EVALUATORS[target as usize].get_or_init(|| {
        let built = match target {
            Target::Rhai => polyscript::from_rhai_str("ctx.value"),
            Target::Lua => polyscript::from_lua_str("return ctx.value"),
            Target::Js => polyscript::from_js_str("ctx.value"),
            Target::Extism => polyscript::from_extism_bytes(PLUGIN, "echo"),
            Target::Wasi => {
                polyscript::from_wasi_bytes_with_data(WASI, serde_json::json!({"op": "echo"}))
            }
        };
        built.expect("the identity evaluator builds")
    })
}

/// Whether every integer in `value` is one `target` holds exactly.
fn integers_fit(target: Target, value: &Value) -> bool {
    match target {
        Target::Rhai | Target::Lua => all_integers(value, |n| n.as_i64().is_some()),
        Target::Js => all_integers(value, |n| {
            n.as_i64()
                .is_some_and(|i| (-JS_MAX_SAFE_INTEGER..=JS_MAX_SAFE_INTEGER).contains(&i))
        }),
        Target::Extism | Target::Wasi => true,
    }
}

pub fn convert(target: Target, data: &[u8]) {
    let Some(value) = arbitrary_value(data) else {
        return;
    };
    check(target, &value);
    drop_flat(value);
}

/// An evaluator per script engine that returns its whole `ctx`: with a
/// wide input that is the engines' lazy `ctx` (Lua and JavaScript) or the
/// whole conversion (Rhai).
fn whole_ctx_evaluator(target: Target) -> Option<&'static AnyEvaluator> {
    static EVALUATORS: [OnceLock<AnyEvaluator>; 3] = [const { OnceLock::new() }; 3];
    let (slot, built): (usize, fn() -> polyscript::Result<AnyEvaluator>) = match target {
        Target::Rhai => (0, || polyscript::from_rhai_str("ctx")),
        Target::Lua => (1, || polyscript::from_lua_str("return ctx")),
        Target::Js => (2, || polyscript::from_js_str("ctx")),
        Target::Extism | Target::Wasi => return None,
    };
    Some(EVALUATORS[slot].get_or_init(|| built().expect("the whole-ctx evaluator builds")))
}

fn check(target: Target, value: &Value) {
    // Empty keys never reach an engine: the context refuses them.
    if has_empty_key(value) {
        let input = Value::Object(Map::from_iter([("value".to_owned(), value.clone())]));
        assert!(
            matches!(
                EvalContext::with_data(&input),
                Err(Error::InvalidData { .. })
            ),
            "a context accepted an empty key"
        );
        drop_flat(input);
        return;
    }
    let input = Value::Object(Map::from_iter([("value".to_owned(), value.clone())]));
    comes_back(target, evaluator(target), &input, value);
    drop_flat(input);
    // A map is also the whole `ctx`, which a wide one makes lazy.
    if value.is_object()
        && let Some(evaluator) = whole_ctx_evaluator(target)
    {
        comes_back(target, evaluator, value, value);
    }
}

/// `evaluator` given `input` returns `sent` unchanged, or an error naming
/// the path when `sent` is too deep or holds an integer the engine refuses.
fn comes_back(target: Target, evaluator: &AnyEvaluator, input: &Value, sent: &Value) {
    let ctx = match EvalContext::with_data(input) {
        Ok(ctx) => ctx,
        // Deeper than any evaluator could take (Limits::MAX_DATA_DEPTH).
        Err(Error::InvalidData { .. }) if depth(input) > 1024 => return,
        Err(other) => panic!("a valid value was refused by the context: {other}"),
    };
    let too_deep = depth(input) > default_bound();
    let fits = integers_fit(target, sent);
    let outcome = evaluator.eval(&ctx);
    match outcome {
        Ok(response) => {
            assert!(
                !too_deep,
                "{target:?}: a value deeper than the bound came back"
            );
            assert!(
                fits,
                "{target:?}: an out-of-range integer came back instead of an error"
            );
            let got = response.into_value();
            let unchanged = match target {
                Target::Js => same_in_js(&got, sent),
                _ => same(&got, sent),
            };
            assert!(
                unchanged,
                "{target:?}: the value changed:\n  sent {}\n  got  {}",
                short(sent),
                short(&got)
            );
            drop_flat(got);
        }
        Err(Error::InvalidData {
            path: Some(path), ..
        }) if too_deep || !fits => {
            assert!(
                path.starts_with("ctx") || path.starts_with("result"),
                "{path}"
            );
        }
        Err(other) => panic!(
            "{target:?}: unexpected error for {} (too deep: {too_deep}, integers fit: {fits}): {other}",
            short(sent)
        ),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 300 {
        format!("{}… ({} bytes)", &text[..300], text.len())
    } else {
        text
    }
}
