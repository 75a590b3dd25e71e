//! The generic [`Evaluator`]: a compiled program, a pool of instances and a
//! data provider, shareable across threads.

use crate::clock::Instant;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::any::AnyEvaluator;
use crate::async_eval;
use crate::context::EvalContext;
use crate::engine::{Engine, EngineKind, Guard};
use crate::error::{Error, Result, panic_message};
use crate::input::EvalInput;
use crate::limits::Limits;
use crate::pool::{Pool, PoolConfig, PoolStats};
use crate::provider::{CompositeProvider, ContextProvider, Provider, StaticProvider, to_data_map};
use crate::response::Response;
use crate::script_id::ScriptId;
use crate::source::{Origin, Source};

/// Compile once, evaluate many times, from many threads.
///
/// Built with [`Evaluator::builder`] (or [`Evaluator::new`]); the script is
/// compiled while building, so every compile error surfaces there. Cloning is
/// cheap (shared state); `Evaluator<E>` is `Send + Sync`.
pub struct Evaluator<E: Engine> {
    shared: Arc<Shared<E>>,
}

impl<E: Engine> Clone for Evaluator<E> {
    fn clone(&self) -> Self {
        Evaluator {
            shared: Arc::clone(&self.shared),
        }
    }
}

pub(crate) struct Shared<E: Engine> {
    engine: Arc<E>,
    program: Arc<E::Program>,
    pool: Pool<E::Instance>,
    provider: Arc<dyn Provider>,
    limits: Limits,
    script_id: ScriptId,
    origin: Origin,
    kind: EngineKind,
    /// How long `eval_async`'s recent evals took: whether its future spins
    /// for the result (see `async_eval::spin_wait`).
    recent_async: async_eval::RecentEvalTime,
}

impl<E: Engine> Evaluator<E> {
    /// Compiles `source` with `engine`, using a [`ContextProvider`], default
    /// limits and a default pool.
    pub fn new(engine: E, source: Source) -> Result<Self> {
        Self::builder(engine, source).build()
    }

    /// Starts configuring an evaluator of `source` on `engine`.
    pub fn builder(engine: E, source: Source) -> EvaluatorBuilder<E> {
        EvaluatorBuilder {
            engine,
            source,
            limits: Limits::default(),
            pool: PoolConfig::default(),
            provider: None,
            static_data: None,
        }
    }

    /// Runs the script once with the data `ctx` provides.
    pub fn eval(&self, ctx: &EvalContext) -> Result<Response> {
        self.shared.eval(ctx)
    }

    /// Runs the script once, as a future that never blocks the thread that
    /// polls it: waiting for a busy pool is asynchronous, and the script runs
    /// on one of polyscript's eval threads (see [`AnyEvaluator::eval_async`]
    /// for the details). Dropping the future cancels the eval.
    pub fn eval_async(
        &self,
        ctx: EvalContext,
    ) -> impl std::future::Future<Output = Result<Response>> + Send + 'static {
        Arc::clone(&self.shared).eval_async(ctx)
    }

    /// Adds `data` (any serde value that serializes to a map) to `ctx` through
    /// this evaluator's provider: go-polyscript's `AddDataToContext`. Empty
    /// keys and data the provider cannot hold are errors, never dropped.
    pub fn prepare(&self, ctx: EvalContext, data: impl Serialize) -> Result<EvalContext> {
        self.shared.prepare(ctx, to_data_map(data)?)
    }

    /// The script's content id.
    pub fn script_id(&self) -> ScriptId {
        self.shared.script_id
    }

    /// Where the script came from.
    pub fn origin(&self) -> &Origin {
        &self.shared.origin
    }

    /// Which engine runs it.
    pub fn engine(&self) -> EngineKind {
        self.shared.kind
    }

    /// The engine value (for engine-specific inspection).
    pub fn engine_impl(&self) -> &E {
        &self.shared.engine
    }

    /// The evaluator's default limits.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// The instance pool's counters.
    pub fn pool_stats(&self) -> PoolStats {
        self.shared.pool.stats()
    }

    /// Creates one new instance outside the pool (to measure instantiation,
    /// or to drive an instance by hand through the engine's own API).
    pub fn instantiate(&self) -> Result<E::Instance> {
        self.shared
            .engine
            .instantiate(&self.shared.program, &self.shared.limits)
    }

    /// The compiled program shared by all instances.
    pub fn program(&self) -> &E::Program {
        &self.shared.program
    }

    /// The instance pool itself (acquire an instance, `with_instance`).
    pub fn pool(&self) -> &Pool<E::Instance> {
        &self.shared.pool
    }

    /// Erases the engine type: the result is what [`AnyEvaluator`] callers use.
    pub fn into_any(self) -> AnyEvaluator {
        AnyEvaluator::from_shared(self.shared)
    }
}

