//! WebAssembly engines for polyscript: Extism plugins (feature `extism`) and
//! plain WASI command modules (feature `wasi`).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod policy;
pub use policy::InstancePolicy;

#[cfg(feature = "extism")]
mod extism;
#[cfg(feature = "extism")]
#[cfg_attr(docsrs, doc(cfg(feature = "extism")))]
pub use extism::*;

#[cfg(feature = "wasi")]
mod wasi;
#[cfg(feature = "wasi")]
#[cfg_attr(docsrs, doc(cfg(feature = "wasi")))]
pub use wasi::*;
