//! Binding [`HostFunctions`](polyscript_core::host::HostFunctions) into WASM
//! guests: Extism imports from the `polyscript` namespace, and a small import
//! ABI for WASI modules. Both carry JSON, call the same registry through
//! [`call`], and end the eval (rather than return) when it must stop.

mod call;
pub(crate) mod scope;

#[cfg(feature = "extism")]
pub(crate) mod extism;
#[cfg(feature = "wasi")]
pub(crate) mod wasi;

pub(crate) use call::Stopped;
