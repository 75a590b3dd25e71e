//! WebAssembly engines for polyscript: Extism plugins (feature `extism`) and
//! plain WASI command modules (feature `wasi`).
//!
//! # Extism plugins
//!
//! [`ExtismEngine`] compiles a module once (an Extism `CompiledPlugin`) and
//! checks its entry point then: a missing export is
//! [`Error::EntryPointNotFound`](polyscript_core::Error::EntryPointNotFound)
//! listing the exports, invalid bytes are
//! [`Error::Compile`](polyscript_core::Error::Compile).
//!
//! **How a plugin sees `ctx` and returns.** There is no `ctx` global: the
//! entry point's Extism *input* is the merged data as JSON bytes, with no
//! wrapper (as in go-polyscript), and its Extism *output* is the result —
//! parsed as JSON, else returned as a string (no output is `null`). The data
//! bounds of `polyscript_core::data` hold both ways, as in every engine:
//! input nested deeper than `Limits::data_depth` is refused before the guest
//! runs, and output that is JSON but nested too deep, or holds an integer
//! beyond 64 bits or a float beyond `f64`, is `Error::InvalidData` naming
//! the path (never a string); output that is neither JSON nor UTF-8 is
//! `Error::InvalidData` too (never replaced with U+FFFD). A guest
//! error (`error_set`) or a non-zero return is
//! [`Error::Runtime`](polyscript_core::Error::Runtime) carrying the guest's
//! message. In AssemblyScript with `@extism/as-pdk`:
//!
//! ```ts
//! export function greet(): i32 {
//!   const ctx = JSON.parse<JSON.Obj>(Host.inputString());  // {"name": "World"}
//!   const g = "Hello, " + ctx.get("name")!.get<string>() + "!";
//!   Host.output(Uint8Array.wrap(String.UTF8.encode(JSON.stringify(g))));
//!   return 0;
//! }
//! ```
//!
//! and from Rust (the test guest in `guests/plugin`):
//!
//! ```
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_wasm::ExtismEngine;
//!
//! let plugin = include_bytes!("../guests/plugin/build/plugin.wasm");
//! let evaluator = Evaluator::new(ExtismEngine::with_entry_point("greet"), Source::from_bytes(plugin))?;
//! let response = evaluator.eval(&EvalContext::with_data(json!({"name": "World"}))?)?;
//! assert_eq!(response.value(), &json!({"greeting": "Hello, World!", "length": 13}));
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! **Instances.** [`InstancePolicy::Fresh`] (default) makes a new plugin
//! instance from the compiled module for every eval, so nothing one eval
//! leaves in memory or globals reaches the next; [`InstancePolicy::Stateful`]
//! keeps each pooled instance's state between evals. The compiled module is
//! shared by all instances and never recompiled.
//!
//! **Limits.** The deadline (`Limits::timeout`, the context's deadline) and
//! the context's cancellation token stop a running guest through Extism's
//! cancel handle, driven by one shared watchdog thread: `Error::Timeout` /
//! `Error::Cancelled`, and the interrupted instance is replaced. Memory is a
//! maximum number of 64 KiB pages, from `Limits::memory_bytes` or
//! [`ExtismEngineBuilder::max_pages`]; growing past it is
//! `LimitExceeded(Memory)`. Fuel is optional ([`ExtismEngineBuilder::fuel`]):
//! `Limits::operations` units per eval, `LimitExceeded(Operations)` when
//! spent. Stack exhaustion (wasmtime's wasm stack) is
//! `LimitExceeded(CallDepth)`. Memory pages and fuel are fixed when the module
//! is compiled, so a context's per-call limits change only the deadline.
//!
//! **Sandbox.** WASI is off unless [`ExtismEngineBuilder::wasi`] turns it on;
//! no host is allowed for `http_request` and no directory is mapped unless
//! [`ExtismEngineBuilder::allow_host`] / [`ExtismEngineBuilder::allow_path`]
//! grant them. Host functions and plugin config come through the builder.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod host;
mod imports;
mod inspect;
mod io;
mod policy;
mod pooling;
mod runtime;

pub use cache::CacheStats;
pub use inspect::WasmModuleInfo;
pub use io::{InputMode, OutputMode};
pub use policy::InstancePolicy;
pub use runtime::{
    Allocation, Compiler, DEFAULT_MAX_INSTANCES, DEFAULT_RETAIN_COMPILED, RuntimeSettings,
    WasmRuntime, WasmRuntimeBuilder,
};

#[cfg(feature = "extism")]
pub use host::extism::EXTISM_HOST_NAMESPACE;
#[cfg(feature = "wasi")]
pub use host::wasi::{WASI_HOST_NAMESPACE, WASI_RESULT_NAMESPACE};

/// The crates these engines are built on, for code that needs their own API
/// (e.g. raw benchmarks or Extism-specific host functions).
pub mod deps {
    #[cfg(feature = "extism")]
    pub use ::extism;
    pub use ::wasmtime;
    #[cfg(feature = "wasi")]
    pub use ::wasmtime_wasi;
}

#[cfg(feature = "extism")]
mod extism;
#[cfg(feature = "extism")]
#[cfg_attr(docsrs, doc(cfg(feature = "extism")))]
pub use extism::*;

#[cfg(feature = "wasi")]
mod wasi;
#[cfg(feature = "wasi")]
#[cfg_attr(docsrs, doc(cfg(feature = "wasi")))]
pub use wasi::*;
