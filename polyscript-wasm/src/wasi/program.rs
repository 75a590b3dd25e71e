//! Compiling a WASI module: compile (or share) it, check its entry point and
//! its imports, link it once.

use std::sync::Arc;

use polyscript_core::{EngineKind, Error, Result, Source};
use wasmtime::{ExternType, InstancePre, Linker, Module, Store};

use super::builder::WasiConfig;
use super::shared_memory;
use super::state::EvalState;
use crate::cache::CompiledModule;
use crate::host::wasi::{WASI_HOST_NAMESPACE, WASI_RESULT_NAMESPACE, is_abi_namespace};
use crate::imports::{self, WASI_NAMESPACE};
use crate::{InstancePolicy, WasmRuntime};

/// The entry point of a WASI command.
pub(crate) const START: &str = "_start";

/// The initialiser of a WASI reactor, called before any other export.
pub(crate) const INITIALIZE: &str = "_initialize";

/// A compiled, linked WASI module, shared by every eval: the module is never
/// recompiled and its imports are resolved once.
pub struct WasiProgram {
    pub(crate) runtime: WasmRuntime,
    /// Keeps the shared compiled module alive (the cache holds it weakly).
    _module: Arc<CompiledModule>,
    pub(crate) pre: InstancePre<EvalState>,
    pub(crate) program_name: String,
    /// The entry point each eval calls unless the context names another.
    pub(crate) entry_point: String,
    /// Exported functions taking and returning nothing: what can be called.
    pub(crate) callable: Vec<String>,
    /// Whether the module exports `_initialize` (a reactor).
    pub(crate) reactor: bool,
}

impl std::fmt::Debug for WasiProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiProgram")
            .field("program_name", &self.program_name)
            .field("entry_point", &self.entry_point)
            .field("fuel", &self.runtime.settings().fuel)
            .finish_non_exhaustive()
    }
}

impl WasiProgram {
    /// The entry point each eval calls unless its context names another.
    pub fn entry_point(&self) -> &str {
        &self.entry_point
    }

    /// The exported functions that can be entry points (no parameters, no
    /// results).
    pub fn callable_exports(&self) -> &[String] {
        &self.callable
    }

    /// The runtime the module is compiled on.
    pub fn runtime(&self) -> &WasmRuntime {
        &self.runtime
    }

    /// `name` if the module can be called through it, else
    /// `EntryPointNotFound` listing what can.
    pub(crate) fn check_entry_point(
        &self,
        name: &str,
        source: polyscript_core::ScriptId,
    ) -> Result<()> {
        if self.callable.iter().any(|c| c == name) {
            Ok(())
        } else {
            Err(Error::EntryPointNotFound {
                engine: EngineKind::Wasi,
                script_id: source,
                entry_point: name.to_owned(),
                available: self.callable.clone(),
            })
        }
    }
}

/// The runtime a configuration runs on, checked against its fuel setting
/// and its shared memory.
fn runtime(config: &WasiConfig) -> Result<WasmRuntime> {
    let runtime = match (&config.runtime, &config.shared_memory) {
        (Some(runtime), _) => runtime.clone(),
        (None, Some(memory)) => memory.runtime.clone(),
        (None, None) => WasmRuntime::shared_wasi(config.fuel)?,
    };
    if config.fuel && !runtime.settings().fuel {
        return Err(Error::Unsupported {
            message: "fuel is on for this WASI engine but its runtime does not meter fuel: \
                      build the runtime with WasmRuntimeBuilder::fuel(true) or turn fuel off"
                .into(),
        });
    }
    if let Some(memory) = &config.shared_memory
        && !WasmRuntime::same(&memory.runtime, &runtime)
    {
        return Err(Error::Unsupported {
            message: "the shared memory was created on another runtime than the engine's: \
                      give both the same WasmRuntime"
                .into(),
        });
    }
    Ok(runtime)
}

