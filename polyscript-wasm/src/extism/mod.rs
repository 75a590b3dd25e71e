//! Extism plugins (feature `extism`).
//!
//! A module is compiled once into an [`ExtismProgram`] on a shared
//! [`WasmRuntime`](crate::WasmRuntime); each eval calls an export on a plugin
//! made from it, with the merged data as JSON bytes. Deadlines and
//! cancellation stop a running guest through a per-plugin interrupt check
//! polled at every tick of the runtime's epoch ticker.

mod builder;
mod engine;
mod errors;
mod imports;
mod instance;
mod module_info;
mod program;

pub use builder::ExtismEngineBuilder;
pub use engine::ExtismEngine;
pub use instance::ExtismInstance;
pub use module_info::{EXTISM_NAMESPACE, is_extism_module};
pub use program::ExtismProgram;

/// Extism's host-function types, for [`ExtismEngineBuilder::extism_function`].
pub use extism::{CurrentPlugin, Function, PTR, UserData, Val, ValType};
