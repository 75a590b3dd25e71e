//! One boa `Context` with the script parsed and compiled once; lives on the
//! thread that made it (boa's GC heap is thread-local).

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use boa_engine::object::builtins::JsPromise;
use boa_engine::property::Attribute;
use boa_engine::{Context, JsError, JsValue, Script, Source as JsSource, js_string};
use polyscript_core::clock::Instant;
use polyscript_core::data::{Budget, Direction};
use polyscript_core::host::HostData;
use polyscript_core::{CancelToken, EvalInput, Guard, Limits, Value};

use crate::convert::{input, lazy, result};
use crate::engine::JsConfig;
use crate::failure::Failure;
use crate::globals::Globals;
use crate::interrupt::{self, Reason};
use crate::jobs::{self, Jobs, Settled};
use crate::lockdown::Tamed;
use crate::program::JsProgram;
use crate::watchdog::Slot;
use crate::{console, errors, host, lockdown, memory, stack};

/// Recursion limit used when `Limits::call_depth` is `None` (boa needs one:
/// native re-entry recurses on the Rust stack).
pub(crate) const UNLIMITED_CALL_DEPTH: usize = 4096;

thread_local! {
    /// How many boa contexts this thread has built (see [`contexts_built`]).
    static CONTEXTS_BUILT: Cell<u64> = const { Cell::new(0) };
}

/// How many boa contexts the calling thread has built so far (contexts of
/// dedicated-mode workers are built on their own threads): for tests and
/// measurements that check contexts are reused.
#[doc(hidden)]
pub fn contexts_built() -> u64 {
    CONTEXTS_BUILT.with(Cell::get)
}

/// What one eval needs, sent to the worker thread: the input and what the
/// worker rebuilds the caller's [`Guard`] from (see [`Request::guard`]).
pub(crate) struct Request {
    pub(crate) input: EvalInput<'static>,
    pub(crate) started: Instant,
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: CancelToken,
    pub(crate) limits: Limits,
    /// The context's host data (a shared pointer, or nothing).
    pub(crate) host_data: Option<HostData>,
}

impl Request {
    /// The request for an eval of `input` that `guard` describes. The
    /// worker owns its input: the call's data is copied, a static
    /// provider's map shared (see [`EvalInput::to_static`]).
    pub(crate) fn new(input: &EvalInput<'_>, guard: &Guard<'_>) -> Self {
        Request {
            input: input.to_static(),
            started: guard.started(),
            deadline: guard.deadline(),
            cancel: guard.cancel_token().clone(),
            limits: *guard.limits(),
            host_data: guard.host_data().cloned(),
        }
    }

    /// The caller's guard, rebuilt on the worker (the caller's borrows
    /// cannot cross threads, and a caller that gives a stuck worker up
    /// must leave it nothing that dangles): the same engine, script, start,
    /// deadline, token and host data. The deadline is given as the timeout
    /// from the start, so `limits().timeout` is the time the eval had.
    pub(crate) fn guard(&self, script_id: polyscript_core::ScriptId) -> Guard<'_> {
        let mut limits = self.limits;
        limits.timeout = self
            .deadline
            .map(|d| d.saturating_duration_since(self.started));
        let guard = Guard::starting_at(
            polyscript_core::EngineKind::JavaScript,
            script_id,
            limits,
            None,
            &self.cancel,
            self.started,
        );
        match &self.host_data {
            Some(data) => guard.with_host_data(data),
            None => guard,
        }
    }
}

/// An eval's outcome, and whether the instance is still clean.
pub(crate) struct Reply {
    pub(crate) outcome: Result<Value, Failure>,
    /// `false` when the global state could not be restored (or the eval was
    /// stopped mid-way): the worker stops and the instance is rebuilt.
    pub(crate) clean: bool,
}

