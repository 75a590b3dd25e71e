//! Host functions for WASI modules: a small import ABI over the module's own
//! memory (its `memory` export), JSON in and out.
//!
//! ```text
//! ;; call the host function NAME with the JSON array at [args, args + len)
//! (import "polyscript_host" "NAME" (func (param $args i32) (param $len i32) (result i32)))
//! ;;   0: it returned; the pending result is its JSON result
//! ;;   1: it failed (an error, a panic, wrong arguments); the pending
//! ;;      result is the UTF-8 message "NAME: MESSAGE", for the module to
//! ;;      handle or report
//! ;;   no return: the eval must end (deadline, cancellation): the call traps
//! (import "polyscript_host_result" "len" (func (result i32)))  ;; bytes of the pending result
//! (import "polyscript_host_result" "read" (func (param $dst i32)))  ;; copies them to dst, clears it
//! ```
//!
//! Two steps because the module owns its allocator: it asks for the length,
//! allocates, and reads. One result is pending at a time; the next call
//! replaces it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use polyscript_core::host::HostFunctions;
use polyscript_core::{EngineKind, ScriptId};
use wasmtime::{Caller, Extern, Linker};

use super::call::{self, Reply, Stopped};
use crate::wasi::EvalState;

/// The import namespace of host functions in WASI modules.
pub const WASI_HOST_NAMESPACE: &str = "polyscript_host";

/// The import namespace of the two result functions (`len`, `read`).
pub const WASI_RESULT_NAMESPACE: &str = "polyscript_host_result";

/// Defines `polyscript_host::NAME` for each of `names` (calling `registry`)
/// and the result functions in `linker`.
pub(crate) fn define<'a>(
    linker: &mut Linker<EvalState>,
    registry: &HostFunctions,
    names: impl IntoIterator<Item = &'a str>,
    script_id: ScriptId,
) -> wasmtime::Result<()> {
    for name in names {
        let Some(function) = registry.get(name).cloned() else {
            continue; // the import check has refused the module already
        };
        let fn_name = name.to_owned();
        linker.func_wrap(
            WASI_HOST_NAMESPACE,
            name,
            move |mut caller: Caller<'_, EvalState>, ptr: u32, len: u32| -> wasmtime::Result<u32> {
                let args = read_memory(&mut caller, ptr, len)?;
                let reply = catch_unwind(AssertUnwindSafe(|| {
                    call::call(&function, &args, EngineKind::Wasi, script_id)
                }))
                .unwrap_or_else(|_| Ok(Reply::Failed(format!("{fn_name}: panicked"))));
                let (status, pending) = match reply {
                    Ok(Reply::Ok(json)) => (0, json),
                    Ok(Reply::Failed(message)) => (1, message.into_bytes()),
                    Err(Stopped) => return Err(wasmtime::Error::new(Stopped)),
                };
                caller.data_mut().pending = Some(pending);
                Ok(status)
            },
        )?;
    }
    linker.func_wrap(
        WASI_RESULT_NAMESPACE,
        "len",
        |caller: Caller<'_, EvalState>| -> u32 {
            caller
                .data()
                .pending
                .as_ref()
                .map_or(0, |p| u32::try_from(p.len()).unwrap_or(u32::MAX))
        },
    )?;
    linker.func_wrap(
        WASI_RESULT_NAMESPACE,
        "read",
        |mut caller: Caller<'_, EvalState>, dst: u32| -> wasmtime::Result<()> {
            let pending = caller.data_mut().pending.take().unwrap_or_default();
            write_memory(&mut caller, dst, &pending)
        },
    )?;
    Ok(())
}

/// Whether `namespace` is one of the host ABI's.
pub(crate) fn is_abi_namespace(namespace: &str) -> bool {
    namespace == WASI_HOST_NAMESPACE || namespace == WASI_RESULT_NAMESPACE
}

fn memory_error() -> wasmtime::Error {
    wasmtime::Error::msg("a host call needs the module to export its memory as `memory`")
}

fn read_memory(
    caller: &mut Caller<'_, EvalState>,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<Vec<u8>> {
    let (start, len) = (ptr as usize, len as usize);
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => {
            let mut buf = vec![0; len];
            memory.read(&caller, start, &mut buf)?;
            Ok(buf)
        }
        Some(Extern::SharedMemory(memory)) => {
            let data = memory.data();
            let end = start.checked_add(len).filter(|&end| end <= data.len());
            let end =
                end.ok_or_else(|| wasmtime::Error::msg("host call arguments out of bounds"))?;
            // SAFETY: reading shared memory other instances may write at the
            // same time is racy but not unsound for plain bytes (the guest's
            // own synchronisation decides what it means, as for any wasm
            // thread); the range is in bounds.
            Ok(data[start..end]
                .iter()
                .map(|cell| unsafe { *cell.get() })
                .collect())
        }
        _ => Err(memory_error()),
    }
}

fn write_memory(
    caller: &mut Caller<'_, EvalState>,
    dst: u32,
    bytes: &[u8],
) -> wasmtime::Result<()> {
    let start = dst as usize;
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory.write(caller, start, bytes)?),
        Some(Extern::SharedMemory(memory)) => {
            let data = memory.data();
            let end = start
                .checked_add(bytes.len())
                .filter(|&end| end <= data.len());
            let end = end.ok_or_else(|| wasmtime::Error::msg("host call result out of bounds"))?;
            for (cell, byte) in data[start..end].iter().zip(bytes) {
                // SAFETY: as in `read_memory`; in bounds.
                unsafe { *cell.get() = *byte };
            }
            Ok(())
        }
        _ => Err(memory_error()),
    }
}
