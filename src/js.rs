//! JavaScript constructors (feature `js`, the boa engine): compile a script
//! once and get an [`AnyEvaluator`]. Scripts read the global `ctx` and return
//! their completion value (the last expression statement), or define
//! `function main(ctx)` whose return value is the result; see
//! [`polyscript_js`] for the value rules, isolation, the sandbox and the
//! limits. For engine options (thread mode, console, stack size, yield budget)
//! build a [`JsEngine`] and use [`Evaluator::builder`](crate::Evaluator::builder).

use std::path::Path;

pub use polyscript_js::{
    DEFAULT_STACK_SIZE, DEFAULT_YIELD_BUDGET, JsEngine, JsEngineBuilder, JsInstance, JsProgram,
    ThreadMode,
};

use polyscript_core::{AnyEvaluator, FileLoader, Loader, Result, Source};

/// Compiles JavaScript `script` text; per-call data comes from the context.
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// let ev = polyscript::from_js_str("({ greeting: `Hello, ${ctx.name}!` })")?;
/// let out = ev.eval(&EvalContext::with_data(json!({"name": "JS"}))?)?;
/// assert_eq!(out.value(), &json!({"greeting": "Hello, JS!"}));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_js_str(script: impl AsRef<str>) -> Result<AnyEvaluator> {
    crate::build(JsEngine::new(), Source::from_text(script))
}

/// Compiles JavaScript `script` text with fixed `data` every eval sees
/// (merged under per-call data, which wins).
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// let ev = polyscript::from_js_str_with_data(
///     "function main(ctx) { return ctx.greeting + ctx.name; }",
///     json!({"greeting": "Hi "}),
/// )?;
/// let out = ev.eval(&EvalContext::with_data(json!({"name": "Ada"}))?)?;
/// assert_eq!(out.value(), &json!("Hi Ada"));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_js_str_with_data(
    script: impl AsRef<str>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    crate::build_with_data(JsEngine::new(), Source::from_text(script), data)
}

/// Loads and compiles the JavaScript file at `path` (`.js` or `.mjs`; the file
/// is run as a classic script, not a module).
pub fn from_js_file(path: impl AsRef<Path>) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build(JsEngine::new(), source)
}

/// Loads and compiles the JavaScript file at `path` with fixed `data` every
/// eval sees (merged under per-call data, which wins).
pub fn from_js_file_with_data(
    path: impl AsRef<Path>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build_with_data(JsEngine::new(), source, data)
}

/// Compiles the JavaScript any [`Loader`] produces (a string, bytes, a
/// reader, a file, an HTTP URL with the `http` feature).
pub fn from_js_loader(loader: &dyn Loader) -> Result<AnyEvaluator> {
    crate::build(JsEngine::new(), loader.load()?)
}
