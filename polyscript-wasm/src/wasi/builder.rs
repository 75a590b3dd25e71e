//! [`WasiEngine`] and its builder: what a WASI command module is granted.

use std::path::PathBuf;
use std::sync::Arc;

use polyscript_core::host::HostFunctions;

use super::shared_memory::SharedMemory;
use crate::{InputMode, InstancePolicy, OutputMode, WasmRuntime};

/// Default cap on what a module may write to stdout in one eval (16 MiB).
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 16 << 20;

/// Default cap on captured stderr (64 KiB); the error message quotes at most
/// [`MAX_ERROR_MESSAGE_BYTES`] of it.
pub const DEFAULT_MAX_STDERR_BYTES: usize = 64 << 10;

/// How much of stderr an [`Error::Runtime`](polyscript_core::Error::Runtime)
/// message quotes.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 4 << 10;

/// A host directory the module may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Preopen {
    pub(crate) host: PathBuf,
    pub(crate) guest: String,
    pub(crate) read_only: bool,
}

/// Everything a [`WasiEngine`] grants, shared by its evals.
#[derive(Debug, Clone)]
pub(crate) struct WasiConfig {
    pub(crate) policy: InstancePolicy,
    pub(crate) fuel: bool,
    pub(crate) program_name: Option<String>,
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) inherit_stderr: bool,
    pub(crate) max_output_bytes: usize,
    pub(crate) max_stderr_bytes: usize,
    pub(crate) runtime: Option<WasmRuntime>,
    pub(crate) entry_point: Option<String>,
    pub(crate) input: InputMode,
    pub(crate) output: OutputMode,
    pub(crate) host_functions: HostFunctions,
    pub(crate) shared_memory: Option<SharedMemory>,
}

impl Default for WasiConfig {
    fn default() -> Self {
        WasiConfig {
            policy: InstancePolicy::Fresh,
            fuel: true,
            program_name: None,
            args: Vec::new(),
            env: Vec::new(),
            preopens: Vec::new(),
            inherit_stderr: false,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            max_stderr_bytes: DEFAULT_MAX_STDERR_BYTES,
            runtime: None,
            entry_point: None,
            input: InputMode::Json,
            output: OutputMode::Json,
            host_functions: HostFunctions::new(),
            shared_memory: None,
        }
    }
}

