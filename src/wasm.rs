//! WebAssembly (feature `wasm`): Extism plugins and plain WASI command
//! modules, compiled once into an [`AnyEvaluator`].
//! This module is `polyscript_wasm`'s API (with [`deps`], the crates it is
//! built on: `deps::extism::Function` for [`ExtismEngineBuilder::extism_function`],
//! and its constants such as [`DEFAULT_MAX_OUTPUT_BYTES`]) plus the
//! constructors, which are also at the crate root.
//!
//! **Extism plugins** receive the merged data as JSON bytes through the
//! entry point's input, and their output is parsed as JSON (else returned as
//! a string); see [`polyscript_wasm`] for limits, the sandbox and the
//! instance policy. For more options (memory pages, fuel, WASI, config, host
//! functions, input and output modes, a shared runtime,
//! [`InstancePolicy::Stateful`]) build an [`ExtismEngine`] and use
//! [`Evaluator::builder`](crate::Evaluator::builder).
//!
//! ```
//! use polyscript::{EvalContext, serde_json::json};
//! # let plugin = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");
//! let ev = polyscript::from_extism_bytes(plugin, "greet")?;
//! let out = ev.eval(&EvalContext::with_data(json!({"input": "Wasm"}))?)?;
//! assert_eq!(out.value(), &json!({"greeting": "Hello, Wasm!"}));
//! # Ok::<(), polyscript::Error>(())
//! ```
//!
//! **WASI command modules** need no PDK (any language that compiles to WASI
//! preview1): the module reads the merged data as one JSON object on stdin
//! and writes its result on stdout (parsed as JSON, else returned as a
//! string); a non-zero exit code or a trap is an
//! [`Error::Runtime`](crate::Error::Runtime) carrying stderr's text. Every
//! eval runs in a fresh instance; nothing (files, environment, network,
//! arguments, host functions) is granted. For grants (environment
//! variables, preopened directories, arguments, host functions, a shared
//! memory), other entry points, input and output modes, or to turn fuel
//! off, build a [`WasiEngine`] and use
//! [`Evaluator::builder`](crate::Evaluator::builder); [`WasmRuntime`] sizes
//! the engine and instance pool evaluators share.
//!
//! ```
//! use polyscript::{EvalContext, serde_json::json};
//! # let module = include_bytes!("../polyscript-wasm/guests/wasi/build/scripts.wasm");
//! let ev = polyscript::from_wasi_bytes(module)?;
//! let out = ev.eval(&EvalContext::with_data(json!({"name": "WASI"}))?)?;
//! assert_eq!(out.value(), &json!({"greeting": "Hello, WASI!", "length": 12}));
//!
//! let ev = polyscript::from_wasi_bytes_with_data(module, json!({"name": "World"}))?;
//! let out = ev.eval(&EvalContext::new())?;
//! assert_eq!(out.value(), &json!({"greeting": "Hello, World!", "length": 13}));
//! # Ok::<(), polyscript::Error>(())
//! ```

use std::path::Path;

use polyscript_core::{AnyEvaluator, FileLoader, Loader, Result};

pub use polyscript_wasm::*;

engine_constructors! {
    root: extism_root,
    what: "Extism plugin",
    input: bytes: impl AsRef<[u8]> => Source::from_bytes,
    args: (entry_point: impl Into<String>),
    note: "; each eval calls its export `entry_point` with the context's data",
    engine: super::ExtismEngine::with_entry_point(entry_point),
    export: [
        ExtismEngine, ExtismEngineBuilder, ExtismInstance, ExtismProgram, InstancePolicy,
        WasmModuleInfo, is_extism_module, EXTISM_HOST_NAMESPACE, EXTISM_NAMESPACE,
    ],
    fns: [
        from_extism_bytes, from_extism_bytes_with_data,
        from_extism_file, from_extism_file_with_data,
        from_extism_loader, from_extism_loader_with_data,
    ],
}

engine_constructors! {
    root: wasi_root,
    what: "WASI command module",
    input: bytes: impl AsRef<[u8]> => Source::from_bytes,
    args: (),
    note: "",
    engine: super::WasiEngine::new(),
    export: [
        Allocation, CacheStats, Compiler, InputMode, OutputMode, RuntimeSettings, SharedMemory,
        WASI_HOST_NAMESPACE, WASI_RESULT_NAMESPACE, WasiEngine, WasiEngineBuilder, WasiInstance,
        WasiProgram, WasmRuntime, WasmRuntimeBuilder,
    ],
    fns: [
        from_wasi_bytes, from_wasi_bytes_with_data,
        from_wasi_file, from_wasi_file_with_data,
        from_wasi_loader, from_wasi_loader_with_data,
    ],
}

/// What the crate root shows: both constructor sets and [`from_wasm_file`].
pub(crate) mod root {
    pub use super::extism_root::*;
    pub use super::from_wasm_file;
    pub use super::wasi_root::*;
}

/// Loads the `.wasm` file at `path` and picks its engine from its imports
/// (what [`from_file`](crate::from_file) does for `.wasm`):
///
/// * a module importing from Extism's `extism:host/env` namespace is an
///   Extism plugin, run through its **`main`** export; a plugin without
///   `main` is an [`Error::EntryPointNotFound`](crate::Error::EntryPointNotFound)
///   listing its exports (use [`from_extism_file`] to name another one);
/// * any other module is a WASI command module ([`from_wasi_file`]).
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
    let source = FileLoader::new(path.as_ref()).load()?;
    if is_extism_module(source.bytes()) {
        crate::build(ExtismEngine::new(), source)
    } else {
        crate::build(WasiEngine::new(), source)
    }
}
