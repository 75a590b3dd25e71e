//! Plain WASI (preview1) command modules run with wasmtime.

mod builder;
mod engine;
mod program;
mod run;
mod runtime;
mod state;

pub use builder::{
    DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_STDERR_BYTES, MAX_ERROR_MESSAGE_BYTES, WasiEngine,
    WasiEngineBuilder,
};
pub use engine::WasiInstance;
pub use program::WasiProgram;
pub use runtime::MAX_CONCURRENT_INSTANCES;
