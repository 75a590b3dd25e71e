//! Compiling a WASI command module: validate, check `_start`, link once.

use polyscript_core::{EngineKind, Error, Result, Source};
use wasmtime::{ExternType, InstancePre, Module};

use super::builder::WasiConfig;
use super::runtime::Runtime;
use super::state::EvalState;
use crate::InstancePolicy;

/// The entry point of a WASI command.
pub(crate) const ENTRY_POINT: &str = "_start";

/// A compiled, linked WASI command module, shared by every eval: the module is
/// never recompiled and its imports are resolved once.
pub struct WasiProgram {
    pub(crate) runtime: &'static Runtime,
    pub(crate) pre: InstancePre<EvalState>,
    pub(crate) program_name: String,
}

impl std::fmt::Debug for WasiProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasiProgram")
            .field("program_name", &self.program_name)
            .field("fuel", &self.runtime.fuel())
            .finish_non_exhaustive()
    }
}

pub(crate) fn compile(config: &WasiConfig, source: &Source) -> Result<WasiProgram> {
    if config.policy == InstancePolicy::Stateful {
        return Err(Error::Unsupported {
            message: "a WASI command module runs `_start` once per instance, so \
                      InstancePolicy::Stateful is not meaningful for it; use \
                      InstancePolicy::Fresh (or an Extism plugin for stateful instances)"
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
    let runtime = Runtime::get(config.fuel)?;
    let compile_error = |message: String| Error::Compile {
        engine: EngineKind::Wasi,
        script_id: source.id(),
        message,
        location: None,
    };
    let module = Module::new(runtime.engine(), source.bytes())
        .map_err(|e| compile_error(format!("invalid WebAssembly module: {e:#}")))?;
    let has_start = module
        .exports()
        .any(|e| e.name() == ENTRY_POINT && matches!(e.ty(), ExternType::Func(_)));
    if !has_start {
        return Err(Error::EntryPointNotFound {
            engine: EngineKind::Wasi,
            script_id: source.id(),
            entry_point: ENTRY_POINT.into(),
            available: module.exports().map(|e| e.name().to_owned()).collect(),
        });
    }
    let pre = runtime.linker().instantiate_pre(&module).map_err(|e| {
        compile_error(format!(
            "the module imports something WASI preview1 does not provide: {e:#}"
        ))
    })?;
    let program_name = config.program_name.clone().unwrap_or_else(|| source.name());
    tracing::debug!(%program_name, fuel = runtime.fuel(), "WASI command module compiled");
    Ok(WasiProgram {
        runtime,
        pre,
        program_name,
    })
}