/// The context, the global baseline and the interrupt plumbing: everything
/// but the scripts, which are compiled into it (see [`Runtime::compile`]).
/// One runtime serves every program whose scripts were compiled into it;
/// between evals nothing of one eval is left (see `Globals::restore`).
pub(crate) struct Runtime {
    context: Context,
    globals: Globals,
    jobs: Rc<Jobs>,
    /// The context's interrupt flag (boa's `set_interrupt_flag`).
    flag: Arc<AtomicBool>,
    /// The flag's watchdog registration.
    slot: Arc<Slot>,
    /// Built-in properties made accessors by the lockdown.
    tamed: Tamed,
    /// The host functions' binding (`None`: the engine has none).
    host: Option<Rc<host::Binding>>,
    /// The traps of a large input's lazy `ctx`.
    lazy: lazy::Handler,
}

impl Runtime {
    /// Builds the context, installs the sandbox globals and freezes the
    /// built-ins.
    pub(crate) fn new(config: &JsConfig) -> Result<Self, Failure> {
        let setup = |e: JsError| Failure::Panic(format!("cannot set up a boa context: {e}"));
        let jobs = Rc::new(Jobs::default());
        let mut context = Context::builder()
            .host_hooks(Rc::new(memory::SandboxHooks))
            .job_executor(Rc::clone(&jobs))
            .build()
            .map_err(setup)?;
        CONTEXTS_BUILT.with(|n| n.set(n.get() + 1));
        let flag = Arc::new(AtomicBool::new(false));
        context.set_interrupt_flag(Some(Arc::clone(&flag)));
        context
            .register_global_property(js_string!("ctx"), JsValue::undefined(), Attribute::WRITABLE)
            .map_err(setup)?;
        if config.console {
            console::install(&mut context).map_err(setup)?;
        }
        memory::install(&mut context, polyscript_core::alloc::is_installed()).map_err(setup)?;
        let tamed = lockdown::freeze_builtins(&mut context, &["ctx"]).map_err(setup)?;
        let host = host::install(&mut context, &config.host_functions).map_err(setup)?;
        let lazy = lazy::Handler::new(&mut context).map_err(setup)?;
        let globals = Globals::lock(&mut context).map_err(setup)?;
        let slot = Slot::new(Arc::clone(&flag));
        Ok(Runtime {
            context,
            globals,
            jobs,
            flag,
            slot,
            tamed,
            host,
            lazy,
        })
    }

    /// Parses and compiles `program`'s script to bytecode in this context
    /// (once per program and context; evals run the result). Runs no script
    /// code.
    pub(crate) fn compile(&mut self, program: &JsProgram) -> Result<Script, Failure> {
        let path = Path::new(&program.origin);
        let source = JsSource::from_bytes(program.wrapped.as_bytes()).with_path(path);
        let context = &mut self.context;
        let script = stack::for_compile(|| {
            Script::parse(source, None, context)
                .and_then(|script| script.codeblock(context).map(|_| script))
        })
        .map_err(|e| Failure::Compile(e.to_string(), None))?;
        // Compiling may declare bindings in the realm's scope; no eval ran
        // since the last restore, so the count now is the clean baseline.
        self.globals.rebase(&mut self.context);
        Ok(script)
    }

