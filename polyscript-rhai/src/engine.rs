//! [`RhaiEngine`]: the [`Engine`] implementation.

use std::fmt;
use std::sync::{Arc, OnceLock};

use polyscript_core::alloc::{self, MemoryMeter};
use polyscript_core::data::{Budget, Direction};
use polyscript_core::host::HostFunctions;
use polyscript_core::{Engine, EngineKind, Error, EvalInput, Guard, Limits, Result, Source, Value};
use rhai::{AST, Dynamic, Scope};

use crate::budget::{self, Stopped, Trip};
use crate::builder::{Options, RhaiEngineBuilder};
use crate::reads::CtxReads;
use crate::setup::EngineLimits;
use crate::stack::{self, Sizes};
use crate::{convert, errors, host, setup, teardown, thread_engines};

/// The name under which scripts see their input.
pub const CTX: &str = "ctx";

/// The Rhai engine. Cheap to clone; `Send + Sync`.
///
/// Each compiled script gets a configured `rhai::Engine` (built once, at
/// compile time, to compile and validate it) and its `AST`; each pooled
/// instance its own copy of the `AST`. Evals run on an engine of this
/// configuration that the thread keeps (one per thread, not per script: see
/// `thread_engines`), set their limits on it and run the instance's `AST`
/// in a fresh `Scope`. Engines with the default options share one
/// configuration, so tenants built with [`RhaiEngine::new`] each still share
/// the thread's engine.
#[derive(Clone)]
pub struct RhaiEngine {
    options: Arc<Options>,
}

impl Default for RhaiEngine {
    fn default() -> Self {
        static DEFAULT: OnceLock<Arc<Options>> = OnceLock::new();
        RhaiEngine {
            options: DEFAULT.get_or_init(|| Arc::new(Options::default())).clone(),
        }
    }
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

    /// The engine of `options`: the shared default configuration when they
    /// are the defaults (so that such engines share the threads' engines).
    pub(crate) fn from_options(options: Options) -> Self {
        if options.is_default() {
            return Self::default();
        }
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
    /// The entries of `ctx` the script can read.
    reads: CtxReads,
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

/// A Rhai instance: its own copy of the script's `AST`; its evals run on an
/// engine the thread lends them (one per thread and configuration, see
/// `thread_engines`) and on the eval stack of the thread (see the crate
/// docs, "Limits").
///
/// Rhai keeps no state between runs of an `AST` (every eval gets a fresh
/// `Scope`), so sharing one `AST` between threads would be correct — but
/// with rhai's `sync` feature every eval then bumps `Arc` counters that all
/// threads share, and measured on 2 cores a shared engine + `AST` got
/// *slower* with a second thread (1.11 → 1.35 µs per eval) while per-thread
/// copies scaled 2× (0.55 µs per eval). So each pooled instance gets its own
/// copy of the already-validated script's statements when it is created
/// (the pool keeps it; evals never compile). A script with functions is
/// compiled again instead, as rhai offers no deep copy of them.
pub struct RhaiInstance {
    ast: AST,
    /// Which of the thread's engines runs it.
    kind: thread_engines::EngineKind,
}

impl fmt::Debug for RhaiInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RhaiInstance")
            .field("source", &self.ast.source())
            .finish_non_exhaustive()
    }
}

/// The kind of engine that runs `text`.
fn kind_for(options: &Options, text: &str) -> thread_engines::EngineKind {
    thread_engines::EngineKind {
        resolves_host: options.host.needs_resolver(text, options.allow_eval),
    }
}

/// Builds the configured engine and compiles `text` with it.
fn compile_with(
    options: &Options,
    script_id: polyscript_core::ScriptId,
    text: &str,
    name: &str,
) -> Result<(rhai::Engine, AST)> {
    let engine = setup::build_engine(options, kind_for(options, text).resolves_host);
    // `ctx` and `host` are declared for strict-variables mode. They are
    // plain variables here, not constants, so the optimizer cannot fold
    // these placeholders into the AST; evals push the real `ctx` as a
    // constant, and `host` is a variable of the host module (see `host`).
    let mut scope = Scope::new();
    scope.push_dynamic(CTX, Dynamic::UNIT);
    scope.push_dynamic(host::HOST, Dynamic::UNIT);
    let mut ast = engine
        .compile_with_scope(&scope, text)
        .map_err(|e| errors::compile(script_id, &e))?;
    ast.set_source(name);
    Ok((engine, ast))
}

