//! One boa `Context` with the script parsed and compiled once; lives on the
//! thread that made it (boa's GC heap is thread-local).

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};

use boa_engine::job::IdleJobExecutor;
use boa_engine::property::Attribute;
use boa_engine::{Context, JsValue, Script, Source as JsSource, js_string};
use polyscript_core::clock::Instant;
use polyscript_core::{CancelToken, Limits, Map, Value};

use crate::engine::JsConfig;
use crate::failure::Failure;
use crate::globals::Globals;
use crate::program::JsProgram;
use crate::{console, convert, errors, memory};

/// Recursion limit used when `Limits::call_depth` is `None` (boa needs one:
/// native re-entry recurses on the Rust stack).
pub(crate) const UNLIMITED_CALL_DEPTH: usize = 4096;

/// What one eval needs, sent to the worker thread.
pub(crate) struct Request {
    pub(crate) input: Map,
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: CancelToken,
    pub(crate) limits: Limits,
}

/// An eval's outcome, and whether the instance is still clean.
pub(crate) struct Reply {
    pub(crate) outcome: Result<Value, Failure>,
    /// `false` when the global state could not be restored (or the eval was
    /// stopped mid-way): the worker stops and the instance is rebuilt.
    pub(crate) clean: bool,
}

/// The context, the compiled script and the global baseline.
pub(crate) struct Runtime {
    context: Context,
    script: Script,
    globals: Globals,
    program: JsProgram,
    budget: u32,
}

impl Runtime {
    /// Builds the context, installs the sandbox globals and parses + compiles
    /// the script once.
    pub(crate) fn new(mut program: JsProgram, config: &JsConfig) -> Result<Self, Failure> {
        // The runtime keeps the program's text and origin for its errors,
        // but not its identity: threads' caches hold runtimes and detect a
        // dropped program by that identity having no strong owner left.
        program.identity = Arc::new(());
        let setup =
            |e: boa_engine::JsError| Failure::Panic(format!("cannot set up a boa context: {e}"));
        let mut context = Context::builder()
            .host_hooks(Rc::new(memory::SandboxHooks))
            .job_executor(Rc::new(IdleJobExecutor))
            .build()
            .map_err(setup)?;
        context
            .register_global_property(js_string!("ctx"), JsValue::undefined(), Attribute::WRITABLE)
            .map_err(setup)?;
        if config.console {
            console::install(&mut context).map_err(setup)?;
        }
        memory::install(&mut context).map_err(setup)?;

        let path = Path::new(&program.origin);
        let source = JsSource::from_bytes(program.wrapped.as_bytes()).with_path(path);
        let script = Script::parse(source, None, &mut context)
            .and_then(|script| script.codeblock(&mut context).map(|_| script))
            .map_err(|e| {
                let text = e.to_string();
                Failure::Compile(text, None)
            })?;
        let globals = Globals::lock(&mut context).map_err(setup)?;
        Ok(Runtime {
            context,
            script,
            globals,
            program,
            budget: config.yield_budget,
        })
    }

    /// Runs the script once with `input` under `limits`, then restores the
    /// globals.
    pub(crate) fn eval(
        &mut self,
        input: &Map,
        deadline: Option<Instant>,
        cancel: &CancelToken,
        limits: Limits,
    ) -> Reply {
        {
            let rl = self.context.runtime_limits_mut();
            rl.set_loop_iteration_limit(limits.operations.unwrap_or(u64::MAX));
            rl.set_recursion_limit(
                limits
                    .call_depth
                    .map_or(UNLIMITED_CALL_DEPTH, |d| d as usize),
            );
        }
        memory::begin(limits.memory_bytes);

        let outcome = self.run(input, deadline, cancel);
        let fatal = matches!(&outcome, Err(f) if f.poisons());
        if fatal {
            return Reply {
                outcome,
                clean: false,
            };
        }
        let clean = self.globals.restore(&mut self.context).unwrap_or(false);
        Reply { outcome, clean }
    }

    fn run(
        &mut self,
        input: &Map,
        deadline: Option<Instant>,
        cancel: &CancelToken,
    ) -> Result<Value, Failure> {
        let input = convert::to_js(input, &mut self.context).map_err(Failure::InvalidData)?;
        match self.globals.set_ctx(input, &mut self.context) {
            Ok(true) => {}
            Ok(false) => return Err(Failure::Panic("cannot set ctx".into())),
            Err(e) => return Err(Failure::Panic(format!("cannot set ctx: {e}"))),
        }

        let completion = {
            let future = self
                .script
                .evaluate_async_with_budget(&mut self.context, self.budget);
            drive(future, deadline, cancel)?
        };
        match completion {
            Ok(value) => convert::from_js(&value, &mut self.context).map_err(Failure::InvalidData),
            Err(error) => Err(errors::classify(error, &self.program, &mut self.context)),
        }
    }
}

/// Polls boa's budgeted evaluation; between two slices (every `budget` VM
/// "cycles") checks cancellation and the deadline.
fn drive<T>(
    future: impl Future<Output = T>,
    deadline: Option<Instant>,
    cancel: &CancelToken,
) -> Result<T, Failure> {
    let mut future = pin!(future);
    let mut cx = std::task::Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return Ok(value);
        }
        if cancel.is_cancelled() {
            return Err(Failure::Cancelled);
        }
        if deadline.is_some_and(Instant::has_passed) {
            return Err(Failure::Timeout);
        }
    }
}
