//! What a module imports and exports, read without compiling it.

use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

/// The import namespace of Extism's host functions (the PDK's ABI).
pub const EXTISM_NAMESPACE: &str = "extism:host/env";

/// A module's function exports and import namespaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ModuleInfo {
    /// Exported function names, in module order.
    pub functions: Vec<String>,
    /// `(namespace, name)` of every function import.
    pub imports: Vec<(String, String)>,
}

impl ModuleInfo {
    /// Parses the import and export sections of `bytes` (a binary module).
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut info = ModuleInfo::default();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(|e| e.to_string())? {
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(|e| e.to_string())?;
                        if matches!(import.ty, TypeRef::Func(_)) {
                            info.imports
                                .push((import.module.to_owned(), import.name.to_owned()));
                        }
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(|e| e.to_string())?;
                        if export.kind == ExternalKind::Func {
                            info.functions.push(export.name.to_owned());
                        }
                    }
                }
                Payload::ComponentSection { .. } | Payload::ModuleSection { .. } => {
                    return Err("components are not supported; expected a core module".into());
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// Whether any function is imported from Extism's host namespace.
    pub fn imports_extism(&self) -> bool {
        self.imports.iter().any(|(ns, _)| ns == EXTISM_NAMESPACE)
    }

    /// Whether `name` is an exported function.
    pub fn exports_function(&self, name: &str) -> bool {
        self.functions.iter().any(|f| f == name)
    }
}

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
    ModuleInfo::parse(bytes).is_ok_and(|info| info.imports_extism())
}
