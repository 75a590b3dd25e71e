//! Rhai constructors (feature `rhai`): compile a Rhai script once and get an
//! [`AnyEvaluator`]. Scripts read the constant `ctx` and return their last
//! expression; see [`polyscript_rhai`] for the value rules, the sandbox and
//! the limits. For builder options (strict variables, registered functions,
//! modules) build a [`RhaiEngine`] and use
//! [`Evaluator::builder`](crate::Evaluator::builder).

use std::path::Path;

pub use polyscript_rhai::{RhaiEngine, RhaiEngineBuilder, RhaiInstance, RhaiProgram};

use polyscript_core::{AnyEvaluator, FileLoader, Loader, Result, Source};

/// Compiles Rhai `script` text; per-call data comes from the context.
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// let ev = polyscript::from_rhai_str(r#"#{ greeting: "Hello, " + ctx.name + "!" }"#)?;
/// let out = ev.eval(&EvalContext::with_data(json!({"name": "Rhai"}))?)?;
/// assert_eq!(out.value(), &json!({"greeting": "Hello, Rhai!"}));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_rhai_str(script: impl AsRef<str>) -> Result<AnyEvaluator> {
    crate::build(RhaiEngine::new(), Source::from_text(script))
}

/// Compiles Rhai `script` text with fixed `data` every eval sees (merged
/// under per-call data, which wins).
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// let ev = polyscript::from_rhai_str_with_data("ctx.greeting + ctx.name", json!({"greeting": "Hi "}))?;
/// let out = ev.eval(&EvalContext::with_data(json!({"name": "Ada"}))?)?;
/// assert_eq!(out.value(), &json!("Hi Ada"));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_rhai_str_with_data(
    script: impl AsRef<str>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    crate::build_with_data(RhaiEngine::new(), Source::from_text(script), data)
}

/// Loads and compiles the Rhai file at `path`.
pub fn from_rhai_file(path: impl AsRef<Path>) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build(RhaiEngine::new(), source)
}

/// Loads and compiles the Rhai file at `path` with fixed `data` every eval
/// sees (merged under per-call data, which wins).
pub fn from_rhai_file_with_data(
    path: impl AsRef<Path>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build_with_data(RhaiEngine::new(), source, data)
}

/// Compiles the Rhai script any [`Loader`] produces (a string, bytes, a
/// reader, a file, an HTTP URL with the `http` feature).
pub fn from_rhai_loader(loader: &dyn Loader) -> Result<AnyEvaluator> {
    crate::build(RhaiEngine::new(), loader.load()?)
}
