//! Many evaluators together: broadcast, pipeline and map-reduce, across
//! engines (a Lua step can feed a WASM step that feeds a JS step).
//!
//! Work runs on at most [`Coordinator::workers`] scoped threads (default: the
//! machine's cores); there is never a thread per item. The [`EvalContext`]'s
//! deadline, cancellation token and limits apply to every eval of the
//! operation, and once the token is cancelled no further evals start.

mod workers;

use std::fmt;
use std::sync::Arc;

use crate::any::AnyEvaluator;
use crate::context::EvalContext;
use crate::error::{Error, Result};
use crate::response::Response;
use crate::value::{Map, Value};

use workers::run_indexed;

/// Which part of a coordinated operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepKind {
    /// A pipeline stage.
    Stage,
    /// A map-reduce chunk.
    Chunk,
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepKind::Stage => "stage",
            StepKind::Chunk => "chunk",
        })
    }
}

type Mapper = Arc<dyn Fn(Value) -> Result<Map> + Send + Sync>;

/// One step of a [`pipeline`](Coordinator::pipeline): an evaluator and how its
/// output becomes the next stage's input.
#[derive(Clone)]
pub struct Stage {
    evaluator: AnyEvaluator,
    mapper: Option<Mapper>,
}

impl Stage {
    /// A stage whose map output is the next input as is; a non-map output is
    /// wrapped as `{"value": output}`.
    pub fn new(evaluator: AnyEvaluator) -> Self {
        Stage {
            evaluator,
            mapper: None,
        }
    }

    /// A stage whose output is turned into the next input by `mapper`.
    pub fn with_mapper(
        evaluator: AnyEvaluator,
        mapper: impl Fn(Value) -> Result<Map> + Send + Sync + 'static,
    ) -> Self {
        Stage {
            evaluator,
            mapper: Some(Arc::new(mapper)),
        }
    }

    /// The stage's evaluator.
    pub fn evaluator(&self) -> &AnyEvaluator {
        &self.evaluator
    }

    fn next_input(&self, output: Value) -> Result<Map> {
        match (&self.mapper, output) {
            (Some(mapper), output) => mapper(output),
            (None, Value::Object(map)) => Ok(map),
            (None, other) => {
                let mut map = Map::new();
                map.insert("value".to_owned(), other);
                Ok(map)
            }
        }
    }
}

impl fmt::Debug for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stage")
            .field("evaluator", &self.evaluator)
            .field("mapped", &self.mapper.is_some())
            .finish()
    }
}

/// Everything a pipeline run produced.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PipelineOutput {
    /// Each stage's response, in order; the last one is the result.
    pub responses: Vec<Response>,
}

impl PipelineOutput {
    /// The final stage's value.
    pub fn value(&self) -> &Value {
        self.responses
            .last()
            .map(Response::value)
            .unwrap_or(&Value::Null)
    }
}

/// Runs broadcasts, pipelines and map-reduces on a bounded number of workers.
#[derive(Debug, Clone, Copy)]
pub struct Coordinator {
    workers: usize,
}

impl Default for Coordinator {
    fn default() -> Self {
        Coordinator {
            workers: crate::cores::cores(),
        }
    }
}

impl Coordinator {
    /// A coordinator with one worker per available core.
    pub fn new() -> Self {
        Self::default()
    }

    /// A coordinator with `workers` worker threads (at least 1).
    pub fn with_workers(workers: usize) -> Self {
        Coordinator {
            workers: workers.max(1),
        }
    }

    /// The worker count.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Evaluates `ctx` on every evaluator in parallel. Results are in the
    /// evaluators' order, one `Result` each: a failure loses nothing else.
    pub fn broadcast(
        &self,
        evaluators: &[AnyEvaluator],
        ctx: &EvalContext,
    ) -> Vec<Result<Response>> {
        run_indexed(evaluators.len(), self.workers, ctx.cancel_token(), |i| {
            evaluators[i].eval(ctx)
        })
        .into_iter()
        .enumerate()
        .map(|(i, result)| result.unwrap_or_else(|| Err(cancelled(&evaluators[i]))))
        .collect()
    }

