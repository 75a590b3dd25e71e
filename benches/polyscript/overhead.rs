//! polyscript's own fixed cost per eval: an engine that does no work (its
//! eval returns `null`) behind a full evaluator with the default limits.
//! What this measures — the clock reads for the deadline and
//! `Response::exec_time`, the provider, the pool's acquire and release and
//! the panic guard — is in every engine's `run_many` figure and in none of
//! the raw baselines.

use std::hint::black_box;

use criterion::Criterion;
use polyscript::{
    Engine, EngineKind, EvalInput, Evaluator, Guard, Limits, Result, ScriptId, Source, Value,
};

use crate::engines::greeting_ctx;

/// Compiles to nothing and evaluates to `null`.
struct NoWork;

impl Engine for NoWork {
    type Program = ScriptId;
    type Instance = ();

    fn kind(&self) -> EngineKind {
        EngineKind::Rhai
    }

    fn compile(&self, source: &Source, _limits: &Limits) -> Result<ScriptId> {
        Ok(source.id())
    }

    fn instantiate(&self, _program: &ScriptId, _limits: &Limits) -> Result<()> {
        Ok(())
    }

    fn eval(
        &self,
        _: &mut (),
        _: &ScriptId,
        input: &EvalInput<'_>,
        _: &Guard<'_>,
    ) -> Result<Value> {
        black_box(input);
        Ok(Value::Null)
    }
}

pub fn bench(c: &mut Criterion) {
    let evaluator = Evaluator::new(NoWork, Source::from_text("")).expect("builds");
    let ctx = greeting_ctx();
    c.bench_function("eval/overhead", |b| {
        b.iter(|| black_box(evaluator.eval(&ctx).expect("evaluates")))
    });
}
