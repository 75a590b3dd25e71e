//! One function per fuzzed surface. Each asserts what must hold for any
//! input — no panic, no abort, a typed error or the correct value — and
//! panics (which the fuzzer reports as a crash) when it does not.
//!
//! This module is shared: the libFuzzer binaries call [`run`], and the main
//! workspace's `tests/fuzz_seeds.rs` includes it (`#[path]`) to run every
//! seed and every saved regression on stable Rust.

// The engine surfaces need every engine; without them (the fuzz crate's
// `--no-default-features --features http`, CI's quick smoke) only the core's
// surfaces are built.
#[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
mod compile;
mod context;
#[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
mod convert;
#[cfg(feature = "http")]
mod http;
mod json;
mod loaders;
mod merge;
#[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
mod wasm;

use arbitrary::Unstructured;

/// Every target's name, as its binary and its corpus directory are named.
pub const TARGETS: &[&str] = &[
    "loaders",
    "http",
    "merge",
    "context_serde",
    "convert_rhai",
    "convert_lua",
    "convert_js",
    "convert_extism",
    "convert_wasi",
    "compile_rhai",
    "compile_lua",
    "compile_js",
    "wasm_module",
];

/// Runs the target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "loaders" => loaders::loaders(data),
        #[cfg(feature = "http")]
        "http" => {
            if let Ok(input) = Unstructured::new(data).arbitrary() {
                http::http(input);
            }
        }
        #[cfg(not(feature = "http"))]
        "http" => {}
        "merge" => {
            if let Ok(input) = Unstructured::new(data).arbitrary() {
                merge::merge(input);
            }
        }
        "context_serde" => context::context_serde(data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "convert_rhai" => convert::convert(convert::Target::Rhai, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "convert_lua" => convert::convert(convert::Target::Lua, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "convert_js" => convert::convert(convert::Target::Js, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "convert_extism" => convert::convert(convert::Target::Extism, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "convert_wasi" => convert::convert(convert::Target::Wasi, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "compile_rhai" => compile::compile(compile::Language::Rhai, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "compile_lua" => compile::compile(compile::Language::Lua, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "compile_js" => compile::compile(compile::Language::Js, data),
        #[cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]
        "wasm_module" => wasm::wasm_module(data),
        #[cfg(not(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm")))]
        "convert_rhai" | "convert_lua" | "convert_js" | "convert_extism" | "convert_wasi"
        | "compile_rhai" | "compile_lua" | "compile_js" | "wasm_module" => {
            panic!("the fuzz target {name} needs the engine features (rhai, lua, js, wasm)")
        }
        other => panic!("no fuzz target named {other}"),
    }
}
