//! [`JsEngine`]: the [`Engine`] implementation for boa.

use std::sync::Arc;

use polyscript_core::host::HostFunctions;
use polyscript_core::{Engine, EngineKind, EvalInput, Guard, Limits, Result, Source, Value};

use crate::instance::{JsInstance, ThreadMode};
use crate::program::{self, JsProgram};

/// Default stack of an instance's worker thread ([`ThreadMode::Dedicated`]). Reserved address space, only
/// touched pages cost memory; native re-entry (getters, `Array.prototype.map`
/// callbacks) recurses on it, bounded by the recursion limit.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024 * 1024;

/// Former default of [`JsEngineBuilder::yield_budget`], which no longer has
/// an effect (kept so code that names it still builds).
pub const DEFAULT_YIELD_BUDGET: u32 = 65_536;

/// Default of [`JsEngineBuilder::max_source_bytes`]: 1 MiB of source.
pub const DEFAULT_MAX_SOURCE_BYTES: usize = 1024 * 1024;

/// Engine options, shared by every instance.
#[derive(Debug, Clone)]
pub(crate) struct JsConfig {
    pub(crate) console: bool,
    pub(crate) stack_size: usize,
    pub(crate) thread_mode: ThreadMode,
    pub(crate) max_source_bytes: usize,
    pub(crate) host_functions: HostFunctions,
}

impl Default for JsConfig {
    fn default() -> Self {
        JsConfig {
            console: true,
            stack_size: DEFAULT_STACK_SIZE,
            thread_mode: ThreadMode::default(),
            max_source_bytes: DEFAULT_MAX_SOURCE_BYTES,
            host_functions: HostFunctions::new(),
        }
    }
}

/// The JavaScript engine (boa 0.22). See the crate docs for how scripts see
/// `ctx` and return a result.
///
/// Host functions given to the [builder](JsEngineBuilder::host_functions)
/// are bound in every instance as `host.NAME(...)`.
#[derive(Debug, Clone)]
pub struct JsEngine {
    config: Arc<JsConfig>,
}

impl Default for JsEngine {
    /// The default engine. Every default engine shares one configuration:
    /// each thread's context cache serves programs of the same
    /// configuration from one context, so evaluators built with separate
    /// `JsEngine::new()` calls (as the facade's `from_js_*` constructors
    /// do) share their contexts too, instead of one each — with thousands
    /// of them, that was a context rebuilt on almost every eval.
    fn default() -> Self {
        static DEFAULT: std::sync::OnceLock<Arc<JsConfig>> = std::sync::OnceLock::new();
        JsEngine {
            config: Arc::clone(DEFAULT.get_or_init(|| Arc::new(JsConfig::default()))),
        }
    }
}

impl JsEngine {
    /// An engine with the default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts configuring an engine.
    pub fn builder() -> JsEngineBuilder {
        JsEngineBuilder {
            config: JsConfig::default(),
        }
    }

    /// The host functions scripts can call (empty unless the builder was
    /// given some).
    pub fn host_functions(&self) -> &HostFunctions {
        &self.config.host_functions
    }
}

/// Configures a [`JsEngine`].
#[derive(Debug, Clone)]
#[must_use]
pub struct JsEngineBuilder {
    config: JsConfig,
}

impl JsEngineBuilder {
    /// Whether scripts get a `console` object (`log`, `info`, `debug`, `warn`,
    /// `error`) that writes to `tracing` (target `polyscript_js::console`).
    /// Default `true`; it never writes to stdout.
    pub fn console(mut self, enabled: bool) -> Self {
        self.config.console = enabled;
        self
    }

    /// Where instances run (default [`ThreadMode::CallerThread`]).
    pub fn thread_mode(mut self, mode: ThreadMode) -> Self {
        self.config.thread_mode = mode;
        self
    }

    /// Stack size of each instance's worker thread in
    /// [`ThreadMode::Dedicated`] (default [`DEFAULT_STACK_SIZE`], at least
    /// 1 MiB). In caller-thread mode an eval that finds too little stack left
    /// on its thread for its recursion limit runs on such a worker too.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.config.stack_size = bytes.max(1024 * 1024);
        self
    }

    /// No effect; kept so that code calling it still builds. Evals used to
    /// check their deadline every `budget` VM cycles; they are now stopped
    /// through an interrupt flag the VM reads before every instruction (see
    /// the crate docs, "Limits").
    pub fn yield_budget(self, budget: u32) -> Self {
        let _ = budget;
        self
    }

    /// The largest script (in bytes of source) [`compile`](Engine::compile)
    /// accepts (default [`DEFAULT_MAX_SOURCE_BYTES`]): a bigger one is an
    /// [`Error::Compile`](polyscript_core::Error::Compile) saying so.
    /// Parsing and compiling take memory and time in proportion to the
    /// source (see the crate docs, "Limits").
    pub fn max_source_bytes(mut self, bytes: usize) -> Self {
        self.config.max_source_bytes = bytes;
        self
    }

    /// Offers the functions of `registry` to scripts as `host.NAME(...)`
    /// (see [Host functions](crate#host-functions) in the crate docs).
    /// Without a registry, `host` is an empty frozen object. The registry is
    /// shared, not copied: one registry can serve any number of engines.
    pub fn host_functions(mut self, registry: HostFunctions) -> Self {
        self.config.host_functions = registry;
        self
    }

    /// The engine.
    pub fn build(self) -> JsEngine {
        JsEngine {
            config: Arc::new(self.config),
        }
    }
}

impl Engine for JsEngine {
    type Program = JsProgram;
    type Instance = JsInstance;

    fn kind(&self) -> EngineKind {
        EngineKind::JavaScript
    }

    fn compile(&self, source: &Source, limits: &Limits) -> Result<JsProgram> {
        let _span =
            tracing::debug_span!("compile", engine = "js", script_id = %source.id()).entered();
        program::compile(source, &self.config, limits)
    }

    fn instantiate(&self, program: &JsProgram, _limits: &Limits) -> Result<JsInstance> {
        let _span =
            tracing::debug_span!("instantiate", engine = "js", script_id = %program.script_id)
                .entered();
        JsInstance::new(program, &self.config)
    }

    fn eval(
        &self,
        instance: &mut JsInstance,
        _program: &JsProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        instance.eval(input, guard)
    }
}