impl<E: Engine> From<Evaluator<E>> for AnyEvaluator {
    fn from(evaluator: Evaluator<E>) -> Self {
        evaluator.into_any()
    }
}

impl<E: Engine> Shared<E> {
    pub(crate) fn eval(&self, ctx: &EvalContext) -> Result<Response> {
        let start = Instant::now();
        // Only with a tracing subscriber installed: tracing's `log` feature
        // (enabled by a WASI dependency) otherwise makes every span ask the
        // `log` crate whether to print it, on every eval.
        let _span = tracing::dispatcher::has_been_set().then(|| {
            tracing::debug_span!("eval", engine = %self.kind, script_id = %self.script_id).entered()
        });
        let input = self.provider.input(ctx)?;
        let guard = self.guard(ctx, start)?;
        let wait = self.acquire_wait(&guard, start)?;
        let mut instance = self.pool.acquire_timeout(wait)?;
        let (outcome, discard) = self.run(&mut instance, &input, &guard, start);
        if discard {
            instance.discard();
        }
        outcome
    }

    /// The eval's guard: the context's limits (or the evaluator's), deadline,
    /// token, host data and entry point. Refuses an entry point the engine
    /// cannot honour.
    fn guard<'a>(&self, ctx: &'a EvalContext, start: Instant) -> Result<Guard<'a>> {
        let limits = ctx.limits().copied().unwrap_or(self.limits);
        let mut guard = Guard::starting_at(
            self.kind,
            self.script_id,
            limits,
            ctx.deadline(),
            ctx.cancel_token(),
            start,
        );
        if !ctx.host_data().is_empty() {
            guard = guard.with_host_data(ctx.host_data());
        }
        if let Some(entry) = ctx.entry_point() {
            if !self.engine.supports_entry_points() {
                return Err(Error::Unsupported {
                    message: format!(
                        "the {} engine has no entry points to choose from (asked for `{entry}`)",
                        self.kind
                    ),
                });
            }
            guard = guard.with_entry_point(entry);
        }
        Ok(guard)
    }

    /// How long to wait for an instance: the pool's acquire timeout, cut
    /// short by the deadline. Already cancelled or late: the error.
    fn acquire_wait(&self, guard: &Guard<'_>, start: Instant) -> Result<Duration> {
        // Checked against `start` rather than with `guard.check()`: one clock
        // read fewer per eval on the hot path.
        if guard.cancel_token().is_cancelled() {
            return Err(guard.cancelled_error());
        }
        let acquire_timeout = self.pool.config().acquire_timeout;
        match guard.deadline() {
            Some(deadline) if deadline <= start => Err(guard.timeout_error()),
            Some(deadline) => Ok((deadline - start).min(acquire_timeout)),
            None => Ok(acquire_timeout),
        }
    }

    /// Runs the engine once on `instance`, catching a panic; also says
    /// whether the instance must be discarded.
    fn run(
        &self,
        instance: &mut E::Instance,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
        start: Instant,
    ) -> (Result<Response>, bool) {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.engine
                .eval_output(instance, &self.program, input, guard)
        }));
        match outcome {
            Ok(Ok(output)) => (
                Ok(Response::from_output(
                    output,
                    self.script_id,
                    self.kind,
                    start.elapsed(),
                )),
                false,
            ),
            Ok(Err(err)) => {
                let discard = self.engine.discard_after(&err);
                tracing::debug!(error = %err, "eval failed");
                (Err(err), discard)
            }
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                tracing::warn!(%message, "engine panicked; instance discarded");
                (
                    Err(Error::EnginePanic {
                        engine: self.kind,
                        script_id: self.script_id,
                        message,
                    }),
                    true,
                )
            }
        }
    }

    /// `eval` as a future that never blocks its poller: the instance is
    /// waited for asynchronously and the eval runs on an eval thread (see
    /// `async_eval`).
    pub(crate) async fn eval_async(self: Arc<Self>, ctx: EvalContext) -> Result<Response> {
        let start = Instant::now();
        let (ctx, cancel_on_drop) = async_eval::detach(ctx);
        let wait = {
            let guard = self.guard(&ctx, start)?;
            self.acquire_wait(&guard, start)?
        };
        let permit = self.pool.acquire_async(wait).await?;
        let shared = Arc::clone(&self);
        let outcome = async_eval::run_on_worker(
            move || {
                let mut instance = shared.pool.instance_for(permit)?;
                let result = shared.provider.input(&ctx).and_then(|input| {
                    let guard = shared.guard(&ctx, start)?;
                    let (outcome, discard) = shared.run(&mut instance, &input, &guard, start);
                    Ok((outcome, discard))
                });
                match result {
                    Ok((outcome, discard)) => {
                        shared.pool.give_back(instance, discard);
                        outcome
                    }
                    Err(err) => {
                        shared.pool.give_back(instance, false);
                        Err(err)
                    }
                }
            },
            &self.recent_async,
        )
        .await;
        cancel_on_drop.disarm();
        outcome
    }

    pub(crate) fn prepare(&self, ctx: EvalContext, data: crate::Map) -> Result<EvalContext> {
        self.provider.add_data(ctx, data)
    }

    pub(crate) fn script_id(&self) -> ScriptId {
        self.script_id
    }

    pub(crate) fn kind(&self) -> EngineKind {
        self.kind
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(crate) fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }
}

