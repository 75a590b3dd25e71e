//! What an Extism plugin may import, checked when the evaluator is built.

use wasmtime::{ExternType, ImportType, Module};

use super::builder::Settings;
use crate::host::extism::EXTISM_HOST_NAMESPACE;
use crate::imports::{self, WASI_NAMESPACE};

/// The functions Extism 1.30 defines in `extism:host/env` besides the
/// kernel's exports (its `relink`), with their types.
const BUILTINS: &[(&str, &str)] = &[
    ("config_get", "(i64) -> (i64)"),
    ("var_get", "(i64) -> (i64)"),
    ("var_set", "(i64 i64) -> ()"),
    ("http_request", "(i64 i64) -> (i64)"),
    ("http_status_code", "() -> (i32)"),
    ("http_headers", "() -> (i64)"),
    ("log_warn", "(i64) -> ()"),
    ("log_info", "(i64) -> ()"),
    ("log_debug", "(i64) -> ()"),
    ("log_error", "(i64) -> ()"),
    ("log_trace", "(i64) -> ()"),
    ("get_log_level", "() -> (i32)"),
];

/// The type every `polyscript::NAME` import must have.
const HOST_FUNCTION_TYPE: &str = "(i64) -> (i64)";

/// A function type as `(params) -> (results)`.
fn signature(
    params: impl Iterator<Item = String>,
    results: impl Iterator<Item = String>,
) -> String {
    format!(
        "({}) -> ({})",
        params.collect::<Vec<_>>().join(" "),
        results.collect::<Vec<_>>().join(" ")
    )
}

fn func_signature(ty: &wasmtime::FuncType) -> String {
    signature(
        ty.params().map(|t| t.to_string()),
        ty.results().map(|t| t.to_string()),
    )
}

/// Checks every import of `module`; returns the names of the host
/// functions it imports from the `polyscript` namespace.
pub(crate) fn check(
    settings: &Settings,
    module: &Module,
    kernel: &Module,
) -> Result<Vec<String>, String> {
    let mut host_names = Vec::new();
    imports::check(module, |import| {
        let func = match import.ty() {
            ExternType::Func(f) => func_signature(&f),
            _ if import.module() == WASI_NAMESPACE => {
                return imports::wasi_reason(import, settings.wasi, "");
            }
            _ => return Err("a plugin imports only functions".into()),
        };
        match import.module() {
            extism::EXTISM_ENV_MODULE => kernel_import(import, &func, kernel),
            WASI_NAMESPACE => {
                imports::wasi_reason(import, settings.wasi, "add ExtismEngineBuilder::wasi(true)")
            }
            EXTISM_HOST_NAMESPACE => {
                if !settings.host_functions.contains(import.name()) {
                    return Err(format!(
                        "no host function `{}` is registered; add it to the registry given to \
                         ExtismEngineBuilder::host_functions",
                        import.name()
                    ));
                }
                expect_type(&func, HOST_FUNCTION_TYPE)?;
                host_names.push(import.name().to_owned());
                Ok(())
            }
            namespace => extism_function(settings, import, namespace, &func),
        }
    })?;
    Ok(host_names)
}

fn kernel_import(import: &ImportType<'_>, func: &str, kernel: &Module) -> Result<(), String> {
    if let Some(export) = kernel.get_export(import.name()) {
        return match export.func() {
            Some(ty) => expect_type(func, &func_signature(ty)),
            None => Err("not a function of Extism's kernel".into()),
        };
    }
    match BUILTINS.iter().find(|(name, _)| *name == import.name()) {
        Some((_, ty)) => expect_type(func, ty),
        None => Err("Extism 1.30 does not provide it (the plugin's PDK may be newer)".into()),
    }
}

/// An import satisfied by a function written against Extism's API.
fn extism_function(
    settings: &Settings,
    import: &ImportType<'_>,
    namespace: &str,
    func: &str,
) -> Result<(), String> {
    let found = settings.functions.iter().find(|f| {
        f.name() == import.name()
            && f.namespace().unwrap_or(extism::EXTISM_USER_MODULE) == namespace
    });
    let Some(function) = found else {
        return Err(if namespace == extism::EXTISM_USER_MODULE {
            "no Extism host function of that name; add one with ExtismEngineBuilder::extism_function".into()
        } else {
            "nothing of that name is provided".into()
        });
    };
    let wasm = |types: &[extism::ValType]| {
        types
            .iter()
            .map(|t| wasmtime::ValType::from(t.clone()).to_string())
            .collect::<Vec<_>>()
            .into_iter()
    };
    let want = signature(wasm(function.params()), wasm(function.results()));
    expect_type(func, &want)
}

fn expect_type(got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("imported as {got}, provided as {want}"))
    }
}
