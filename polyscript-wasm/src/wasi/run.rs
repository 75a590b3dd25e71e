//! One eval: a fresh store and instance, stdin in, stdout out, errors mapped.

use polyscript_core::{Error, EvalInput, Guard, LimitKind, Output, Result};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{DirPerms, FilePerms, I32Exit, WasiCtxBuilder};

use super::builder::{MAX_ERROR_MESSAGE_BYTES, WasiConfig};
use super::program::{INITIALIZE, START, WasiProgram};
use super::state::{EvalState, Interrupted, MemoryLimiter};
use crate::host::{Stopped, scope};
use crate::io::{self, TextOutput};
use crate::runtime::must_stop;

/// Runs the module's entry point (the context's, else the configured one)
/// once in a fresh instance with the input on stdin.
pub(crate) fn run(
    config: &WasiConfig,
    program: &WasiProgram,
    input: &EvalInput<'_>,
    guard: &Guard<'_>,
) -> Result<Output> {
    let entry = match guard.entry_point() {
        Some(name) => {
            program.check_entry_point(name, guard.script_id())?;
            name
        }
        None => program.entry_point.as_str(),
    };
    let stdin = io::input_bytes(&config.input, input, guard)?;
    let stdout = MemoryOutputPipe::new(config.max_output_bytes);
    let stderr = MemoryOutputPipe::new(config.max_stderr_bytes);
    let wasi = wasi_ctx(config, program, stdin, &stdout, &stderr, guard)?;

    let limits = guard.limits();
    let runtime = &program.runtime;
    let max_memory = runtime.settings().max_memory_bytes;
    let mut store = Store::new(
        runtime.engine(),
        EvalState {
            wasi,
            limiter: MemoryLimiter::new(Some(
                usize::try_from(
                    limits
                        .memory_bytes
                        .map_or(max_memory, |b| b.min(max_memory)),
                )
                .unwrap_or(usize::MAX),
            )),
            pending: None,
        },
    );
    store.limiter(|state| &mut state.limiter);
    if runtime.settings().fuel {
        // Fuel off in the engine but on in the runtime: unmetered.
        let fuel = if config.fuel { limits.operations } else { None };
        store
            .set_fuel(fuel.unwrap_or(u64::MAX))
            .map_err(|e| guard.runtime_error(format!("cannot set fuel: {e:#}"), None))?;
    }
    let cancel = guard.cancel_token().clone();
    let deadline = guard.deadline();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if must_stop(deadline, &cancel) {
            Err(wasmtime::Error::new(Interrupted))
        } else {
            Ok(UpdateDeadline::Continue(1))
        }
    });

    let _ticking = runtime.ticking()?;
    guard.check()?;
    let (outcome, stopped) = scope::run(guard, || {
        let instance = program.pre.instantiate(&mut store)?;
        if program.reactor && entry != START {
            instance
                .get_typed_func::<(), ()>(&mut store, INITIALIZE)?
                .call(&mut store, ())?;
        }
        instance
            .get_typed_func::<(), ()>(&mut store, entry)?
            .call(&mut store, ())
    });
    let denied = store.data().limiter.denied;
    drop(store);
    if let Some(error) = stopped {
        return Err(error);
    }
    let stderr_text = stderr_message(&stderr.contents());
    if let Err(err) = outcome {
        // `proc_exit(0)` surfaces as an `I32Exit(0)` error: a normal end.
        if !matches!(err.downcast_ref::<I32Exit>(), Some(I32Exit(0))) {
            let error = map_error(&err, program, guard, &stderr_text);
            return Err(match denied {
                // The guest failed after being refused memory: that is why.
                Some(hit) if !matches!(error, Error::Timeout { .. } | Error::Cancelled { .. }) => {
                    guard.limit_error(LimitKind::Memory, format!("{hit} (then: {error})"))
                }
                _ => error,
            });
        }
    }
    io::output(
        config.output,
        &stdout.contents(),
        TextOutput::TrimEnd,
        guard,
    )
}

fn wasi_ctx(
    config: &WasiConfig,
    program: &WasiProgram,
    stdin: Vec<u8>,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
    guard: &Guard<'_>,
) -> Result<wasmtime_wasi::p1::WasiP1Ctx> {
    let mut builder = WasiCtxBuilder::new();
    builder
        .allow_blocking_current_thread(true)
        .stdin(MemoryInputPipe::new(stdin))
        .stdout(stdout.clone())
        .arg(&program.program_name)
        .args(&config.args)
        .envs(&config.env);
    if config.inherit_stderr {
        builder.inherit_stderr();
    } else {
        builder.stderr(stderr.clone());
    }
    for preopen in &config.preopens {
        let (dir, file) = if preopen.read_only {
            (DirPerms::READ, FilePerms::READ)
        } else {
            (DirPerms::all(), FilePerms::all())
        };
        builder
            .preopened_dir(&preopen.host, &preopen.guest, dir, file)
            .map_err(|e| {
                guard.runtime_error(
                    format!(
                        "cannot open the directory {} granted as {}: {e:#}",
                        preopen.host.display(),
                        preopen.guest
                    ),
                    None,
                )
            })?;
    }
    Ok(builder.build_p1())
}

/// stderr's text, trimmed and capped at [`MAX_ERROR_MESSAGE_BYTES`].
fn stderr_message(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.len() <= MAX_ERROR_MESSAGE_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_ERROR_MESSAGE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes more)", &text[..end], text.len() - end)
}

fn with_stderr(message: String, stderr: &str) -> String {
    if stderr.is_empty() {
        message
    } else {
        format!("{message}: {stderr}")
    }
}

/// Maps what the entry point returned to the polyscript error (an exit code
/// of 0 is success and never reaches here).
fn map_error(
    err: &wasmtime::Error,
    program: &WasiProgram,
    guard: &Guard<'_>,
    stderr: &str,
) -> Error {
    if let Some(I32Exit(code)) = err.downcast_ref::<I32Exit>() {
        return if stderr.is_empty() {
            guard.runtime_error(format!("the module exited with code {code}"), None)
        } else {
            guard.runtime_error(stderr.to_owned(), None)
        };
    }
    if err.is::<Interrupted>() || err.is::<Stopped>() {
        return guard.interrupt_error();
    }
    let chain: Vec<&(dyn std::error::Error + 'static)> = err.chain().collect();
    if let Some(message) = program.runtime.capacity_message(chain, &format!("{err:#}")) {
        return guard.limit_error(LimitKind::Memory, message);
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => guard.interrupt_error(),
        Some(Trap::OutOfFuel) => guard.limit_error(
            LimitKind::Operations,
            format!(
                "the module ran out of fuel ({} units)",
                guard.limits().operations.unwrap_or(u64::MAX)
            ),
        ),
        Some(Trap::StackOverflow) => {
            guard.limit_error(LimitKind::CallDepth, "the module exhausted its call stack")
        }
        Some(trap) => guard.runtime_error(with_stderr(format!("trap: {trap}"), stderr), None),
        None => guard.runtime_error(with_stderr(format!("{err:#}"), stderr), None),
    }
}
