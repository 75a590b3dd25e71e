//! Compiling a module once into an [`ExtismProgram`].

use extism::{CompiledPlugin, Manifest, PluginBuilder, Wasm};
use polyscript_core::{EngineKind, Error, Limits, Result, ScriptId, Source};

use super::builder::Settings;
use super::module_info::ModuleInfo;
use crate::InstancePolicy;

/// A module compiled once ([`CompiledPlugin`]): every instance of every eval
/// is created from it, nothing is ever recompiled.
pub struct ExtismProgram {
    pub(crate) compiled: CompiledPlugin,
    entry_point: String,
    exports: Vec<String>,
    script_id: ScriptId,
}

impl ExtismProgram {
    /// The entry point each eval calls.
    pub fn entry_point(&self) -> &str {
        &self.entry_point
    }

    /// The module's exported functions.
    pub fn exports(&self) -> &[String] {
        &self.exports
    }

    /// The module's script id.
    pub fn script_id(&self) -> ScriptId {
        self.script_id
    }

    /// The compiled plugin (to create [`extism::Plugin`]s by hand).
    pub fn compiled(&self) -> &CompiledPlugin {
        &self.compiled
    }
}

/// Linear-memory pages for `limits`, unless the builder fixed a number.
fn max_pages(settings: &Settings, limits: &Limits) -> Option<u32> {
    settings.max_pages.or_else(|| {
        limits.memory_bytes.map(|bytes| {
            u32::try_from(bytes.div_ceil(65_536))
                .unwrap_or(u32::MAX)
                .max(1)
        })
    })
}

pub(crate) fn compile(
    settings: &Settings,
    source: &Source,
    limits: &Limits,
) -> Result<ExtismProgram> {
    let script_id = source.id();
    let compile_error = |message: String| Error::Compile {
        engine: EngineKind::Extism,
        script_id,
        message,
        location: None,
    };
    let info = ModuleInfo::parse(source.bytes())
        .map_err(|e| compile_error(format!("not a valid WebAssembly module: {e}")))?;
    if !info.exports_function(&settings.entry_point) {
        return Err(Error::EntryPointNotFound {
            engine: EngineKind::Extism,
            script_id,
            entry_point: settings.entry_point.clone(),
            available: info.functions,
        });
    }

    let mut manifest = Manifest::new([Wasm::data(source.bytes().to_vec())])
        .with_config(settings.config.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some(pages) = max_pages(settings, limits) {
        manifest = manifest.with_memory_max(pages);
    }
    if !settings.allowed_hosts.is_empty() {
        manifest = manifest.with_allowed_hosts(settings.allowed_hosts.iter().cloned());
    }
    if !settings.allowed_paths.is_empty() {
        manifest = manifest.with_allowed_paths(settings.allowed_paths.iter().cloned());
    }

    let builder = |wasmtime_config: Option<wasmtime::Config>| {
        let mut builder = PluginBuilder::new(manifest.clone())
            .with_wasi(settings.wasi)
            .with_functions(settings.functions.iter().cloned())
            .with_cache_disabled();
        if let Some(config) = wasmtime_config {
            builder = builder.with_wasmtime_config(config);
        }
        if settings.fuel
            && let Some(fuel) = limits.operations
        {
            builder = builder.with_fuel_limit(fuel);
        }
        builder
    };
    let compiled = if settings.policy == InstancePolicy::Stateful {
        // Instances live as long as the pool keeps them, so wasmtime's
        // default allocator (guard pages, no bounds checks in the guest's
        // code) fits; the pool's explicit bounds checks cost a stateful
        // greeting eval ~60% over the raw reused plugin.
        CompiledPlugin::new(builder(None))
    } else {
        let pooled = || crate::extism::pooling::config(max_pages(settings, limits));
        CompiledPlugin::new(builder(Some(pooled()))).or_else(|err| {
            match wasmtime::Engine::new(&pooled()) {
                // The module itself failed: report that.
                Ok(_) => Err(err),
                // The pool reserves address space up front; where that is
                // refused (e.g. a tight `ulimit -v`), wasmtime's default
                // allocator works.
                Err(pool_err) => {
                    tracing::warn!(error = %format!("{pool_err:#}"), "Extism pooling allocator unavailable; using on-demand allocation");
                    CompiledPlugin::new(builder(None))
                }
            }
        })
    };
    let compiled = compiled.map_err(|e| compile_error(format!("{e:#}")))?;
    Ok(ExtismProgram {
        compiled,
        entry_point: settings.entry_point.clone(),
        exports: info.functions,
        script_id,
    })
}
