//! Extism constructors (feature `wasm`): compile an Extism plugin once and
//! get an [`AnyEvaluator`] that calls one of its exports. The plugin receives
//! the merged data as JSON bytes and its output is parsed as JSON (else
//! returned as a string); see [`polyscript_wasm`] for limits, the sandbox and
//! the instance policy. For more options (memory pages, fuel, WASI, config,
//! host functions, input and output modes, a shared runtime,
//! [`InstancePolicy::Stateful`]) build an [`ExtismEngine`] and use
//! [`Evaluator::builder`](crate::Evaluator::builder).

use std::path::Path;

pub use polyscript_wasm::{
    EXTISM_HOST_NAMESPACE, EXTISM_NAMESPACE, ExtismEngine, ExtismEngineBuilder, ExtismInstance,
    ExtismProgram, InstancePolicy, WasmModuleInfo, is_extism_module,
};

use polyscript_core::{AnyEvaluator, FileLoader, Loader, Result, Source};

/// Compiles the Extism plugin in `bytes`; each eval calls `entry_point` with
/// the context's data.
///
/// ```
/// use polyscript::{EvalContext, serde_json::json};
/// # let plugin = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");
/// let ev = polyscript::from_extism_bytes(plugin, "greet")?;
/// let out = ev.eval(&EvalContext::with_data(json!({"input": "Wasm"}))?)?;
/// assert_eq!(out.value(), &json!({"greeting": "Hello, Wasm!"}));
/// # Ok::<(), polyscript::Error>(())
/// ```
pub fn from_extism_bytes(
    bytes: impl AsRef<[u8]>,
    entry_point: impl Into<String>,
) -> Result<AnyEvaluator> {
    crate::build(
        ExtismEngine::with_entry_point(entry_point),
        Source::from_bytes(bytes),
    )
}

/// Like [`from_extism_bytes`], with fixed `data` every eval sees (merged
/// under per-call data, which wins).
pub fn from_extism_bytes_with_data(
    bytes: impl AsRef<[u8]>,
    entry_point: impl Into<String>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    crate::build_with_data(
        ExtismEngine::with_entry_point(entry_point),
        Source::from_bytes(bytes),
        data,
    )
}

/// Loads and compiles the Extism plugin at `path`; each eval calls
/// `entry_point`.
pub fn from_extism_file(
    path: impl AsRef<Path>,
    entry_point: impl Into<String>,
) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build(ExtismEngine::with_entry_point(entry_point), source)
}

/// Like [`from_extism_file`], with fixed `data` every eval sees (merged under
/// per-call data, which wins).
pub fn from_extism_file_with_data(
    path: impl AsRef<Path>,
    entry_point: impl Into<String>,
    data: impl serde::Serialize,
) -> Result<AnyEvaluator> {
    let source = FileLoader::new(path.as_ref()).load()?;
    crate::build_with_data(ExtismEngine::with_entry_point(entry_point), source, data)
}

/// Loads the `.wasm` file at `path` and picks its engine from its imports
/// (what [`from_file`](crate::from_file) does for `.wasm`):
///
/// * a module importing from Extism's `extism:host/env` namespace is an
///   Extism plugin, run through its **`main`** export; a plugin without
///   `main` is an [`Error::EntryPointNotFound`](crate::Error::EntryPointNotFound)
///   listing its exports (use [`from_extism_file`] to name another one);
/// * any other module is a WASI command module
///   ([`from_wasi_file`](crate::from_wasi_file)).
///
/// ```
/// // The test plugin imports extism:host/env but has no `main` export.
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/polyscript-wasm/guests/plugin/build/plugin.wasm");
/// match polyscript::from_file(path) {
///     Err(polyscript::Error::EntryPointNotFound { entry_point, available, .. }) => {
///         assert_eq!(entry_point, "main");
///         assert!(available.iter().any(|e| e == "greet"));
///     }
///     other => panic!("expected EntryPointNotFound, got {other:?}"),
/// }
/// ```
pub fn from_wasm_file(path: impl AsRef<Path>) -> Result<AnyEvaluator> {
    let path = path.as_ref();
    let source = FileLoader::new(path).load()?;
    if is_extism_module(source.bytes()) {
        crate::build(ExtismEngine::new(), source)
    } else {
        crate::from_wasi_file(path)
    }
}
