//! # polyscript
//!
//! One API to load scripts and WebAssembly modules, compile them once, and
//! evaluate them many times — from many threads, against different data — in
//! any of four embedded engines: **Rhai**, **Lua 5.4**, **JavaScript** (boa)
//! and **WebAssembly** (Extism plugins and plain WASI modules).
//!
//! Switching engines changes one constructor call; everything else
//! ([`AnyEvaluator::eval`], [`EvalContext`], [`Response`], [`Error`]) stays.
//!
//! Every script sees its input as one global named `ctx` and returns its final
//! value (WASM modules receive the input as JSON bytes and write JSON back).
//!
//! | feature | engine | constructors |
//! |---------|--------|--------------|
//! | `rhai`  | Rhai   | `from_rhai_str`, `from_rhai_file`, ... |
//! | `lua`   | Lua 5.4 (vendored) | `from_lua_str`, `from_lua_file`, ... |
//! | `js`    | JavaScript (boa) | `from_js_str`, `from_js_file`, ... |
//! | `wasm`  | Extism plugins, WASI command modules | `from_extism_bytes`, `from_wasi_bytes`, ... |
//! | `http`  | — | [`HttpLoader`] |
//!
//! Every engine has the same constructor set: `from_X_str` (`from_X_bytes`
//! for WebAssembly), `from_X_file` and `from_X_loader` (any [`Loader`]), each
//! also as `..._with_data` with fixed data every eval sees; Extism's take the
//! entry point to call as well. Each engine's module ([`rhai`],
//! [`lua`], [`js`], [`wasm`]) holds its
//! crate's whole API: the engine-specific constants (such as
//! `polyscript::js::DEFAULT_STACK_SIZE`) and the engine crate it is built on,
//! to name types its builder takes (`polyscript::rhai::OptimizationLevel`,
//! `polyscript::wasm::deps::extism::Function`).
//!
//! The default features are the four engines and the accounting allocator;
//! `full` adds `http`, `tokio` and `live`.
//!
//! # The same evaluation in every engine
//!
//! Each script reads the global `ctx` and returns its final value; the host
//! code around it is identical:
//!
//! ```
//! # #[cfg(all(feature = "rhai", feature = "lua", feature = "js"))]
//! # fn main() -> polyscript::Result<()> {
//! use polyscript::prelude::*;
//! use serde_json::json;
//!
//! let evaluators = [
//!     // Rhai: the last expression is the result.
//!     polyscript::from_rhai_str(r#"let g = "Hello, " + ctx.name + "!"; #{ greeting: g, length: g.len() }"#)?,
//!     // Lua: the chunk's `return`.
//!     polyscript::from_lua_str(r#"local g = "Hello, " .. ctx["name"] .. "!"
//!                                 return { greeting = g, length = #g }"#)?,
//!     // JavaScript: the completion value (or `function main(ctx) { ... }`).
//!     polyscript::from_js_str(r#"const g = `Hello, ${ctx.name}!`; ({ greeting: g, length: g.length })"#)?,
//! ];
//! let ctx = EvalContext::with_data(json!({"name": "World"}))?;
//! for evaluator in &evaluators {
//!     let response = evaluator.eval(&ctx)?;
//!     assert_eq!(response.value(), &json!({"greeting": "Hello, World!", "length": 13}));
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "rhai", feature = "lua", feature = "js")))]
//! # fn main() {}
//! ```
//!
//! WebAssembly modules receive `ctx` as JSON bytes and write JSON back: an
//! Extism plugin through its entry point's input and output
//! ([`from_extism_bytes`]), a WASI command module on
//! stdin and stdout ([`from_wasi_bytes`]).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::path::Path;

/// The accounting allocator, installed by the default feature
/// `accounting-allocator` (see [`alloc`]): Rhai and JavaScript evals count
/// what they allocate against `Limits::memory_bytes` through it.
#[cfg(feature = "accounting-allocator")]
#[global_allocator]
static POLYSCRIPT_ALLOCATOR: polyscript_core::alloc::Accounting =
    polyscript_core::alloc::Accounting::system();

pub use polyscript_core::*;

#[macro_use]
mod constructors;

// One line per engine: its feature, its module (src/<module>.rs, which
// invokes `engine_constructors!`), the extensions `from_file` opens with it.
engines! {
    "rhai" => rhai, ["rhai"] => from_rhai_file;
    "lua" => lua, ["lua"] => from_lua_file;
    "js" => js, ["js", "mjs"] => from_js_file;
    "wasm" => wasm, ["wasm"] => from_wasm_file;
}

// Compile and run the README's code blocks as doctests.
#[cfg(all(doctest, feature = "rhai"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The names most programs need: `use polyscript::prelude::*;`.
pub mod prelude {
    pub use polyscript_core::{
        AnyEvaluator, CancelToken, Error, EvalContext, Evaluator, Limits, Map, PoolConfig,
        Response, Result, Value, ValueType,
    };
}

/// Compiles `source` with `engine` into a type-erased evaluator that reads
/// per-call data from the context (default limits and pool).
#[allow(dead_code)] // unused when every engine feature is off
pub(crate) fn build<E: Engine>(engine: E, source: Source) -> Result<AnyEvaluator> {
    Ok(Evaluator::new(engine, source)?.into_any())
}

/// Like [`build`], with fixed `data` merged under per-call data.
#[allow(dead_code)]
pub(crate) fn build_with_data<E: Engine>(
    engine: E,
    source: Source,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    Ok(Evaluator::builder(engine, source)
        .static_data(data)
        .build()?
        .into_any())
}

/// Loads the file at `path` and compiles it with the engine its extension
/// names: `.rhai`, `.lua`, `.js` / `.mjs`, `.wasm` (an Extism plugin's `main`
/// entry point or a WASI command module: see
/// [`from_wasm_file`]).
///
/// An extension whose engine is compiled out is an [`Error::Unsupported`]
/// naming the Cargo feature to enable.
pub fn from_file(path: impl AsRef<Path>) -> Result<AnyEvaluator> {
    let path = path.as_ref();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    open_by_extension(&ext, path).unwrap_or_else(|| {
        Err(Error::Unsupported {
            message: format!(
                "no engine for extension {ext:?} of {}; known: {}",
                path.display(),
                KNOWN_EXTENSIONS.join(", ")
            ),
        })
    })
}
