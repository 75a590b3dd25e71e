//! Compiling a module once into an [`ExtismProgram`].

use std::sync::Arc;

use extism::{CompiledPlugin, Manifest, PluginBuilder};
use polyscript_core::{EngineKind, Error, Limits, Result, ScriptId, Source};

use super::builder::Settings;
use super::imports;
use crate::cache::CompiledModule;
use crate::runtime::Allocation;
use crate::{InstancePolicy, WasmRuntime};

/// A module compiled once: every instance of every eval is created from it,
/// nothing is ever recompiled. Its compiled code and Extism's kernel are
/// shared with every evaluator on the same [`WasmRuntime`] (the code with
/// those of the same bytes).
pub struct ExtismProgram {
    pub(crate) compiled: CompiledPlugin,
    pub(crate) runtime: WasmRuntime,
    /// Keeps the shared compiled module alive (the cache holds it weakly).
    _module: Arc<CompiledModule>,
    entry_point: String,
    /// Exports callable as entry points (no parameters, at most one `i32`
    /// result, as Extism calls them).
    callable: Vec<String>,
    script_id: ScriptId,
    /// Each instance's memory, in pages, unless a context says otherwise.
    pub(crate) default_pages: Option<u32>,
    /// The memory Extism's kernel starts with (16 pages, 1 MiB, in 1.30),
    /// which every instance has whatever its limit: it is added to the
    /// limit, so that a limit of N pages leaves N pages to the plugin.
    kernel_pages: u32,
    /// The evaluator's memory limit, to tell a context's own from it.
    pub(crate) evaluator_memory: Option<u64>,
    /// Whether evals are metered (the runtime's fuel) and with the limits'
    /// operations (the engine's fuel setting).
    pub(crate) metered: bool,
    pub(crate) fuel: bool,
    /// Whether `http_request` may reach some host (so calls get a deadline).
    pub(crate) http: bool,
}

impl ExtismProgram {
    /// The entry point each eval calls unless its context names another.
    pub fn entry_point(&self) -> &str {
        &self.entry_point
    }

    /// The exports that can be entry points (Extism calls functions taking
    /// nothing and returning nothing or an `i32` code).
    pub fn exports(&self) -> &[String] {
        &self.callable
    }

    /// The module's script id.
    pub fn script_id(&self) -> ScriptId {
        self.script_id
    }

    /// The compiled plugin (to create [`extism::Plugin`]s by hand).
    pub fn compiled(&self) -> &CompiledPlugin {
        &self.compiled
    }

    /// The runtime the module is compiled on.
    pub fn runtime(&self) -> &WasmRuntime {
        &self.runtime
    }

    /// `name` if it can be an entry point, else `EntryPointNotFound`
    /// listing those that can.
    pub(crate) fn check_entry_point(&self, name: &str) -> Result<()> {
        if self.callable.iter().any(|c| c == name) {
            Ok(())
        } else {
            Err(Error::EntryPointNotFound {
                engine: EngineKind::Extism,
                script_id: self.script_id,
                entry_point: name.to_owned(),
                available: self.callable.clone(),
            })
        }
    }

    /// The memory, in pages, of an instance for an eval with `limits`: the
    /// context's own memory limit if it has one, else the builder's pages,
    /// else the evaluator's limit, plus the kernel's initial memory; capped
    /// by the runtime's largest memory (for each of the plugin's memories).
    pub(crate) fn pages_for(&self, limits: &Limits) -> Option<u32> {
        let pages = if limits.memory_bytes != self.evaluator_memory {
            limits.memory_bytes.map(pages_of)
        } else {
            self.default_pages
        };
        let cap = pages_of(self.runtime.settings().max_memory_bytes).saturating_mul(2);
        Some(pages.map_or(cap, |p| p.saturating_add(self.kernel_pages).min(cap)))
    }

    /// The fuel of one eval with `limits` (`None`: unmetered).
    pub(crate) fn fuel_for(&self, limits: &Limits) -> Option<u64> {
        match (self.metered, self.fuel) {
            (false, _) => None,
            (true, true) => Some(limits.operations.unwrap_or(u64::MAX)),
            // A metered runtime with fuel off for this engine: unlimited.
            (true, false) => Some(u64::MAX),
        }
    }
}

/// 64 KiB pages holding `bytes` (at least one).
fn pages_of(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(65_536))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// The runtime `settings` run on, checked against the fuel setting.
fn runtime(settings: &Settings) -> Result<WasmRuntime> {
    let runtime = match &settings.runtime {
        Some(runtime) => runtime.clone(),
        None => {
            // Stateful instances live as long as the pool keeps them, so
            // wasmtime's default allocator (guard pages, no bounds checks in
            // the guest's code) fits; the pool's explicit bounds checks cost a
            // stateful greeting eval ~60% over the raw reused plugin.
            let allocation = match settings.policy {
                InstancePolicy::Stateful => Allocation::OnDemand,
                InstancePolicy::Fresh => Allocation::Pooling,
            };
            WasmRuntime::shared(settings.fuel, allocation)?
        }
    };
    if settings.fuel && !runtime.settings().fuel {
        return Err(Error::Unsupported {
            message: "fuel is on for this Extism engine but its runtime does not meter fuel: \
                      build the runtime with WasmRuntimeBuilder::fuel(true) or turn fuel off"
                .into(),
        });
    }
    Ok(runtime)
}

