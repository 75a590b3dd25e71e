//! [`RhaiEngine`]: the [`Engine`] implementation.

use std::fmt;
use std::sync::Arc;

use polyscript_core::{Engine, EngineKind, Error, Guard, Limits, Map, Result, Source, Value};
use rhai::{AST, Dynamic, Scope};

use crate::builder::{Options, RhaiEngineBuilder};
use crate::{budget, convert, errors, setup};

/// The name under which scripts see their input.
pub const CTX: &str = "ctx";

/// The Rhai engine. Cheap to clone; `Send + Sync`.
///
/// Each compiled script gets its own configured `rhai::Engine` (built once,
/// at compile time, with the evaluator's limits) and its `AST`; evals only
/// run the `AST` in a fresh `Scope`.
#[derive(Clone, Default)]
pub struct RhaiEngine {
    options: Arc<Options>,
}

impl RhaiEngine {
    /// An engine with the default options (see [`RhaiEngineBuilder`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts configuring an engine.
    pub fn builder() -> RhaiEngineBuilder {
        RhaiEngineBuilder::new()
    }

    pub(crate) fn from_options(options: Options) -> Self {
        RhaiEngine {
            options: Arc::new(options),
        }
    }
}

impl fmt::Debug for RhaiEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RhaiEngine")
            .field("options", &self.options)
            .finish()
    }
}

/// A compiled Rhai script: its `AST` and the configured `rhai::Engine` it was
/// validated with, plus what an instance needs to build its own copy.
pub struct RhaiProgram {
    engine: rhai::Engine,
    ast: AST,
    text: String,
    name: String,
    script_id: polyscript_core::ScriptId,
}

impl RhaiProgram {
    /// The compiled script.
    pub fn ast(&self) -> &AST {
        &self.ast
    }

    /// The configured `rhai::Engine` that runs it.
    pub fn rhai_engine(&self) -> &rhai::Engine {
        &self.engine
    }
}

impl fmt::Debug for RhaiProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RhaiProgram")
            .field("source", &self.ast.source())
            .finish_non_exhaustive()
    }
}

/// A Rhai instance: its own configured `rhai::Engine` and its own `AST`.
///
/// Rhai keeps no state between runs of an `AST` (every eval gets a fresh
/// `Scope`), so sharing one engine and `AST` between threads would be correct
/// — but with rhai's `sync` feature every eval then bumps `Arc` counters that
/// all threads share, and measured on 2 cores a shared engine + `AST` got
/// *slower* with a second thread (1.11 → 1.35 µs per eval) while per-thread
/// copies scaled 2× (0.55 µs per eval). So each pooled instance builds its own
/// engine and compiles the already-validated script once, when it is created
/// (the pool keeps it; evals never compile).
pub struct RhaiInstance {
    engine: rhai::Engine,
    ast: AST,
}

impl fmt::Debug for RhaiInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RhaiInstance")
            .field("source", &self.ast.source())
            .finish_non_exhaustive()
    }
}

/// Builds the configured engine for `limits` and compiles `text` with it.
fn compile_with(
    options: &Options,
    limits: &Limits,
    script_id: polyscript_core::ScriptId,
    text: &str,
    name: &str,
) -> Result<(rhai::Engine, AST)> {
    let engine = setup::build_engine(options, limits, script_id);
    // `ctx` is declared for strict-variables mode. It is a plain variable
    // here, not a constant, so the optimizer cannot fold this placeholder
    // into the AST; evals push the real `ctx` as a constant.
    let mut scope = Scope::new();
    scope.push_dynamic(CTX, Dynamic::UNIT);
    let mut ast = engine
        .compile_with_scope(&scope, text)
        .map_err(|e| errors::compile(script_id, &e))?;
    ast.set_source(name);
    Ok((engine, ast))
}

impl Engine for RhaiEngine {
    type Program = RhaiProgram;
    type Instance = RhaiInstance;

    fn kind(&self) -> EngineKind {
        EngineKind::Rhai
    }

    fn compile(&self, source: &Source, limits: &Limits) -> Result<RhaiProgram> {
        let text = source.text()?;
        let name = source.name();
        let (engine, ast) = compile_with(&self.options, limits, source.id(), text, &name)?;
        Ok(RhaiProgram {
            engine,
            ast,
            text: text.to_owned(),
            name,
            script_id: source.id(),
        })
    }

    fn instantiate(&self, program: &RhaiProgram, limits: &Limits) -> Result<RhaiInstance> {
        let (engine, ast) = compile_with(
            &self.options,
            limits,
            program.script_id,
            &program.text,
            &program.name,
        )?;
        Ok(RhaiInstance { engine, ast })
    }

    fn eval(
        &self,
        instance: &mut RhaiInstance,
        _program: &RhaiProgram,
        input: &Map,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        let mut scope = Scope::new();
        scope.push_constant_dynamic(CTX, convert::to_rhai(input)?);
        // This call's operation budget, enforced by rhai itself. rhai reads
        // 0 as "no limit", so a budget of 0 operations becomes 1.
        instance
            .engine
            .set_max_operations(guard.limits().operations.map_or(0, |n| n.max(1)));
        let outcome = {
            let _budget = budget::install(guard);
            instance
                .engine
                .eval_ast_with_scope::<Dynamic>(&mut scope, &instance.ast)
        };
        match outcome {
            Ok(value) => convert::from_rhai(value, guard.script_id()),
            Err(error) => Err(errors::eval(&error, guard)),
        }
    }

    /// Never: an instance keeps no script state between evals, so no error
    /// can leave it suspect (a panic still discards it, in the evaluator).
    fn discard_after(&self, _error: &Error) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn engine_and_program_are_send_and_sync() {
        assert_send_sync::<RhaiEngine>();
        assert_send_sync::<RhaiProgram>();
        assert_send_sync::<RhaiInstance>();
    }
}
