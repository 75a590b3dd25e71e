//! Plain WASI (preview1) modules run with wasmtime.

mod builder;
mod engine;
mod program;
mod run;
mod shared_memory;
mod state;

pub use builder::{
    DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_STDERR_BYTES, MAX_ERROR_MESSAGE_BYTES, WasiEngine,
    WasiEngineBuilder,
};
pub use engine::WasiInstance;
pub use program::WasiProgram;
pub use shared_memory::SharedMemory;

pub(crate) use state::EvalState;

use wasmtime::Linker;

use crate::WasmRuntime;

/// The WASI preview 1 linker of a runtime (built once per runtime).
pub(crate) type Linking = Linker<EvalState>;

/// `runtime`'s linker with WASI preview 1 defined, shared by every module
/// compiled on it (a module importing host functions or a shared memory
/// gets a copy with those added).
pub(crate) fn runtime_linker(runtime: &WasmRuntime) -> Result<&Linking, String> {
    runtime
        .inner()
        .wasi_linker
        .get_or_init(|| {
            let mut linker = Linker::new(runtime.engine());
            wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut EvalState| {
                &mut state.wasi
            })
            .map_err(|e| format!("cannot link WASI preview1: {e:#}"))?;
            Ok(linker)
        })
        .as_ref()
        .map_err(Clone::clone)
}
