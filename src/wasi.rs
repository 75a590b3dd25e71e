//! WASI command constructors (feature `wasm`): compile a plain WASI
//! (preview1) command module once and get an [`AnyEvaluator`]. Any language
//! that compiles to WASI can be a script with no PDK: the module reads the
//! merged data as one JSON object on stdin and writes its result on stdout
//! (parsed as JSON, else returned as a string); a non-zero exit code or a trap
//! is an [`Error::Runtime`](crate::Error::Runtime) carrying stderr's text.
//! Every eval runs in a fresh instance; nothing (files, environment, network,
//! arguments, host functions) is granted. For grants (environment variables,
//! preopened directories, arguments, host functions, a shared memory), other
//! entry points, input and output modes, or to turn fuel off, build a
//! [`WasiEngine`] and use [`Evaluator::builder`](crate::Evaluator::builder);
//! [`WasmRuntime`] sizes the engine and instance pool evaluators share.

use std::path::Path;

pub use polyscript_wasm::{
    Allocation, CacheStats, Compiler, DEFAULT_MAX_INSTANCES, DEFAULT_MAX_OUTPUT_BYTES,
    DEFAULT_MAX_STDERR_BYTES, DEFAULT_RETAIN_COMPILED, InputMode, MAX_ERROR_MESSAGE_BYTES,
    OutputMode, RuntimeSettings, SharedMemory, WASI_HOST_NAMESPACE, WASI_RESULT_NAMESPACE,
    WasiEngine, WasiEngineBuilder, WasiInstance, WasiProgram, WasmRuntime, WasmRuntimeBuilder,
};

use polyscript_core::{AnyEvaluator, FileLoader, Loader, Result, Source};

/// Compiles the WASI command module in `bytes`; per-call data comes from the
/// context.
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// # let module = include_bytes!("../polyscript-wasm/guests/wasi/build/scripts.wasm");
/// let ev = polyscript::from_wasi_bytes(module)?;
/// let out = ev.eval(&EvalContext::with_data(json!({"name": "WASI"}))?)?;
/// assert_eq!(out.value(), &json!({"greeting": "Hello, WASI!", "length": 12}));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_wasi_bytes(bytes: impl AsRef<[u8]>) -> Result<AnyEvaluator> {
    crate::build(WasiEngine::new(), Source::from_bytes(bytes))
}

/// Like [`from_wasi_bytes`], with fixed `data` every eval sees (merged under
/// per-call data, which wins).
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// # let module = include_bytes!("../polyscript-wasm/guests/wasi/build/scripts.wasm");
/// let ev = polyscript::from_wasi_bytes_with_data(module, json!({"name": "World"}))?;
/// let out = ev.eval(&EvalContext::new())?;
/// assert_eq!(out.value(), &json!({"greeting": "Hello, World!", "length": 13}));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_wasi_bytes_with_data(
    bytes: impl AsRef<[u8]>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    crate::build_with_data(WasiEngine::new(), Source::from_bytes(bytes), data)
}

/// Loads and compiles the WASI command module at `path`.
pub fn from_wasi_file(path: impl AsRef<Path>) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build(WasiEngine::new(), source)
}

/// Loads and compiles the WASI command module at `path` with fixed `data`
/// every eval sees (merged under per-call data, which wins).
pub fn from_wasi_file_with_data(
    path: impl AsRef<Path>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build_with_data(WasiEngine::new(), source, data)
}

/// Compiles the WASI command module any [`Loader`] produces (bytes, a file,
/// a reader, an HTTP URL with the `http` feature).
pub fn from_wasi_loader(loader: &dyn Loader) -> Result<AnyEvaluator> {
    crate::build(WasiEngine::new(), loader.load()?)
}
