//! Lua 5.4 constructors (feature `lua`): compile a Lua chunk once and get an
//! [`AnyEvaluator`]. Scripts read the global `ctx` and `return` their result;
//! see [`polyscript_lua`] for the value rules, the sandbox and the limits.

use std::path::Path;

pub use polyscript_lua::{LuaEngine, LuaEngineBuilder, LuaInstance, LuaProgram};

use polyscript_core::{AnyEvaluator, FileLoader, Loader, Result, Source};

/// Compiles Lua `script` text; per-call data comes from the context.
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// let ev = polyscript::from_lua_str("return { greeting = 'Hello, ' .. ctx.name .. '!' }")?;
/// let out = ev.eval(&EvalContext::with_data(json!({"name": "Lua"}))?)?;
/// assert_eq!(out.value(), &json!({"greeting": "Hello, Lua!"}));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_lua_str(script: impl AsRef<str>) -> Result<AnyEvaluator> {
    crate::build(LuaEngine::new(), Source::from_text(script))
}

/// Compiles Lua `script` text with fixed `data` every eval sees (merged under
/// per-call data, which wins).
pub fn from_lua_str_with_data(
    script: impl AsRef<str>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    crate::build_with_data(LuaEngine::new(), Source::from_text(script), data)
}

/// Loads and compiles the Lua file at `path` (errors name the file and line).
pub fn from_lua_file(path: impl AsRef<Path>) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build(LuaEngine::new(), source)
}

/// Loads and compiles the Lua file at `path` with fixed `data` every eval
/// sees (merged under per-call data, which wins).
pub fn from_lua_file_with_data(
    path: impl AsRef<Path>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build_with_data(LuaEngine::new(), source, data)
}

/// Compiles the Lua script any [`Loader`] produces (a string, bytes, a
/// reader, a file, an HTTP URL with the `http` feature).
pub fn from_lua_loader(loader: &dyn Loader) -> Result<AnyEvaluator> {
    crate::build(LuaEngine::new(), loader.load()?)
}
