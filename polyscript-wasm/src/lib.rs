//! WebAssembly engines for polyscript: Extism plugins (feature `extism`) and
//! plain WASI modules (feature `wasi`), on shared wasmtime runtimes.
//!
//! # Extism plugins
//!
//! [`ExtismEngine`] compiles a module once (an Extism `CompiledPlugin`) and
//! checks its entry point and its imports then: a missing export is
//! [`Error::EntryPointNotFound`](polyscript_core::Error::EntryPointNotFound)
//! listing the exports that can be called, an import the evaluator cannot
//! provide (WASI while WASI is off, an unregistered host function, a kernel
//! function from a newer PDK) is [`Error::Compile`](polyscript_core::Error::Compile)
//! naming every one, invalid bytes are `Error::Compile` too.
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
//! `Error::InvalidData` too (never replaced with U+FFFD). Plain text and raw
//! bytes can go in and out instead ([`InputMode`], [`OutputMode`]). A guest
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
//!
//! // Any other export of the same compiled module, for one call.
//! let ctx = EvalContext::with_data(json!({"input": "an input"}))?.with_entry_point("count_vowels");
//! assert_eq!(evaluator.eval(&ctx)?.value()["count"], 3);
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! # WASI modules
//!
//! [`WasiEngine`] runs any WASI preview 1 module: the input on stdin (the
//! merged data as one JSON object by default), the result on stdout, a
//! non-zero exit or a trap is `Error::Runtime` carrying stderr; `_start` is
//! the entry point unless another export (taking and returning nothing) is
//! named. See [`WasiEngine`] for the contract and an example.
//!
//! A module whose `_start` ends with `proc_exit` (Zig's always does; C and
//! Rust ones only for a non-zero status) leaves through a wasmtime error on
//! every eval, and with `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` set, each
//! such error captures a std backtrace: about 95 000 instructions, two and a
//! half times the rest of a short eval. Services should run with
//! `RUST_LIB_BACKTRACE=0` (panics still print theirs when `RUST_BACKTRACE`
//! asks for it).
//!
//! # What each engine supports
//!
//! | | Extism | WASI |
//! |---|---|---|
//! | input ([`InputMode`]) | `Json` (default): the merged data; `Text { key }`: a string's UTF-8 bytes; `Bytes { key }`: a string's bytes or a list of 0–255 | the same, on stdin |
//! | output ([`OutputMode`]) | `Json` (default): JSON, else UTF-8 as a string, else `InvalidData`; `Text`: UTF-8 verbatim; `Bytes`: [`Response::bytes`](polyscript_core::Response::bytes), value `null` | the same, from stdout (`Json` trims trailing white space from text) |
//! | entry point | any export `() -> i32` or `() -> ()`, per evaluator or per call | any export `() -> ()` (`_start` by default), per evaluator or per call; `_initialize` first for a reactor |
//! | instances | fresh per eval (default) or stateful ([`InstancePolicy`]) | fresh per eval |
//! | memory per instance | `max_pages` / `Limits::memory_bytes`, per call | `Limits::memory_bytes`, per call |
//! | fuel | `fuel(true)`: `Limits::operations` per call | on by default: `Limits::operations` per call |
//! | shared memory between instances | no (each plugin has its own kernel and module memories) | [`SharedMemory`] |
//! | host functions | imports from `polyscript` ([`EXTISM_HOST_NAMESPACE`]) and Extism's own ([`ExtismEngineBuilder::extism_function`]) | imports from `polyscript_host` ([`WASI_HOST_NAMESPACE`]) |
//! | WASI | [`ExtismEngineBuilder::wasi`] (off by default) | always |
//! | files | [`allow_path`](ExtismEngineBuilder::allow_path) / `_read_only`, WASI only (refused without it) | [`preopened_dir`](WasiEngineBuilder::preopened_dir) / `_read_only` |
//! | network | [`allow_host`](ExtismEngineBuilder::allow_host) for `http_request`, with the `http` feature (refused at build without it); redirects not followed | none (WASI preview 1 has no sockets to open) |
//! | environment, arguments | none (a plugin has [`config`](ExtismEngineBuilder::config) keys) | [`env`](WasiEngineBuilder::env), [`arg`](WasiEngineBuilder::arg) |
//! | compilers ([`Compiler`]) | optimizing | optimizing, baseline |
//!
//! Every grant either works or is refused when the evaluator is built.
//!
//! # Runtimes: thousands of evaluators in one process
//!
//! Both engines compile and instantiate on a [`WasmRuntime`]: one wasmtime
//! engine, one instance allocator, one epoch ticker thread, Extism's kernel
//! compiled once, and a compiled-module cache. Every evaluator built on a
//! runtime shares them; an evaluator adds only its compiled module (about
//! 25 KB resident and 2 memory mappings for a small module, measured with
//! 300 tenants in `tests/scale.rs`), and nothing else until it runs: an idle
//! fresh-policy instance holds no wasm instance. Without
//! [`ExtismEngineBuilder::runtime`] / [`WasiEngineBuilder::runtime`], engines
//! use a process-wide runtime for their fuel setting: Extism engines
//! [`WasmRuntime::shared`] (pooled for fresh instances, on-demand for
//! stateful ones), WASI engines [`WasmRuntime::shared_wasi`] (pooled, with
//! copy-on-write memory images off, which suits a module instantiated on
//! every eval). A process using both engines with the defaults holds two
//! pools; give both engines one runtime to share one.
//!
//! * **Pool size.** A pooled runtime reserves, up front, address space for
//!   [`max_instances`](WasmRuntimeBuilder::max_instances) instances alive at
//!   once across all its evaluators (an Extism instance takes two core
//!   instances and two memory slots, a WASI instance one of each), each
//!   memory up to [`max_memory_bytes`](WasmRuntimeBuilder::max_memory_bytes).
//!   Running out is `LimitExceeded(Memory)` saying so and naming the setting
//!   to change; so is a refused memory mapping (`vm.max_map_count`, `ulimit
//!   -v`) or a missing file descriptor (each module with data keeps one for
//!   its copy-on-write image: [`copy_on_write`](WasmRuntimeBuilder::copy_on_write)).
//! * **Compiled-module cache.** Identical bytes compiled on one runtime are
//!   compiled once and shared while any evaluator holds them (and the
//!   [`retain_compiled`](WasmRuntimeBuilder::retain_compiled) most recent a
//!   while longer). With [`cache_dir`](WasmRuntimeBuilder::cache_dir) a
//!   later process loads them instead of compiling: each file carries the
//!   SHA-256 of what it holds and is named by the module's content hash and
//!   the engine's compilation settings; a corrupt, truncated or stale file is
//!   recompiled and replaced, never loaded as is.
//! * **Compilers.** [`Compiler::Optimizing`] (Cranelift, default) or
//!   [`Compiler::Baseline`] (Winch: several times faster compiles, slower
//!   code; for cold starts, both engines).
//! * **`RUST_BACKTRACE`.** With `RUST_BACKTRACE=1`, every wasmtime error
//!   value captures a backtrace, and the unwinder searches the unwind tables
//!   of every module the process has loaded, so its cost grows with the
//!   number of evaluators. An Extism call makes none on its normal path
//!   (vendor/PATCHES.md, extism patch 8: 60 µs per eval at 10 000 loaded
//!   modules, where it was 28 ms), but a WASI module that ends
//!   with `proc_exit` (Zig's and some C runtimes' `_start` do, even for exit
//!   code 0) gets its exit code back from wasmtime-wasi as an error value:
//!   one backtrace per eval. A service that sets `RUST_BACKTRACE=1` for its
//!   panics should also set `RUST_LIB_BACKTRACE=0`, which keeps panic
//!   backtraces and turns off the captures in error values.
//!
//! # Instances and isolation
//!
//! [`InstancePolicy::Fresh`] (default) makes a new instance from the
//! compiled module for every eval, so nothing one eval leaves in memory or
//! globals reaches the next; [`InstancePolicy::Stateful`] (Extism) keeps each
//! pooled instance's state between evals. Each instance has its own memory
//! limit and fuel: a context's own `Limits` apply to the instance of its
//! eval, so one compiled module serves a 64 KiB instance and a 16 MiB one
//! side by side (`tests/instance_limits.rs`). WASI instances can share one
//! [`SharedMemory`] on purpose, coordinating with atomics (its docs give the
//! synchronisation rules).
//!
//! # Limits
//!
//! * **Timeout and cancellation.** The runtime's ticker advances the
//!   engine's epoch every 2 ms while evals run; each store's epoch callback
//!   checks *its own* eval's deadline and cancellation token and traps only
//!   that store: `Error::Timeout` / `Error::Cancelled`. Stopping one
//!   instance never interrupts another, so no call is ever re-run (Extism's
//!   own cancel handle bumps the epoch for every plugin on the engine; this
//!   engine used to re-run calls it had not stopped, up to 16 times, which
//!   would repeat a host function's side effects). Were a call ever
//!   interrupted while its eval was neither late nor cancelled, it fails
//!   with `Error::Runtime` saying so; it is not run again. The check covers
//!   the guest's initialisation (a start function, `_initialize`) too.
//! * **Memory.** `Limits::memory_bytes` (or [`ExtismEngineBuilder::max_pages`])
//!   caps each instance's linear memories. For an Extism plugin it counts
//!   the plugin's memory and what Extism's kernel grows beyond the fixed
//!   1 MiB it starts with (inputs, outputs, vars). A growth past the limit
//!   makes `memory.grow` return -1 (so an allocator that first asks for
//!   double what it needs can fall back to what it needs); an eval that then
//!   fails ends as `LimitExceeded(Memory)`.
//! * **Operations.** Fuel, when on: `LimitExceeded(Operations)`.
//! * **Call depth.** wasmtime's wasm stack; running out is
//!   `LimitExceeded(CallDepth)` (or a trap the guest's own shadow stack
//!   causes first).
//!
//! **What data costs a guest.** The memory limit bounds the guest, and the
//! guest holds its input: an Extism plugin's input is copied into Extism's
//! kernel memory, then by the PDK into the plugin's own memory, and its
//! output is written back to the kernel: about 3 times the data, plus what
//! the guest makes of it (an AssemblyScript string is UTF-16: twice the
//! UTF-8 size, and parsing copies again). The test plugin's `echo` scans the
//! bytes and needs about its input's size; the Zig WASI guest reads stdin
//! into memory grown to the input's size (a doubling buffer needed up to
//! three times it). With these, a 10 MB string runs within the default
//! 64 MiB limit in both engines (`tests/instance_limits.rs`).
//!
//! # Host functions
//!
//! One [`HostFunctions`](polyscript_core::host::HostFunctions) registry,
//! given with `.host_functions(registry)` on either builder, is what guests
//! may call; a module importing a name the registry does not have is refused
//! when the evaluator is built. Arguments go as a JSON array, results come
//! back as JSON, both within the eval's data bounds.
//!
//! * **Extism:** `(import "polyscript" "NAME" (func (param i64) (result i64)))`
//!   takes the Extism memory offset of the arguments and returns the offset
//!   of exactly `{"ok":RESULT}` or `{"error":"NAME: MESSAGE"}` (what the
//!   PDKs' `Memory` reads; `guests/plugin/assembly/host.ts`).
//! * **WASI:** `(import "polyscript_host" "NAME" (func (param $args i32) (param $len i32) (result i32)))`
//!   returns 0 with the JSON result pending, or 1 with the error message
//!   pending; `polyscript_host_result::len() -> i32` gives the pending
//!   result's length and `polyscript_host_result::read(dst: i32)` copies it
//!   into the module's `memory` export (two steps because the module owns
//!   its allocator; `guests/wasi/src/host.zig`).
//!
//! A host function's error (or panic, or wrong arguments) is returned to the
//! guest as an error it can handle; a guest that does not handle it fails
//! the eval with `Error::Runtime` carrying `NAME: MESSAGE`. A call made after
//! the deadline or cancellation, or one that outlasted the deadline, traps:
//! the eval ends with `Timeout` / `Cancelled`. Panics are caught before they
//! reach wasm frames.
//!
//! **Sandbox.** Nothing is granted by default: no WASI for plugins, no
//! directory, no host for `http_request`, no environment, no host function.
#![cfg_attr(docsrs, feature(doc_cfg))]
// `unsafe` only in the modules allowed below, each block with its SAFETY note.
#![deny(unsafe_code)]

// Deserializing compiled modules whose bytes were checked against their hash.
#[allow(unsafe_code)]
mod cache;
// Host calls reach the running eval through a pointer published per thread, and read shared memory.
#[allow(unsafe_code)]
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
// Shared memory read and written as plain bytes while guests may run.
#[allow(unsafe_code)]
mod wasi;
#[cfg(feature = "wasi")]
#[cfg_attr(docsrs, doc(cfg(feature = "wasi")))]
pub use wasi::*;
