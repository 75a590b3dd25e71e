//! Engine-neutral core of [polyscript](https://docs.rs/polyscript): load a
//! script or WebAssembly module, compile it once, evaluate it many times from
//! many threads against different data.
//!
//! * [`Engine`]: the trait each engine crate implements (compile → instantiate → eval).
//! * [`Evaluator`] / [`AnyEvaluator`]: a compiled program with an instance
//!   [`Pool`] and a [`Provider`]; `Send + Sync`, cheap to clone.
//! * [`EvalContext`]: per-call data, deadline, cancellation, limit overrides.
//! * [`Provider`]s: [`StaticProvider`], [`ContextProvider`], [`CompositeProvider`];
//!   engines read their data as an [`EvalInput`] (a composite's maps as
//!   layers, merged per key where the script reads them, never copied).
//! * Loaders: [`StringLoader`], [`BytesLoader`], [`FileLoader`],
//!   [`ReaderLoader`], `HttpLoader` (feature `http`), and [`infer`].
//! * [`Response`]: the result [`Value`], its [`ValueType`], typed
//!   `deserialize`, the [`ScriptId`], the engine and the time taken.
//! * [`Error`]: one enum for every failure, with engine, script id and
//!   location.
//! * [`data`]: the bounds on data crossing into and out of scripts (nesting,
//!   size, the number rule), shared by every engine.
//! * [`host`]: host functions, registered once ([`host::HostFunctions`]) and
//!   callable from every engine as `host.NAME(...)`.
//! * [`alloc`]: memory accounting ([`alloc::Accounting`], an opt-in global
//!   allocator) for engines that cannot count their own allocations.
//!
//! This crate never depends on an engine; engines depend on it.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The accounting allocator is the one place that needs `unsafe`.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod alloc;
mod any;
mod async_eval;
mod cancel;
pub mod clock;
mod context;
pub mod coordinate;
mod cores;
pub mod data;
mod engine;
mod error;
mod evaluator;
pub mod host;
mod input;
mod limits;
#[cfg(feature = "live")]
#[cfg_attr(docsrs, doc(cfg(feature = "live")))]
pub mod live;
pub mod loader;
mod pool;
mod provider;
mod response;
mod script_id;
mod source;
mod value;

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

pub use any::AnyEvaluator;
pub use async_eval::EvalFuture;
pub use cancel::CancelToken;
pub use context::EvalContext;
pub use coordinate::{
    Coordinator, PipelineOutput, Stage, StepKind, broadcast, map_reduce, pipeline,
};
pub use engine::{Engine, EngineKind, Guard, Output};
pub use error::{Error, LimitKind, Location, Result, panic_message};
pub use evaluator::{Evaluator, EvaluatorBuilder};
pub use input::EvalInput;
pub use limits::Limits;
pub use loader::{
    BytesLoader, DEFAULT_MAX_SOURCE_BYTES, FileLoader, Loader, ReaderLoader, StringLoader, infer,
};
#[cfg(feature = "http")]
pub use loader::{HttpAuth, HttpLoader};
pub use pool::{Pool, PoolConfig, PoolGuard, PoolStats};
pub use provider::{CompositeProvider, ContextProvider, Provider, StaticProvider, deep_merge};
pub use response::Response;
pub use script_id::{ParseScriptIdError, ScriptId};
pub use source::{Origin, Source};
pub use value::{Map, Value, ValueType};

/// Re-export of `serde_json` so engines and users name the same version.
pub use serde_json;