impl<E: Engine> fmt::Debug for Evaluator<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evaluator")
            .field("engine", &self.shared.kind)
            .field("script_id", &self.shared.script_id)
            .field("origin", &self.shared.origin)
            .finish_non_exhaustive()
    }
}

/// Configures and builds an [`Evaluator`].
#[must_use]
pub struct EvaluatorBuilder<E: Engine> {
    engine: E,
    source: Source,
    limits: Limits,
    pool: PoolConfig,
    provider: Option<Arc<dyn Provider>>,
    static_data: Option<Result<StaticProvider>>,
}

impl<E: Engine> EvaluatorBuilder<E> {
    /// Limits for every eval (a context's own limits override them per call).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Instance pool sizing.
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// Where input data comes from (default: a [`ContextProvider`]).
    pub fn provider(mut self, provider: impl Provider + 'static) -> Self {
        self.provider = Some(Arc::new(provider));
        self
    }

    /// Fixed data every eval sees, merged under per-call data (go-polyscript's
    /// `...WithData` constructors): a [`CompositeProvider`] of a
    /// [`StaticProvider`] and then the configured (or a context) provider, so
    /// `prepare` still accepts runtime data and per-call values win.
    pub fn static_data(mut self, data: impl Serialize) -> Self {
        self.static_data = Some(StaticProvider::new(data));
        self
    }

    /// Compiles the script and fills the pool's minimum idle instances.
    pub fn build(self) -> Result<Evaluator<E>> {
        // The eval clock calibrates itself on first use (once per process,
        // under a millisecond): here, not in the first eval.
        let _ = Instant::now();
        let kind = self.engine.kind();
        let script_id = self.source.id();
        let provider: Arc<dyn Provider> = match (self.static_data, self.provider) {
            (None, Some(provider)) => provider,
            (None, None) => Arc::new(ContextProvider::new()),
            (Some(static_data), provider) => Arc::new(
                CompositeProvider::new()
                    .with(static_data?)
                    .with_shared(provider.unwrap_or_else(|| Arc::new(ContextProvider::new()))),
            ),
        };
        let program = {
            let _span = tracing::debug_span!("compile", engine = %kind, script_id = %script_id, origin = %self.source.origin()).entered();
            Arc::new(self.engine.compile(&self.source, &self.limits)?)
        };
        let engine = Arc::new(self.engine);
        let pool = {
            let engine = Arc::clone(&engine);
            let program = Arc::clone(&program);
            let limits = self.limits;
            Pool::new(self.pool, kind, script_id, move || {
                engine.instantiate(&program, &limits)
            })?
        };
        Ok(Evaluator {
            shared: Arc::new(Shared {
                engine,
                program,
                pool,
                provider,
                limits: self.limits,
                script_id,
                origin: self.source.origin().clone(),
                recent_async: async_eval::RecentEvalTime::default(),
                kind,
            }),
        })
    }
}