pub(crate) fn compile(config: &WasiConfig, source: &Source) -> Result<WasiProgram> {
    if config.policy == InstancePolicy::Stateful {
        return Err(Error::Unsupported {
            message: "a WASI module runs once per instance, so InstancePolicy::Stateful is not \
                      meaningful for it; use InstancePolicy::Fresh (or an Extism plugin for \
                      stateful instances)"
                .into(),
        });
    }
    for preopen in &config.preopens {
        if !preopen.host.is_dir() {
            return Err(Error::load(
                preopen.host.display(),
                "the directory granted to the WASI module does not exist",
            ));
        }
    }
    let runtime = runtime(config)?;
    let script_id = source.id();
    let compile_error = |message: String| Error::Compile {
        engine: EngineKind::Wasi,
        script_id,
        message,
        location: None,
    };
    let module = runtime.compile(source.bytes(), EngineKind::Wasi, script_id)?;
    let callable = callable_exports(&module.module);
    let entry_point = config
        .entry_point
        .clone()
        .unwrap_or_else(|| START.to_owned());
    if !callable.contains(&entry_point) {
        return Err(Error::EntryPointNotFound {
            engine: EngineKind::Wasi,
            script_id,
            entry_point,
            available: callable,
        });
    }
    let host_names = check_imports(config, &module.module).map_err(compile_error)?;
    if config.shared_memory.is_some() {
        let wasm = wat::parse_bytes(source.bytes()).map_err(|e| compile_error(e.to_string()))?;
        if let Some(why) = shared_memory::unsafe_for_sharing(&wasm) {
            return Err(compile_error(format!(
                "the module cannot run on a shared memory: {why}"
            )));
        }
    }
    let pre = link(&runtime, config, &module.module, &host_names, script_id)
        .map_err(|e| compile_error(format!("cannot link the module: {e}")))?;
    let program_name = config.program_name.clone().unwrap_or_else(|| source.name());
    tracing::debug!(%program_name, %entry_point, "WASI module compiled");
    Ok(WasiProgram {
        reactor: module.module.get_export(INITIALIZE).is_some(),
        runtime,
        _module: module,
        pre,
        program_name,
        entry_point,
        callable,
    })
}

/// Exported functions of type `() -> ()`.
fn callable_exports(module: &Module) -> Vec<String> {
    module
        .exports()
        .filter(|e| {
            e.ty()
                .func()
                .is_some_and(|f| f.params().len() == 0 && f.results().len() == 0)
        })
        .map(|e| e.name().to_owned())
        .collect()
}

/// Checks every import and returns the host functions the module imports.
fn check_imports(config: &WasiConfig, module: &Module) -> std::result::Result<Vec<String>, String> {
    let mut host_names = Vec::new();
    imports::check(module, |import| match import.module() {
        WASI_NAMESPACE => imports::wasi_reason(import, true, "unreachable"),
        WASI_HOST_NAMESPACE => {
            if !matches!(import.ty(), ExternType::Func(_)) {
                return Err("host functions are functions".into());
            }
            if config.host_functions.contains(import.name()) {
                host_names.push(import.name().to_owned());
                Ok(())
            } else {
                Err(format!(
                    "no host function `{}` is registered; add it to the registry given to \
                     WasiEngineBuilder::host_functions",
                    import.name()
                ))
            }
        }
        WASI_RESULT_NAMESPACE => match import.name() {
            "len" | "read" => Ok(()),
            _ => Err("the host result ABI has only `len` and `read`".into()),
        },
        _ => match (import.ty(), &config.shared_memory) {
            (ExternType::Memory(ty), Some(_)) if ty.is_shared() => Ok(()),
            (ExternType::Memory(ty), None) if ty.is_shared() => Err(
                "a shared memory: give the engine one with WasiEngineBuilder::shared_memory".into(),
            ),
            (ExternType::Memory(_), _) => Err(
                "an imported memory that is not shared; a WASI module defines its own memory"
                    .into(),
            ),
            _ => Err("nothing of that name is provided to WASI modules".into()),
        },
    })?;
    Ok(host_names)
}

/// Links the module once: WASI preview 1, the host ABI for the functions it
/// imports, the shared memory.
fn link(
    runtime: &WasmRuntime,
    config: &WasiConfig,
    module: &Module,
    host_names: &[String],
    script_id: polyscript_core::ScriptId,
) -> std::result::Result<InstancePre<EvalState>, String> {
    let base = super::runtime_linker(runtime)?;
    let needs_abi = module.imports().any(|i| is_abi_namespace(i.module()));
    if !needs_abi && config.shared_memory.is_none() {
        return base.instantiate_pre(module).map_err(|e| format!("{e:#}"));
    }
    let mut linker: Linker<EvalState> = base.clone();
    if needs_abi {
        crate::host::wasi::define(
            &mut linker,
            &config.host_functions,
            host_names.iter().map(String::as_str),
            script_id,
        )
        .map_err(|e| format!("{e:#}"))?;
    }
    if let Some(memory) = &config.shared_memory {
        // A shared memory belongs to the engine, not to a store; `define`
        // still asks for a store context, so a throw-away one is given.
        let store = Store::new(runtime.engine(), EvalState::placeholder());
        for import in module.imports() {
            if matches!(import.ty(), ExternType::Memory(ty) if ty.is_shared()) {
                linker
                    .define(
                        &store,
                        import.module(),
                        import.name(),
                        memory.memory.clone(),
                    )
                    .map_err(|e| format!("{e:#}"))?;
            }
        }
    }
    linker.instantiate_pre(module).map_err(|e| format!("{e:#}"))
}
