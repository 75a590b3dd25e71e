//! [`ExtismInstance`]: one plugin instance of a compiled module.

use extism::Plugin;
use polyscript_core::{EngineKind, Error, Result, ScriptId};

use super::errors::{Failure, classify};
use super::program::ExtismProgram;
use crate::InstancePolicy;

/// One instance of a compiled module: its own store, linear memory and
/// globals. Under [`InstancePolicy::Fresh`] the evaluator replaces the plugin
/// before every eval; under [`InstancePolicy::Stateful`] it keeps it.
pub struct ExtismInstance {
    pub(crate) plugin: Option<Plugin>,
    /// Whether `plugin` has run an eval (a fresh policy then replaces it).
    pub(crate) used: bool,
    pub(crate) policy: InstancePolicy,
    script_id: ScriptId,
}

impl ExtismInstance {
    pub(crate) fn new(program: &ExtismProgram, policy: InstancePolicy) -> Result<Self> {
        Ok(ExtismInstance {
            plugin: Some(new_plugin(program)?),
            used: false,
            policy,
            script_id: program.script_id(),
        })
    }

    /// The instance's reuse policy.
    pub fn policy(&self) -> InstancePolicy {
        self.policy
    }

    /// Calls the export `name` with raw `input` bytes on this very instance
    /// and returns the raw output: no JSON, no policy (state stays), no
    /// deadline. For tests and tools that look at one instance's state.
    pub fn call(&mut self, name: &str, input: &[u8]) -> Result<Vec<u8>> {
        let script_id = self.script_id;
        let plugin = self.plugin.as_mut().ok_or_else(|| Error::Runtime {
            engine: EngineKind::Extism,
            script_id,
            message: "the instance's plugin was discarded after an interrupt".into(),
            location: None,
        })?;
        self.used = true;
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

/// A new plugin (store + instance) from the compiled module.
///
/// Creating one runs Extism's kernel, which an epoch bump for another
/// instance of the same module can interrupt; that is retried a few times.
pub(crate) fn new_plugin(program: &ExtismProgram) -> Result<Plugin> {
    let mut attempts = 0;
    loop {
        match Plugin::new_from_compiled(&program.compiled) {
            Ok(plugin) => return Ok(plugin),
            Err(e) if attempts < 16 && classify(&e) == Failure::Interrupted => attempts += 1,
            Err(e) => {
                return Err(Error::Runtime {
                    engine: EngineKind::Extism,
                    script_id: program.script_id(),
                    message: format!("cannot instantiate the plugin: {e:#}"),
                    location: None,
                });
            }
        }
    }
}
