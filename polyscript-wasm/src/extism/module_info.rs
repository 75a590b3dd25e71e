//! Telling an Extism plugin from other modules, without compiling it.

use wasmparser::{Parser, Payload, TypeRef};

/// The import namespace of Extism's host functions (the PDK's ABI).
pub const EXTISM_NAMESPACE: &str = "extism:host/env";

/// Whether `bytes` is a WebAssembly module written against Extism's PDK: it
/// imports at least one function from the `extism:host/env` namespace.
/// Anything else (a WASI command, invalid bytes) is `false`.
///
/// ```
/// // A module with no imports is not an Extism plugin.
/// let empty = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/// assert!(!polyscript_wasm::is_extism_module(&empty));
/// assert!(!polyscript_wasm::is_extism_module(b"not wasm"));
/// ```
pub fn is_extism_module(bytes: &[u8]) -> bool {
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::ImportSection(reader)) => {
                for import in reader.into_imports() {
                    match import {
                        Ok(import)
                            if import.module == EXTISM_NAMESPACE
                                && matches!(import.ty, TypeRef::Func(_)) =>
                        {
                            return true;
                        }
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            }
            Ok(Payload::CodeSectionStart { .. }) => return false,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}