    /// Runs `script` (compiled by [`compile`](Self::compile) for `program`)
    /// once with `input` for the eval `guard` describes, then restores the
    /// globals.
    pub(crate) fn eval(
        &mut self,
        script: &Script,
        program: &JsProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Reply {
        let limits = *guard.limits();
        {
            let rl = self.context.runtime_limits_mut();
            rl.set_loop_iteration_limit(limits.operations.unwrap_or(u64::MAX));
            rl.set_recursion_limit(
                limits
                    .call_depth
                    .map_or(UNLIMITED_CALL_DEPTH, |d| d as usize),
            );
        }
        self.context.reset_loop_iteration_count();
        self.flag.store(false, Ordering::Relaxed);
        self.slot.arm(guard.deadline(), guard.cancel_token());
        let scope = interrupt::begin(&self.slot, &self.flag, limits.memory_bytes);

        // Host calls see the guard while the script runs (nothing to arm
        // without host functions).
        let host = self.host.clone();
        let armed = host.as_deref().map(|binding| binding.arm(guard));
        let outcome = self.run(script, program, input, &limits);
        drop(armed);

        let reason = scope.finish();
        // A script stopped mid-way may have left the context half-done.
        let stopped = reason.is_some();
        self.slot.disarm();
        self.jobs.clear();
        // The watchdog no longer touches the flag: lower it for the restore
        // below (and the next eval).
        self.flag.store(false, Ordering::Relaxed);
        let outcome = match reason {
            Some(Reason::Timeout) => Err(Failure::Timeout),
            Some(Reason::Cancelled) => Err(Failure::Cancelled),
            Some(Reason::Memory(message)) => {
                Err(Failure::Limit(polyscript_core::LimitKind::Memory, message))
            }
            Some(Reason::Host(error)) => Err(Failure::Host(error)),
            Some(Reason::Input(error)) => Err(Failure::Data(*error, Direction::Input)),
            None => outcome,
        };
        if stopped || matches!(&outcome, Err(f) if f.poisons()) {
            return Reply {
                outcome,
                clean: false,
            };
        }
        let clean = self
            .globals
            .restore(&mut self.context, &program.global_vars)
            .unwrap_or(false);
        // No script value outlives the eval, so neither does a `Symbol.for`
        // registration (the patched registry is per context).
        self.context.clear_symbol_registry();
        Reply { outcome, clean }
    }

    fn run(
        &mut self,
        script: &Script,
        program: &JsProgram,
        input: &EvalInput<'_>,
        limits: &Limits,
    ) -> Result<Value, Failure> {
        let mut budget = Budget::for_limits(limits);
        // A large input is converted as the script reads it; `_lazy` keeps
        // it readable until the result is converted.
        let (_lazy, input) = if lazy::is_lazy(input) {
            let (active, proxy) = lazy::install(input, budget, &self.lazy, &mut self.context)
                .map_err(|e| self.classify(&e, program))?;
            (Some(active), proxy)
        } else {
            // Small: converted whole (a layered input merged first).
            let whole = input
                .to_map()
                .map_err(|e| Failure::Data(e, Direction::Input))?;
            let input = input::to_js(&whole, &mut budget, &mut self.context)
                .map_err(|e| Failure::Data(e, Direction::Input))?;
            (None, input)
        };
        match self.globals.set_ctx(input, &mut self.context) {
            Ok(true) => {}
            Ok(false) => return Err(Failure::Panic("cannot set ctx".into())),
            Err(e) => return Err(self.classify(&e, program)),
        }

        let completion = script
            .evaluate(&mut self.context)
            .map_err(|e| self.classify(&e, program))?;
        let value = self.await_promise(completion, program)?;

        let mut budget = Budget::for_limits(limits);
        result::from_js(&value, &mut budget, &mut self.context).map_err(|e| match e {
            result::ResultError::Data(e) => Failure::Data(e, Direction::Result),
            result::ResultError::Js(e) => self.classify(&e, program),
        })
    }

    /// A promise the script completed with, settled (running its jobs);
    /// any other value as it is.
    fn await_promise(
        &mut self,
        completion: JsValue,
        program: &JsProgram,
    ) -> Result<JsValue, Failure> {
        let Some(promise) = completion
            .as_object()
            .and_then(|o| JsPromise::from_object(o.clone()).ok())
        else {
            return Ok(completion);
        };
        match jobs::settle(&promise, &self.jobs, &mut self.context) {
            Ok(Settled::Fulfilled(value)) => Ok(value),
            Ok(Settled::Rejected(reason)) => {
                Err(self.classify(&JsError::from_opaque(reason), program))
            }
            Err(e) => Err(self.classify(&e, program)),
        }
    }

    fn classify(&self, error: &JsError, program: &JsProgram) -> Failure {
        errors::classify(error, program, &self.tamed)
    }
}
