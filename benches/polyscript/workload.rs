//! go-polyscript's greeting workload, in every engine's language.

use serde_json::{Value, json};

pub const RHAI: &str = r#"let greeting = "Hello, " + ctx.name + "!";
#{ greeting: greeting, length: greeting.len() }"#;

pub const LUA: &str = r#"local greeting = "Hello, " .. ctx.name .. "!"
return { greeting = greeting, length = #greeting }"#;

pub const JS: &str = r#"const greeting = "Hello, " + ctx.name + "!";
({ greeting: greeting, length: greeting.length })"#;

/// The Extism guest (its `greet` export) and the WASI greeting command.
pub const EXTISM_WASM: &[u8] =
    include_bytes!("../../polyscript-wasm/guests/plugin/build/plugin.wasm");
pub const EXTISM_ENTRY: &str = "greet";
/// The WASI command module greets when no `op` is given.
pub const WASI_WASM: &[u8] = include_bytes!("../../polyscript-wasm/guests/wasi/build/scripts.wasm");

pub fn input() -> Value {
    json!({"name": "World"})
}

pub fn expected() -> Value {
    json!({"greeting": "Hello, World!", "length": 13})
}

/// Fails the benchmark run loudly if an engine returns the wrong thing: a
/// fast wrong answer must never be reported as a result.
pub fn check(engine: &str, got: &Value) {
    assert_eq!(got, &expected(), "{engine} returned a wrong greeting");
}