/// Runs plain WASI (preview1) modules with wasmtime: the module reads its
/// input on stdin and writes its result on stdout.
///
/// Each `WasiEngine` is one configuration (what the module is granted); give
/// two evaluators of the same module two engines to set them up differently.
/// Nothing is granted by default: no preopened directories, no environment,
/// no arguments beyond the program name, no network, no inherited stdio, no
/// host functions.
///
/// # The contract
///
/// A script is any WASI command module (`_start`, from Zig, Rust, C,
/// AssemblyScript, TinyGo, ...). Its `ctx` — the merged data — arrives as one
/// JSON object on stdin (or text or bytes, see [`InputMode`]); whatever it
/// writes to stdout is the result (parsed as JSON, else returned as a string
/// with trailing whitespace trimmed, nothing is `null`; see [`OutputMode`]
/// for text and raw bytes; the data bounds hold as for Extism plugins, see
/// the crate docs). Exiting with a non-zero code or trapping is an
/// [`Error::Runtime`](polyscript_core::Error::Runtime) carrying stderr's
/// text. Instead of `_start`, any exported function taking and returning
/// nothing can be the entry point, for the evaluator
/// ([`WasiEngineBuilder::entry_point`]) or per call
/// ([`EvalContext::with_entry_point`](polyscript_core::EvalContext::with_entry_point));
/// a module that exports `_initialize` (a WASI reactor) has it called first.
///
/// ```
/// use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
/// use polyscript_wasm::WasiEngine;
///
/// // A Zig guest: reads `{"name": N}` on stdin, writes the greeting on stdout.
/// let module = include_bytes!("../../guests/wasi/build/scripts.wasm");
/// let evaluator = Evaluator::new(WasiEngine::new(), Source::from_bytes(module))?;
/// let response = evaluator.eval(&EvalContext::with_data(json!({"name": "World"}))?)?;
/// assert_eq!(response.value(), &json!({"greeting": "Hello, World!", "length": 13}));
///
/// // Grants are per engine, so two evaluators of one module can differ.
/// let with_env = WasiEngine::builder().env("GREETING", "hi").build();
/// let evaluator = Evaluator::new(with_env, Source::from_bytes(module))?;
/// let ctx = EvalContext::with_data(json!({"op": "env", "key": "GREETING"}))?;
/// assert_eq!(evaluator.eval(&ctx)?.value(), &json!("hi"));
/// # Ok::<(), polyscript_core::Error>(())
/// ```
///
/// # Limits
///
/// - timeout / cancellation: epoch interruption (one ticker thread per
///   [`WasmRuntime`], every ~2 ms while evals run; each store checks its own
///   eval's deadline and token) → `Timeout` / `Cancelled`;
/// - `memory_bytes`: a store limiter on linear memory, per eval (a context's
///   own limits apply to its eval); a growth past it traps →
///   `LimitExceeded(Memory)`;
/// - `operations`: fuel, per eval (when [`fuel`](WasiEngineBuilder::fuel) is
///   on, the default) → `LimitExceeded(Operations)`;
/// - `call_depth`: not counted in frames; wasmtime's fixed wasm stack
///   (512 KiB) ends unbounded recursion → `LimitExceeded(CallDepth)`.
///
/// # Instances
///
/// The module is compiled and linked once (an `InstancePre`, its compiled
/// code shared with every evaluator of the same bytes on the same
/// [`WasmRuntime`]); every eval gets a fresh instance from the runtime's
/// pooling allocator with copy-on-write memory, so evals never see each
/// other's memory or globals — unless they are given one
/// [`SharedMemory`](crate::SharedMemory) on purpose.
#[derive(Debug, Clone, Default)]
pub struct WasiEngine {
    pub(crate) config: Arc<WasiConfig>,
}

impl WasiEngine {
    /// An engine that grants nothing (same as [`WasiEngine::default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts configuring an engine.
    pub fn builder() -> WasiEngineBuilder {
        WasiEngineBuilder {
            config: WasiConfig::default(),
        }
    }

    /// The instance policy this engine was built with.
    pub fn policy(&self) -> InstancePolicy {
        self.config.policy
    }

    /// Whether fuel metering (and so [`Limits::operations`]) is on.
    ///
    /// [`Limits::operations`]: polyscript_core::Limits::operations
    pub fn fuel(&self) -> bool {
        self.config.fuel
    }
}

/// Configures a [`WasiEngine`]; every grant is explicit.
#[derive(Debug, Clone)]
#[must_use]
pub struct WasiEngineBuilder {
    config: WasiConfig,
}

impl WasiEngineBuilder {
    /// The instance policy. Only [`InstancePolicy::Fresh`] (the default) is
    /// meaningful for a WASI module, whose instance runs once and is done;
    /// [`InstancePolicy::Stateful`] makes compiling fail with
    /// [`Error::Unsupported`](polyscript_core::Error::Unsupported).
    pub fn policy(mut self, policy: InstancePolicy) -> Self {
        self.config.policy = policy;
        self
    }

    /// Fuel metering (default on): [`Limits::operations`] becomes the fuel
    /// of each eval and running out is `LimitExceeded(Operations)`. Off makes
    /// evals a little faster and leaves the operation limit unenforced (the
    /// timeout still applies).
    ///
    /// [`Limits::operations`]: polyscript_core::Limits::operations
    pub fn fuel(mut self, enabled: bool) -> Self {
        self.config.fuel = enabled;
        self
    }

