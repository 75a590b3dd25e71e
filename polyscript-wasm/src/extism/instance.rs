//! [`ExtismInstance`]: one plugin instance of a compiled module.

use std::sync::Arc;

use extism::{CompiledPlugin, InterruptCheck, Plugin};
use polyscript_core::{EngineKind, Error, LimitKind, Result, ScriptId};

use super::program::ExtismProgram;
use crate::{InstancePolicy, WasmRuntime};

/// One instance of a compiled module. Under [`InstancePolicy::Stateful`] it
/// holds a plugin (its own store, linear memory and globals) that every eval
/// on it uses; under [`InstancePolicy::Fresh`] it holds nothing while idle
/// (each eval makes a plugin from the compiled module and drops it), so an
/// idle evaluator takes no slot of the runtime's pool.
pub struct ExtismInstance {
    /// Stateful: the plugin evals run on. Fresh: the plugin the raw
    /// [`call`](Self::call)s use (made on the first); evals never see it.
    pub(crate) plugin: Option<Plugin>,
    pub(crate) policy: InstancePolicy,
    /// The (pages, fuel) `plugin` was last given.
    limits: (Option<u32>, Option<u64>),
    compiled: CompiledPlugin,
    runtime: WasmRuntime,
    script_id: ScriptId,
}

impl ExtismInstance {
    pub(crate) fn new(
        program: &ExtismProgram,
        policy: InstancePolicy,
        pages: Option<u32>,
        fuel: Option<u64>,
    ) -> Result<Self> {
        let plugin = match policy {
            InstancePolicy::Stateful => Some(new_plugin(
                program.compiled(),
                program.runtime(),
                program.script_id(),
                pages,
                fuel,
            )?),
            InstancePolicy::Fresh => None,
        };
        Ok(ExtismInstance {
            plugin,
            policy,
            limits: (pages, fuel),
            compiled: program.compiled().clone(),
            runtime: program.runtime().clone(),
            script_id: program.script_id(),
        })
    }

    /// The instance's reuse policy.
    pub fn policy(&self) -> InstancePolicy {
        self.policy
    }

    /// The stateful plugin with `pages` and `fuel` for the next eval (made
    /// again after a discard).
    pub(crate) fn stateful_plugin(
        &mut self,
        pages: Option<u32>,
        fuel: Option<u64>,
    ) -> Result<&mut Plugin> {
        let plugin = match self.plugin.take() {
            Some(mut plugin) => {
                if self.limits.0 != pages {
                    plugin.set_memory_limit(pages);
                }
                if self.limits.1 != fuel {
                    plugin.set_fuel_limit(fuel);
                }
                plugin
            }
            None => new_plugin(&self.compiled, &self.runtime, self.script_id, pages, fuel)?,
        };
        self.limits = (pages, fuel);
        Ok(self.plugin.insert(plugin))
    }

    /// Calls the export `name` with raw `input` bytes on this very instance
    /// and returns the raw output: no JSON, no policy (state stays), no
    /// deadline. For tests and tools that look at one instance's state.
    pub fn call(&mut self, name: &str, input: &[u8]) -> Result<Vec<u8>> {
        let script_id = self.script_id;
        let plugin = match self.plugin.take() {
            Some(plugin) => plugin,
            None => new_plugin(
                &self.compiled,
                &self.runtime,
                script_id,
                self.limits.0,
                self.limits.1,
            )?,
        };
        let plugin = self.plugin.insert(plugin);
        plugin
            .call::<&[u8], &[u8]>(name, input)
            .map(<[u8]>::to_vec)
            .map_err(|e| Error::Runtime {
                engine: EngineKind::Extism,
                script_id,
                message: format!("{e:#}"),
                location: None,
            })
    }
}

/// The interrupt check of a plugin outside an eval: never stops it. Set on
/// every plugin so that Extism's own timer, whose engine-wide epoch bumps
/// would stop other plugins, is never used.
pub(crate) fn never_stop() -> InterruptCheck {
    static NEVER: std::sync::OnceLock<InterruptCheck> = std::sync::OnceLock::new();
    Arc::clone(NEVER.get_or_init(|| Arc::new(|| false)))
}

/// A new plugin (store + instance) from the compiled module, with its own
/// memory limit and fuel.
pub(crate) fn new_plugin(
    compiled: &CompiledPlugin,
    runtime: &WasmRuntime,
    script_id: ScriptId,
    pages: Option<u32>,
    fuel: Option<u64>,
) -> Result<Plugin> {
    match Plugin::new_from_compiled_with_limits(compiled, pages, fuel) {
        Ok(mut plugin) => {
            plugin.set_interrupt_check(Some(never_stop()));
            Ok(plugin)
        }
        Err(e) => {
            let detail = format!("{e:#}");
            Err(match runtime.capacity_message(e.chain(), &detail) {
                Some(message) => Error::LimitExceeded {
                    engine: EngineKind::Extism,
                    script_id,
                    limit: LimitKind::Memory,
                    message,
                },
                None => Error::Runtime {
                    engine: EngineKind::Extism,
                    script_id,
                    message: format!("cannot instantiate the plugin: {detail}"),
                    location: None,
                },
            })
        }
    }
}
