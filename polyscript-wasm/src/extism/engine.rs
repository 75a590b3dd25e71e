//! [`ExtismEngine`]: the [`Engine`] implementation for Extism plugins.

use std::fmt;
use std::sync::Arc;

use polyscript_core::{Engine, EngineKind, Guard, Limits, Map, Result, Source, Value};

use super::builder::{ExtismEngineBuilder, Settings};
use super::errors::{Failure, classify, to_error};
use super::instance::{ExtismInstance, new_plugin};
use super::program::{ExtismProgram, compile};
use super::watchdog::Watch;
use crate::InstancePolicy;
use crate::json_io::{self, TextOutput};

/// How many times an eval is retried after an interrupt it did not cause
/// (another instance of the same module being stopped bumps the shared
/// engine's epoch, which interrupts every running instance).
const MAX_FOREIGN_INTERRUPTS: u32 = 16;

/// Runs Extism plugins: the module is compiled once, each eval calls one
/// entry point with the merged data as JSON bytes and parses the output as
/// JSON (else returns it as a string).
///
/// Built with [`ExtismEngine::builder`]; [`ExtismEngine::new`] calls `main`
/// with the defaults (fresh instance per eval, no WASI, no hosts, no paths,
/// memory from the limits, no fuel).
#[derive(Clone, Default)]
pub struct ExtismEngine {
    settings: Arc<Settings>,
}

impl fmt::Debug for ExtismEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtismEngine")
            .field("entry_point", &self.settings.entry_point)
            .field("policy", &self.settings.policy)
            .field("wasi", &self.settings.wasi)
            .field("max_pages", &self.settings.max_pages)
            .field("fuel", &self.settings.fuel)
            .finish_non_exhaustive()
    }
}

impl ExtismEngine {
    /// The entry point called when none is configured.
    pub const DEFAULT_ENTRY_POINT: &'static str = "main";

    /// An engine calling `main` with the default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// An engine calling `entry_point` with the default settings.
    pub fn with_entry_point(entry_point: impl Into<String>) -> Self {
        Self::builder().entry_point(entry_point).build()
    }

    /// Starts configuring an engine.
    pub fn builder() -> ExtismEngineBuilder {
        ExtismEngineBuilder::default()
    }

    pub(crate) fn from_settings(settings: Arc<Settings>) -> Self {
        ExtismEngine { settings }
    }

    /// The entry point each eval calls.
    pub fn entry_point(&self) -> &str {
        &self.settings.entry_point
    }

    /// The instance reuse policy.
    pub fn policy(&self) -> InstancePolicy {
        self.settings.policy
    }
}

impl Engine for ExtismEngine {
    type Program = ExtismProgram;
    type Instance = ExtismInstance;

    fn kind(&self) -> EngineKind {
        EngineKind::Extism
    }

    fn compile(&self, source: &Source, limits: &Limits) -> Result<ExtismProgram> {
        compile(&self.settings, source, limits)
    }

    fn instantiate(&self, program: &ExtismProgram, _limits: &Limits) -> Result<ExtismInstance> {
        ExtismInstance::new(program, self.settings.policy)
    }

    fn eval(
        &self,
        instance: &mut ExtismInstance,
        program: &ExtismProgram,
        input: &Map,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        let bytes = json_io::input_bytes(input, guard)?;
        let mut foreign_interrupts = 0;
        loop {
            guard.check()?;
            let fresh_needed = instance.policy == InstancePolicy::Fresh && instance.used;
            let plugin = match &mut instance.plugin {
                Some(plugin) if !fresh_needed => plugin,
                slot => {
                    *slot = None; // free the old instance before making the next
                    instance.used = false;
                    slot.insert(new_plugin(program)?)
                }
            };
            instance.used = true;
            // Checked again after making the plugin: a call that starts
            // already late would race Extism's timer (see watchdog.rs).
            guard.check()?;
            let watch = Watch::start(
                plugin.cancel_handle(),
                guard.deadline(),
                guard.cancel_token(),
            );
            let outcome = plugin
                .call_get_error_code::<&[u8], &[u8]>(program.entry_point(), &bytes)
                .map(<[u8]>::to_vec);
            let ours = watch.fired();
            drop(watch);
            let (error, code) = match outcome {
                Ok(output) => return json_io::output_value(&output, TextOutput::Verbatim, guard),
                Err(failure) => failure,
            };
            let failure = classify(&error);
            if failure != Failure::Other {
                // A trapped instance is not reused: its guest runtime may be
                // half-way through something.
                instance.plugin = None;
            }
            if failure != Failure::Interrupted {
                return Err(to_error(guard, failure, &error, code));
            }
            if ours || guard.check().is_err() {
                return Err(guard.interrupt_error());
            }
            foreign_interrupts += 1;
            tracing::debug!(
                foreign_interrupts,
                "interrupted by another instance's stop; retrying"
            );
            if foreign_interrupts > MAX_FOREIGN_INTERRUPTS {
                return Err(guard.runtime_error(
                    "interrupted repeatedly by other instances of the module being stopped",
                    None,
                ));
            }
        }
    }
}