/// Refuses grants that could not work: hosts without HTTP support, paths
/// without WASI or that do not exist.
fn check_grants(settings: &Settings) -> Result<()> {
    if !settings.allowed_hosts.is_empty() && !cfg!(feature = "http") {
        return Err(Error::Unsupported {
            message: format!(
                "allow_host({}) cannot work: Extism's HTTP support is not compiled in; enable \
                 polyscript-wasm's `http` feature",
                settings.allowed_hosts.join(", ")
            ),
        });
    }
    if !settings.allowed_paths.is_empty() && !settings.wasi {
        return Err(Error::Unsupported {
            message: "allow_path needs WASI (a plugin opens files only through WASI): add \
                      ExtismEngineBuilder::wasi(true)"
                .into(),
        });
    }
    for grant in &settings.allowed_paths {
        let dir = grant.host.display();
        if grant.host.to_str().is_none() {
            return Err(Error::load(
                dir,
                "the directory granted to the plugin is not a UTF-8 path (Extism takes paths as text)",
            ));
        }
        if !grant.host.is_dir() {
            return Err(Error::load(
                dir,
                "the directory granted to the plugin does not exist",
            ));
        }
    }
    Ok(())
}

pub(crate) fn compile(
    settings: &Settings,
    source: &Source,
    limits: &Limits,
) -> Result<ExtismProgram> {
    check_grants(settings)?;
    let runtime = runtime(settings)?;
    let script_id = source.id();
    let compile_error = |message: String| Error::Compile {
        engine: EngineKind::Extism,
        script_id,
        message,
        location: None,
    };
    let module = runtime.compile(source.bytes(), EngineKind::Extism, script_id)?;
    let callable = callable_exports(&module.module);
    if !callable.contains(&settings.entry_point) {
        return Err(Error::EntryPointNotFound {
            engine: EngineKind::Extism,
            script_id,
            entry_point: settings.entry_point.clone(),
            available: callable,
        });
    }
    let kernel = runtime.kernel()?;
    let kernel_pages = kernel
        .module
        .exports()
        .find_map(|e| e.ty().memory().map(|m| m.minimum()))
        .map_or(0, |pages| u32::try_from(pages).unwrap_or(u32::MAX));
    let host_names =
        imports::check(settings, &module.module, &kernel.module).map_err(compile_error)?;

    let default_pages = settings.max_pages.or(limits.memory_bytes.map(pages_of));
    let mut manifest = Manifest::default()
        .with_config(settings.config.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some(pages) = default_pages {
        manifest = manifest.with_memory_max(pages);
        // An HTTP response is buffered on the host before the guest gets
        // it: no more than the guest could hold.
        manifest.memory.max_http_response_bytes = Some(u64::from(pages) * 65_536);
    }
    if !settings.allowed_hosts.is_empty() {
        manifest = manifest.with_allowed_hosts(settings.allowed_hosts.iter().cloned());
    }
    if !settings.allowed_paths.is_empty() {
        // Extism's form: the host path as text (`ro:` first for read only),
        // the guest path. `check_grants` refused non-UTF-8 host paths.
        manifest = manifest.with_allowed_paths(settings.allowed_paths.iter().map(|grant| {
            let host = grant.host.to_string_lossy();
            let host = match grant.read_only {
                true => format!("ro:{host}"),
                false => host.into_owned(),
            };
            (host, std::path::PathBuf::from(&grant.guest))
        }));
    }
    let mut functions = settings.functions.clone();
    functions.extend(crate::host::extism::functions(
        &settings.host_functions,
        host_names.iter().map(String::as_str),
        script_id,
    ));
    let builder = PluginBuilder::new(manifest)
        .with_wasi(settings.wasi)
        .with_functions(functions)
        .with_engine(runtime.engine().clone(), kernel.module.clone())
        .with_main_module(module.module.clone());
    let compiled = CompiledPlugin::new(builder).map_err(|e| compile_error(format!("{e:#}")))?;
    Ok(ExtismProgram {
        compiled,
        metered: runtime.settings().fuel,
        fuel: settings.fuel,
        runtime,
        _module: module,
        entry_point: settings.entry_point.clone(),
        callable,
        script_id,
        default_pages,
        kernel_pages,
        evaluator_memory: limits.memory_bytes,
        http: !settings.allowed_hosts.is_empty(),
    })
}

/// Exported functions Extism can call: no parameters, no result or one
/// `i32`.
fn callable_exports(module: &wasmtime::Module) -> Vec<String> {
    module
        .exports()
        .filter(|e| {
            e.ty().func().is_some_and(|f| {
                let mut results = f.results();
                f.params().len() == 0
                    && matches!(
                        (results.next(), results.next()),
                        (None, _) | (Some(wasmtime::ValType::I32), None)
                    )
            })
        })
        .map(|e| e.name().to_owned())
        .collect()
}
