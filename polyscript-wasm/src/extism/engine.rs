//! [`ExtismEngine`]: the [`Engine`] implementation for Extism plugins.

use std::fmt;
use std::sync::Arc;

use extism::Plugin;
use polyscript_core::{
    Engine, EngineKind, EvalInput, Guard, Limits, Output, Result, Source, Value,
};

use super::builder::{ExtismEngineBuilder, Settings};
use super::errors::{Failure, classify, to_error};
use super::instance::{ExtismInstance, never_stop, new_plugin};
use super::program::{ExtismProgram, compile};
use crate::host::scope;
use crate::io::{self, TextOutput};
use crate::runtime::must_stop;
use crate::{InstancePolicy, OutputMode};

/// Runs Extism plugins: the module is compiled once, each eval calls one
/// export (the configured entry point, or the context's) with the merged
/// data as JSON bytes (or text or bytes, see [`InputMode`](crate::InputMode))
/// and parses the output as JSON (else returns it as a string; see
/// [`OutputMode`](crate::OutputMode)).
///
/// Built with [`ExtismEngine::builder`]; [`ExtismEngine::new`] calls `main`
/// with the defaults (fresh instance per eval, no WASI, no hosts, no paths,
/// no host functions, memory from the limits, no fuel).
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
            .field("input", &self.settings.input)
            .field("output", &self.settings.output)
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

    fn instantiate(&self, program: &ExtismProgram, limits: &Limits) -> Result<ExtismInstance> {
        ExtismInstance::new(
            program,
            self.settings.policy,
            program.pages_for(limits),
            program.fuel_for(limits),
        )
    }

    fn eval(
        &self,
        instance: &mut ExtismInstance,
        program: &ExtismProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Value> {
        self.eval_output(instance, program, input, guard)
            .map(io::into_value)
    }

    fn eval_output(
        &self,
        instance: &mut ExtismInstance,
        program: &ExtismProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> Result<Output> {
        let entry = match guard.entry_point() {
            Some(name) => {
                program.check_entry_point(name)?;
                name
            }
            None => program.entry_point(),
        };
        let bytes = io::input_bytes(&self.settings.input, input, guard)?;
        let limits = guard.limits();
        let (pages, fuel) = (program.pages_for(limits), program.fuel_for(limits));
        let mut fresh: Plugin;
        let plugin = match instance.policy {
            InstancePolicy::Fresh => {
                fresh = new_plugin(
                    program.compiled(),
                    program.runtime(),
                    program.script_id(),
                    pages,
                    fuel,
                )?;
                &mut fresh
            }
            InstancePolicy::Stateful => instance.stateful_plugin(pages, fuel)?,
        };
        let output = call(plugin, program, entry, &bytes, self.settings.output, guard);
        if output
            .as_ref()
            .is_err_and(|failure| failure.1 != Failure::Other)
        {
            // A trapped instance is not reused: its guest runtime may be
            // half-way through something.
            instance.plugin = None;
        }
        output.map_err(|(error, _)| error)
    }

    /// Any export Extism can call can be the entry point of one eval.
    fn supports_entry_points(&self) -> bool {
        true
    }
}

/// One call of `entry` on `plugin`, stopped by this eval's own deadline and
/// token (checked at every tick of the runtime's epoch ticker), with the
/// host functions seeing this eval's guard; the output is read in `mode`
/// straight out of the plugin's memory. An error comes with how the call
/// failed.
fn call(
    plugin: &mut Plugin,
    program: &ExtismProgram,
    entry: &str,
    input: &[u8],
    mode: OutputMode,
    guard: &Guard<'_>,
) -> std::result::Result<Output, (polyscript_core::Error, Failure)> {
    let runtime = program.runtime();
    let _ticking = runtime.ticking().map_err(|e| (e, Failure::Other))?;
    let (deadline, cancel) = (guard.deadline(), guard.cancel_token().clone());
    plugin.set_interrupt_check(Some(Arc::new(move || must_stop(deadline, &cancel))));
    if program.http {
        let remaining = guard.remaining();
        plugin.set_deadline(remaining.and_then(|d| std::time::Instant::now().checked_add(d)));
    }
    guard.check().map_err(|e| (e, Failure::Interrupted))?;
    let (outcome, stopped) = scope::run(guard, || {
        plugin
            .call_get_error_code::<&[u8], &[u8]>(entry, input)
            .map(|out| io::output(mode, out, TextOutput::Verbatim, guard))
    });
    plugin.set_interrupt_check(Some(never_stop()));
    if let Some(error) = stopped {
        return Err((error, Failure::Interrupted));
    }
    let output = outcome.map_err(|(error, code)| {
        let failure = classify(&error);
        let polyscript_error = to_error(guard, runtime, failure, &error, code);
        match plugin.memory_denied() {
            // The plugin failed after being refused memory: that is why.
            Some(bytes) if failure != Failure::Interrupted => (
                guard.limit_error(
                    polyscript_core::LimitKind::Memory,
                    format!(
                        "the plugin's memories would have grown to {bytes} bytes, past the \
                         instance's limit (then: {polyscript_error})"
                    ),
                ),
                Failure::OutOfMemory,
            ),
            _ => (polyscript_error, failure),
        }
    })?;
    // The output's own errors (invalid data) leave the plugin usable.
    output.map_err(|e| (e, Failure::Other))
}
