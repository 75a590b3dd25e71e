//! One eval: a fresh store and instance, stdin in, stdout out, errors mapped.

use polyscript_core::clock::Instant;
use polyscript_core::{Error, Guard, LimitKind, Map, Result, Value};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{DirPerms, FilePerms, I32Exit, WasiCtxBuilder};

use super::builder::{MAX_ERROR_MESSAGE_BYTES, WasiConfig};
use super::program::{ENTRY_POINT, WasiProgram};
use super::state::{EvalState, Interrupted, MemoryLimitHit, MemoryLimiter};
use crate::json_io::{self, TextOutput};

/// Runs the module's `_start` once in a fresh instance with `input` on stdin.
pub(crate) fn run(
    config: &WasiConfig,
    program: &WasiProgram,
    input: &Map,
    guard: &Guard<'_>,
) -> Result<Value> {
    let stdin = json_io::input_bytes(input, guard)?;
    let stdout = MemoryOutputPipe::new(config.max_output_bytes);
    let stderr = MemoryOutputPipe::new(config.max_stderr_bytes);
    let wasi = wasi_ctx(config, program, stdin, &stdout, &stderr, guard)?;

    let limits = guard.limits();
    let engine = program.runtime.engine();
    let mut store = Store::new(
        engine,
        EvalState {
            wasi,
            limiter: MemoryLimiter {
                max_bytes: limits
                    .memory_bytes
                    .map(|b| usize::try_from(b).unwrap_or(usize::MAX)),
            },
        },
    );
    store.limiter(|state| &mut state.limiter);
    if program.runtime.fuel() {
        store
            .set_fuel(limits.operations.unwrap_or(u64::MAX))
            .map_err(|e| guard.runtime_error(format!("cannot set fuel: {e:#}"), None))?;
    }
    let cancel = guard.cancel_token().clone();
    let deadline = guard.deadline();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if cancel.is_cancelled() || deadline.is_some_and(Instant::has_passed) {
            Err(wasmtime::Error::new(Interrupted))
        } else {
            Ok(UpdateDeadline::Continue(1))
        }
    });

    let _ticking = program.runtime.ticking()?;
    guard.check()?;
    let outcome = program
        .pre
        .instantiate(&mut store)
        .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, ENTRY_POINT))
        .and_then(|start| start.call(&mut store, ()));
    drop(store);
    let stderr_text = stderr_message(&stderr.contents());
    if let Err(err) = outcome {
        // `proc_exit(0)` surfaces as an `I32Exit(0)` error: a normal end.
        if !matches!(err.downcast_ref::<I32Exit>(), Some(I32Exit(0))) {
            return Err(map_error(&err, guard, &stderr_text));
        }
    }
    json_io::output_value(&stdout.contents(), TextOutput::TrimEnd, guard)
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

/// Maps what `_start` returned to the polyscript error (an exit code of 0 is
/// success and never reaches here).
fn map_error(err: &wasmtime::Error, guard: &Guard<'_>, stderr: &str) -> Error {
    if let Some(I32Exit(code)) = err.downcast_ref::<I32Exit>() {
        return if stderr.is_empty() {
            guard.runtime_error(format!("the module exited with code {code}"), None)
        } else {
            guard.runtime_error(stderr.to_owned(), None)
        };
    }
    if err.is::<Interrupted>() {
        return guard.interrupt_error();
    }
    if let Some(hit) = err.downcast_ref::<MemoryLimitHit>() {
        return guard.limit_error(LimitKind::Memory, hit.to_string());
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
