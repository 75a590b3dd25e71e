//! Extism plugins (feature `extism`).
//!
//! A module is compiled once into an [`ExtismProgram`]; each eval calls its
//! entry point on an [`ExtismInstance`] with the merged data as JSON bytes.
//! Deadlines and cancellation stop a running guest through Extism's cancel
//! handle, driven by one shared watchdog thread.

mod builder;
mod engine;
mod errors;
mod instance;
mod module_info;
mod pooling;
mod program;
mod watchdog;

pub use builder::ExtismEngineBuilder;
pub use engine::ExtismEngine;
pub use instance::ExtismInstance;
pub use module_info::{EXTISM_NAMESPACE, is_extism_module};
pub use pooling::MAX_CORE_INSTANCES_PER_PLUGIN;
pub use program::ExtismProgram;

/// Extism's host-function types, for [`ExtismEngineBuilder::host_function`].
pub use extism::{CurrentPlugin, Function, PTR, UserData, Val, ValType};
