//! [`WasmModuleInfo`]: what a module exports and imports, read without
//! compiling it (for tools such as `polyscript info`).

use wasmparser::{ExternalKind, Parser, Payload, TypeRef};

/// A WebAssembly module's exported functions and imported functions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasmModuleInfo {
    functions: Vec<String>,
    imports: Vec<(String, String)>,
}

impl WasmModuleInfo {
    /// Reads the import and export sections of `bytes` (a binary core
    /// module); `Err` says why they cannot be read.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut info = WasmModuleInfo::default();
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

    /// Exported function names, in module order.
    pub fn functions(&self) -> &[String] {
        &self.functions
    }

    /// `(module, name)` of every imported function.
    pub fn imports(&self) -> &[(String, String)] {
        &self.imports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exports_and_imports() {
        let plugin = include_bytes!("../guests/plugin/build/plugin.wasm");
        let info = WasmModuleInfo::parse(plugin).unwrap();
        assert!(info.functions().iter().any(|f| f == "greet"));
        assert!(info.imports().iter().any(|(m, _)| m == "extism:host/env"));
        assert!(WasmModuleInfo::parse(b"not wasm").is_err());
    }
}
