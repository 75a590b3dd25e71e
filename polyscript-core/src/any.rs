//! [`AnyEvaluator`]: an evaluator whose engine is chosen at run time.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::async_eval::EvalFuture;
use crate::context::EvalContext;
use crate::engine::{Engine, EngineKind};
use crate::error::Result;
use crate::evaluator::Shared;
use crate::limits::Limits;
use crate::pool::PoolStats;
use crate::provider::to_data_map;
use crate::response::Response;
use crate::script_id::ScriptId;
use crate::source::Origin;
use crate::value::Map;

/// The object-safe face of an evaluator.
trait ErasedEvaluator: Send + Sync {
    fn eval(&self, ctx: &EvalContext) -> Result<Response>;
    fn eval_async(self: Arc<Self>, ctx: EvalContext) -> EvalFuture;
    fn prepare(&self, ctx: EvalContext, data: Map) -> Result<EvalContext>;
    fn script_id(&self) -> ScriptId;
    fn kind(&self) -> EngineKind;
    fn origin(&self) -> &Origin;
    fn limits(&self) -> &Limits;
    fn pool_stats(&self) -> PoolStats;
}

impl<E: Engine> ErasedEvaluator for Shared<E> {
    fn eval(&self, ctx: &EvalContext) -> Result<Response> {
        Shared::eval(self, ctx)
    }
    fn eval_async(self: Arc<Self>, ctx: EvalContext) -> EvalFuture {
        Box::pin(Shared::eval_async(self, ctx))
    }
    fn prepare(&self, ctx: EvalContext, data: Map) -> Result<EvalContext> {
        Shared::prepare(self, ctx, data)
    }
    fn script_id(&self) -> ScriptId {
        Shared::script_id(self)
    }
    fn kind(&self) -> EngineKind {
        Shared::kind(self)
    }
    fn origin(&self) -> &Origin {
        Shared::origin(self)
    }
    fn limits(&self) -> &Limits {
        Shared::limits(self)
    }
    fn pool_stats(&self) -> PoolStats {
        Shared::pool_stats(self)
    }
}

#[cfg(feature = "live")]
impl ErasedEvaluator for crate::live::LiveEvaluator {
    fn eval(&self, ctx: &EvalContext) -> Result<Response> {
        self.current_arc().eval(ctx)
    }
    fn eval_async(self: Arc<Self>, ctx: EvalContext) -> EvalFuture {
        self.current_arc().eval_async(ctx)
    }
    fn prepare(&self, ctx: EvalContext, data: Map) -> Result<EvalContext> {
        self.current_arc().prepare_map(ctx, data)
    }
    fn script_id(&self) -> ScriptId {
        self.current_arc().script_id()
    }
    fn kind(&self) -> EngineKind {
        self.current_arc().engine()
    }
    fn origin(&self) -> &Origin {
        self.origin_ref()
    }
    fn limits(&self) -> &Limits {
        self.limits_ref()
    }
    fn pool_stats(&self) -> PoolStats {
        self.current_arc().pool_stats()
    }
}

/// An evaluator of any engine: the same API whichever engine runs the script,
/// so switching languages changes one constructor call. `Send + Sync`,
/// cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct AnyEvaluator {
    inner: Arc<dyn ErasedEvaluator>,
}

impl AnyEvaluator {
    pub(crate) fn from_shared<E: Engine>(shared: Arc<Shared<E>>) -> Self {
        AnyEvaluator { inner: shared }
    }

    /// An evaluator that always runs `live`'s current version.
    #[cfg(feature = "live")]
    pub(crate) fn live(live: crate::live::LiveEvaluator) -> Self {
        AnyEvaluator {
            inner: Arc::new(live),
        }
    }

    /// Runs the script once with the data `ctx` provides.
    pub fn eval(&self, ctx: &EvalContext) -> Result<Response> {
        self.inner.eval(ctx)
    }

    /// Runs the script once, as a `Send + 'static` future that never blocks
    /// the thread that polls it. Works under any executor (tokio, async-std,
    /// a plain `block_on`).
    ///
    /// * Waiting for a busy pool is asynchronous and fair (oldest first),
    ///   and ends with [`Error::PoolExhausted`](crate::Error::PoolExhausted)
    ///   after the pool's acquire timeout, as [`eval`](Self::eval) does.
    /// * The script runs on one of polyscript's eval threads, under the same
    ///   deadline, limits and cancellation token as `eval`.
    /// * Dropping the future cancels the eval (the script stops at its next
    ///   check; the caller's token is not cancelled).
    ///
    /// ```
    /// # fn main() -> polyscript_core::Result<()> {
    /// # use polyscript_core::EvalContext;
    /// # fn demo(ev: polyscript_core::AnyEvaluator) -> polyscript_core::Result<()> {
    /// let ctx = EvalContext::with_data(serde_json::json!({"name": "World"}))?;
    /// let response = futures_lite::future::block_on(ev.eval_async(ctx))?;
    /// # let _ = response; Ok(()) }
    /// # Ok(()) }
    /// ```
    pub fn eval_async(&self, ctx: EvalContext) -> EvalFuture {
        Arc::clone(&self.inner).eval_async(ctx)
    }

    /// Adds `data` to `ctx` through the evaluator's provider
    /// (go-polyscript's `AddDataToContext`).
    pub fn prepare(&self, ctx: EvalContext, data: impl Serialize) -> Result<EvalContext> {
        self.inner.prepare(ctx, to_data_map(data)?)
    }

    /// [`prepare`](Self::prepare) for data that is already a [`Map`]: no serde
    /// round trip (the provider still validates keys).
    pub(crate) fn prepare_map(&self, ctx: EvalContext, data: Map) -> Result<EvalContext> {
        self.inner.prepare(ctx, data)
    }

    /// The script's content id.
    pub fn script_id(&self) -> ScriptId {
        self.inner.script_id()
    }

    /// Which engine runs it.
    pub fn engine(&self) -> EngineKind {
        self.inner.kind()
    }

    /// Where the script came from.
    pub fn origin(&self) -> &Origin {
        self.inner.origin()
    }

    /// The evaluator's default limits.
    pub fn limits(&self) -> &Limits {
        self.inner.limits()
    }

    /// The instance pool's counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool_stats()
    }
}

impl fmt::Debug for AnyEvaluator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyEvaluator")
            .field("engine", &self.engine())
            .field("script_id", &self.script_id())
            .field("origin", self.origin())
            .finish_non_exhaustive()
    }
}