    /// The program name the module sees as `argv[0]` (default: the source's
    /// name: its file name, else its script id).
    pub fn program_name(mut self, name: impl Into<String>) -> Self {
        self.config.program_name = Some(name.into());
        self
    }

    /// Adds one argument after the program name.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.config.args.push(arg.into());
        self
    }

    /// Adds arguments after the program name.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Grants one environment variable (the module sees no other).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.env.push((key.into(), value.into()));
        self
    }

    /// Grants several environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.config
            .env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Grants the host directory `host` as `guest` inside the module, read
    /// and write. The directory is checked when the module is compiled.
    pub fn preopened_dir(mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.config.preopens.push(Preopen {
            host: host.into(),
            guest: guest.into(),
            read_only: false,
        });
        self
    }

    /// Grants the host directory `host` as `guest` inside the module, read
    /// only.
    pub fn preopened_dir_read_only(
        mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
    ) -> Self {
        self.config.preopens.push(Preopen {
            host: host.into(),
            guest: guest.into(),
            read_only: true,
        });
        self
    }

    /// Lets the module write to the host's stderr instead of capturing it.
    /// Runtime errors then carry only the exit code, not the module's text.
    pub fn inherit_stderr(mut self, inherit: bool) -> Self {
        self.config.inherit_stderr = inherit;
        self
    }

    /// Caps stdout per eval (default [`DEFAULT_MAX_OUTPUT_BYTES`]); writing
    /// more fails the eval.
    pub fn max_output_bytes(mut self, bytes: usize) -> Self {
        self.config.max_output_bytes = bytes;
        self
    }

    /// Caps captured stderr per eval (default [`DEFAULT_MAX_STDERR_BYTES`]).
    pub fn max_stderr_bytes(mut self, bytes: usize) -> Self {
        self.config.max_stderr_bytes = bytes;
        self
    }

    /// The runtime (shared wasmtime engine, pool and module cache) to build
    /// on (default: the process-wide [`WasmRuntime::shared_wasi`] one for
    /// the fuel setting, which Extism engines do not share). With fuel on,
    /// the runtime must meter fuel; building the evaluator says so otherwise.
    pub fn runtime(mut self, runtime: WasmRuntime) -> Self {
        self.config.runtime = Some(runtime);
        self
    }

    /// Calls the exported function `name` (taking and returning nothing)
    /// instead of `_start`; checked when the module is compiled. A context's
    /// [`with_entry_point`](polyscript_core::EvalContext::with_entry_point)
    /// chooses another per call.
    pub fn entry_point(mut self, name: impl Into<String>) -> Self {
        self.config.entry_point = Some(name.into());
        self
    }

    /// What the module reads on stdin (default [`InputMode::Json`]).
    pub fn input(mut self, mode: InputMode) -> Self {
        self.config.input = mode;
        self
    }

    /// What becomes of stdout (default [`OutputMode::Json`]).
    pub fn output(mut self, mode: OutputMode) -> Self {
        self.config.output = mode;
        self
    }

    /// Host functions the module may import through the `polyscript_host`
    /// ABI (see the crate docs). A module importing a name the registry does
    /// not have is refused when the evaluator is built.
    pub fn host_functions(mut self, registry: HostFunctions) -> Self {
        self.config.host_functions = registry;
        self
    }

    /// Gives every instance of the module `memory` for its imported shared
    /// memory (a module built with threads / shared memory imports one), so
    /// instances — of this evaluator, and of every evaluator given the same
    /// `SharedMemory` — see each other's writes. See [`SharedMemory`] for
    /// the synchronisation rules.
    pub fn shared_memory(mut self, memory: SharedMemory) -> Self {
        self.config.shared_memory = Some(memory);
        self
    }

    /// The configured engine.
    pub fn build(self) -> WasiEngine {
        WasiEngine {
            config: Arc::new(self.config),
        }
    }
}
