//! The [`Engine`] implementation.

use polyscript_core::{Engine, EngineKind, Guard, Limits, Map, Result, Source, Value};

use super::builder::WasiEngine;
use super::program::{self, WasiProgram};
use super::run;

/// What the evaluator's pool holds for a WASI command: nothing but a slot.
/// Every eval instantiates the module afresh (microseconds with the pooling
/// allocator and copy-on-write memory), so no state is ever carried over.
#[derive(Debug, Default)]
pub struct WasiInstance {
    _private: (),
}

impl Engine for WasiEngine {
    type Program = WasiProgram;
    type Instance = WasiInstance;

    fn kind(&self) -> EngineKind {
        EngineKind::Wasi
    }

    fn compile(&self, source: &Source, _limits: &Limits) -> Result<WasiProgram> {
        program::compile(&self.config, source)
    }

    fn instantiate(&self, _program: &WasiProgram, _limits: &Limits) -> Result<WasiInstance> {
        Ok(WasiInstance::default())
    }

    fn eval(
        &self,
        _instance: &mut WasiInstance,
        program: &WasiProgram,
        input: &Map,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        run::run(&self.config, program, input, guard)
    }
}