    /// Feeds `input` to the first stage, each stage's output to the next.
    /// `ctx` supplies the deadline, cancellation and limits; each stage's data
    /// goes in through that stage's own provider (`prepare`), so static data of
    /// a stage still applies. An error names the failing stage and its script.
    pub fn pipeline(
        &self,
        stages: &[Stage],
        ctx: &EvalContext,
        input: Map,
    ) -> Result<PipelineOutput> {
        let mut responses = Vec::with_capacity(stages.len());
        let mut data = input;
        for (index, stage) in stages.iter().enumerate() {
            let wrap = |source: Error| step_error(StepKind::Stage, index, &stage.evaluator, source);
            let stage_ctx = stage
                .evaluator
                .prepare_map(ctx.without_data(), std::mem::take(&mut data))
                .map_err(wrap)?;
            let response = stage.evaluator.eval(&stage_ctx).map_err(wrap)?;
            if index + 1 < stages.len() {
                data = stage.next_input(response.value().clone()).map_err(wrap)?;
            }
            responses.push(response);
        }
        Ok(PipelineOutput { responses })
    }

    /// Splits `items` into chunks of `chunk_size`, evaluates each chunk in
    /// parallel over `evaluator`'s pool with `{"items": [..chunk..]}` as the
    /// script's `ctx` (plus whatever `ctx` already holds), then folds the
    /// chunk results in order with `reduce`. The first failing chunk (in
    /// order) is the error, naming the chunk.
    pub fn map_reduce<A>(
        &self,
        evaluator: &AnyEvaluator,
        ctx: &EvalContext,
        items: &[Value],
        chunk_size: usize,
        init: A,
        mut reduce: impl FnMut(A, Value) -> Result<A>,
    ) -> Result<A> {
        if chunk_size == 0 {
            return Err(Error::invalid_data(
                "map_reduce chunk_size must be at least 1",
            ));
        }
        let chunks: Vec<&[Value]> = items.chunks(chunk_size).collect();
        let results = run_indexed(chunks.len(), self.workers, ctx.cancel_token(), |i| {
            let mut data = Map::new();
            data.insert("items".to_owned(), Value::Array(chunks[i].to_vec()));
            let chunk_ctx = evaluator.prepare_map(ctx.clone(), data)?;
            evaluator.eval(&chunk_ctx)
        });
        let mut acc = init;
        for (index, result) in results.into_iter().enumerate() {
            let response = result
                .unwrap_or_else(|| Err(cancelled(evaluator)))
                .map_err(|e| step_error(StepKind::Chunk, index, evaluator, e))?;
            acc = reduce(acc, response.into_value())?;
        }
        Ok(acc)
    }
}

fn cancelled(evaluator: &AnyEvaluator) -> Error {
    Error::Cancelled {
        engine: evaluator.engine(),
        script_id: evaluator.script_id(),
    }
}

fn step_error(kind: StepKind, index: usize, evaluator: &AnyEvaluator, source: Error) -> Error {
    Error::Step {
        kind,
        index,
        engine: evaluator.engine(),
        script_id: evaluator.script_id(),
        source: Box::new(source),
    }
}

/// [`Coordinator::broadcast`] with one worker per core.
pub fn broadcast(evaluators: &[AnyEvaluator], ctx: &EvalContext) -> Vec<Result<Response>> {
    Coordinator::new().broadcast(evaluators, ctx)
}

/// [`Coordinator::pipeline`] with the default coordinator.
pub fn pipeline(stages: &[Stage], ctx: &EvalContext, input: Map) -> Result<PipelineOutput> {
    Coordinator::new().pipeline(stages, ctx, input)
}

/// [`Coordinator::map_reduce`] with one worker per core.
pub fn map_reduce<A>(
    evaluator: &AnyEvaluator,
    ctx: &EvalContext,
    items: &[Value],
    chunk_size: usize,
    init: A,
    reduce: impl FnMut(A, Value) -> Result<A>,
) -> Result<A> {
    Coordinator::new().map_reduce(evaluator, ctx, items, chunk_size, init, reduce)
}
