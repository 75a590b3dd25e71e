//! The [`Engine`] implementation.

use polyscript_core::{
    Engine, EngineKind, EvalInput, Guard, Limits, Output, Result, Source, Value,
};

use super::builder::WasiEngine;
use super::program::{self, WasiProgram};
use super::run;

/// What the evaluator's pool holds for a WASI module: nothing but a slot.
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
        instance: &mut WasiInstance,
        program: &WasiProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        self.eval_output(instance, program, input, guard)
            .map(crate::io::into_value)
    }

    fn eval_output(
        &self,
        _instance: &mut WasiInstance,
        program: &WasiProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Output> {
        run::run(&self.config, program, input, guard)
    }

    /// Any exported function taking and returning nothing can be called
    /// instead of the configured entry point.
    fn supports_entry_points(&self) -> bool {
        true
    }
}