/// Whether evals with `limits` are metered by the accounting allocator.
fn metered(limits: &Limits) -> bool {
    limits.memory_bytes.is_some() && alloc::is_installed()
}

impl Engine for RhaiEngine {
    type Program = RhaiProgram;
    type Instance = RhaiInstance;

    fn kind(&self) -> EngineKind {
        EngineKind::Rhai
    }

    fn compile(&self, source: &Source, _limits: &Limits) -> Result<RhaiProgram> {
        let text = source.text()?;
        let name = source.name();
        let (engine, ast) = compile_with(&self.options, source.id(), text, &name)?;
        // `eval` and free configuration can read `ctx` where the AST does
        // not show it.
        let reads = if self.options.allow_eval || self.options.configured_freely {
            CtxReads::All
        } else {
            CtxReads::of(&ast)
        };
        Ok(RhaiProgram {
            engine,
            ast,
            reads,
            text: text.to_owned(),
            name,
            script_id: source.id(),
        })
    }

    fn instantiate(&self, program: &RhaiProgram, _limits: &Limits) -> Result<RhaiInstance> {
        let ast = if program.ast.has_functions() {
            // Its own copy of the script's functions (rhai has no public
            // deep copy of them): every eval clones the `Arc`s of the
            // functions it calls, which must not be ones all threads share.
            compile_with(
                &self.options,
                program.script_id,
                &program.text,
                &program.name,
            )?
            .1
        } else {
            // The statements copied (not shared: the same reason) and a
            // fresh, empty function library, without parsing again.
            program.ast.clone_statements_only()
        };
        Ok(RhaiInstance {
            ast,
            kind: kind_for(&self.options, &program.text),
        })
    }

    fn eval(
        &self,
        instance: &mut RhaiInstance,
        program: &RhaiProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        let limits = guard.limits();
        let script_id = guard.script_id();
        let ctx = convert::to_rhai(input, &program.reads, &mut Budget::for_limits(limits))
            .map_err(|e| e.into_error(Direction::Input, EngineKind::Rhai, script_id))?;
        let metered = metered(limits);
        let mut lent = thread_engines::lend(&self.options, instance.kind);
        // This call's limits, on the thread's engine: a compare, and rhai's
        // setters only when they differ from the previous eval's there.
        let engine = lent.with_limits(EngineLimits::for_limits(limits, metered));
        let ast = &instance.ast;
        let sizes = Sizes::for_limits(limits, metered);
        let host = self.options.host.registry();
        let value = stack::run(sizes, !host.is_empty(), |floor| {
            run(engine, ast, ctx, guard, metered, floor, host)
        })?;
        drop(lent);
        let result = convert::from_rhai(&value, &mut Budget::for_limits(limits))
            .map_err(|e| e.into_error(Direction::Result, EngineKind::Rhai, script_id));
        teardown::dismantle([value]);
        result
    }

    /// Never: an instance keeps no script state between evals, so no error
    /// can leave it suspect (a panic still discards it, in the evaluator).
    fn discard_after(&self, _error: &Error) -> bool {
        false
    }
}

/// One eval on the instance's stack: runs the script under the budget,
/// takes apart everything it left (its scope; a thrown value is dropped on
/// this stack), and
/// turns a trip — remembered whatever the script or a built-in did with it —
/// or an error into the eval's error.
fn run(
    engine: &rhai::Engine,
    ast: &AST,
    ctx: Dynamic,
    guard: &Guard<'_>,
    metered: bool,
    stack_floor: usize,
    host: &HostFunctions,
) -> Result<Dynamic> {
    let meter = guard
        .limits()
        .memory_bytes
        .filter(|_| metered)
        .and_then(MemoryMeter::start);
    let installed = budget::install(guard, meter.as_ref(), stack_floor);
    let mut scope = Scope::new();
    scope.push_constant_dynamic(CTX, ctx);
    let outcome = engine.eval_ast_with_scope::<Dynamic>(&mut scope, ast);
    teardown::dismantle_scope(scope);
    let stopped = installed.finish();
    // Once more after the script returned: its last step may have allocated
    // after the last progress check.
    let stopped = stopped.or_else(|| {
        meter
            .as_ref()?
            .exceeded()
            .then_some(Stopped::Trip(Trip::Memory))
    });
    drop(meter);
    match (stopped, outcome) {
        (Some(stopped), _) => Err(errors::stopped(stopped, guard)),
        (None, Ok(value)) => Ok(value),
        (None, Err(error)) => Err(errors::eval(&error, guard, host)),
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
