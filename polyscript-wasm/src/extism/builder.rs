//! [`ExtismEngineBuilder`]: per-evaluator configuration of the Extism engine.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use extism::Function;
use polyscript_core::host::HostFunctions;

use super::engine::ExtismEngine;
use crate::{InputMode, InstancePolicy, OutputMode, WasmRuntime};

/// A host directory granted to a WASI-enabled plugin.
#[derive(Clone, Debug)]
pub(crate) struct AllowedPath {
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

/// The engine's settings, shared by its program and instances.
#[derive(Clone)]
pub(crate) struct Settings {
    pub entry_point: String,
    pub policy: InstancePolicy,
    pub wasi: bool,
    pub max_pages: Option<u32>,
    pub fuel: bool,
    pub config: BTreeMap<String, String>,
    pub allowed_hosts: Vec<String>,
    pub allowed_paths: Vec<AllowedPath>,
    pub functions: Vec<Function>,
    pub host_functions: HostFunctions,
    pub runtime: Option<WasmRuntime>,
    pub input: InputMode,
    pub output: OutputMode,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            entry_point: ExtismEngine::DEFAULT_ENTRY_POINT.to_owned(),
            policy: InstancePolicy::Fresh,
            wasi: false,
            max_pages: None,
            fuel: false,
            config: BTreeMap::new(),
            allowed_hosts: Vec::new(),
            allowed_paths: Vec::new(),
            functions: Vec::new(),
            host_functions: HostFunctions::new(),
            runtime: None,
            input: InputMode::Json,
            output: OutputMode::Json,
        }
    }
}

/// Configures an [`ExtismEngine`]. Every setting is per engine, so two
/// evaluators of the same module can differ (memory, fuel, WASI, config);
/// they still share the compiled module when they share a runtime.
///
/// ```
/// use polyscript_wasm::{ExtismEngine, InstancePolicy};
/// let engine = ExtismEngine::builder()
///     .entry_point("greet")
///     .max_pages(64) // 4 MiB of linear memory per instance by default
///     .config("greeting", "Hello")
///     .policy(InstancePolicy::Fresh)
///     .build();
/// assert_eq!(engine.entry_point(), "greet");
/// ```
#[must_use]
#[derive(Default)]
pub struct ExtismEngineBuilder {
    settings: Settings,
}

impl ExtismEngineBuilder {
    /// The exported function each eval calls (default `main`). Checked when
    /// the module is compiled; a context's
    /// [`with_entry_point`](polyscript_core::EvalContext::with_entry_point)
    /// calls another export for one eval.
    pub fn entry_point(mut self, name: impl Into<String>) -> Self {
        self.settings.entry_point = name.into();
        self
    }

    /// Fresh instance per eval (default) or pooled instances that keep state.
    pub fn policy(mut self, policy: InstancePolicy) -> Self {
        self.settings.policy = policy;
        self
    }

    /// Links WASI preview 1 into the plugin (default off; a plugin importing
    /// WASI is then refused when the evaluator is built). Even with WASI the
    /// plugin sees no directory unless [`allow_path`](Self::allow_path)
    /// grants one, and no environment variables.
    pub fn wasi(mut self, enabled: bool) -> Self {
        self.settings.wasi = enabled;
        self
    }

    /// Each instance's memory in 64 KiB pages, instead of
    /// [`Limits::memory_bytes`](polyscript_core::Limits::memory_bytes) of
    /// the evaluator; a context's own memory limit still applies to its
    /// eval. It covers the guest's memory and Extism's own (input, output,
    /// vars).
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.settings.max_pages = Some(pages);
        self
    }

    /// Meters the guest with wasmtime fuel: each eval gets
    /// [`Limits::operations`](polyscript_core::Limits::operations) units
    /// (the context's own limits apply to its eval) and ends with
    /// `LimitExceeded(Operations)` when they run out. Default off (fuel
    /// costs some speed; deadlines still stop runaway guests). Needs a
    /// runtime with fuel (the default one for fuel is).
    pub fn fuel(mut self, enabled: bool) -> Self {
        self.settings.fuel = enabled;
        self
    }

    /// Adds a plugin config key the guest reads with `Config.get` /
    /// `config_get`.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.config.insert(key.into(), value.into());
        self
    }

    /// Adds several plugin config keys.
    pub fn configs<K: Into<String>, V: Into<String>>(
        mut self,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.settings
            .config
            .extend(entries.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Lets the guest's `http_request` reach `host` (a glob such as
    /// `*.example.com`; redirects are not followed, so a redirect cannot
    /// leave the allowed hosts). None is allowed by default. Requests need
    /// this crate's `http` feature: without it, an engine with an allowed
    /// host is refused when the evaluator is built.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.settings.allowed_hosts.push(host.into());
        self
    }

    /// Grants the host directory `host` as `guest` inside a WASI-enabled
    /// plugin, read and write (the same arguments as
    /// [`WasiEngineBuilder::preopened_dir`](crate::WasiEngineBuilder::preopened_dir)).
    /// None is granted by default; without [`wasi`](Self::wasi) the
    /// evaluator is refused, since only WASI can open files. The directory
    /// is checked when the plugin is compiled (Extism takes host paths as
    /// text: a path that is not UTF-8 is refused then).
    pub fn allow_path(self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.grant_path(host.into(), guest.into(), false)
    }

    /// Like [`allow_path`](Self::allow_path), read only.
    pub fn allow_path_read_only(self, host: impl Into<PathBuf>, guest: impl Into<String>) -> Self {
        self.grant_path(host.into(), guest.into(), true)
    }

    fn grant_path(mut self, host: PathBuf, guest: String, read_only: bool) -> Self {
        self.settings.allowed_paths.push(AllowedPath {
            host,
            guest,
            read_only,
        });
        self
    }

    /// The host functions the plugin may import from the `polyscript`
    /// namespace (see the crate docs). A plugin importing a name the
    /// registry does not have is refused when the evaluator is built.
    pub fn host_functions(mut self, registry: HostFunctions) -> Self {
        self.settings.host_functions = registry;
        self
    }

    /// Adds a host function written against Extism's own API (imported from
    /// `extism:host/user`, or its namespace). [`Function`], `UserData`,
    /// `ValType` and `PTR` are [`deps::extism`](crate::deps::extism)'s, so
    /// no pinned `extism` dependency is needed to name them.
    pub fn extism_function(mut self, function: Function) -> Self {
        self.settings.functions.push(function);
        self
    }

    /// Adds several host functions written against Extism's own API.
    pub fn extism_functions(mut self, functions: impl IntoIterator<Item = Function>) -> Self {
        self.settings.functions.extend(functions);
        self
    }

    /// The runtime (shared wasmtime engine, pool, kernel and module cache)
    /// to build on (default: the process-wide [`WasmRuntime::shared`] one
    /// for the fuel setting, pooled for the fresh policy and on-demand for
    /// the stateful one).
    pub fn runtime(mut self, runtime: WasmRuntime) -> Self {
        self.settings.runtime = Some(runtime);
        self
    }

    /// What the plugin receives as its input (default [`InputMode::Json`]).
    pub fn input(mut self, mode: InputMode) -> Self {
        self.settings.input = mode;
        self
    }

    /// What becomes of its output (default [`OutputMode::Json`]).
    pub fn output(mut self, mode: OutputMode) -> Self {
        self.settings.output = mode;
        self
    }

    /// The engine.
    pub fn build(self) -> ExtismEngine {
        ExtismEngine::from_settings(Arc::new(self.settings))
    }
}
