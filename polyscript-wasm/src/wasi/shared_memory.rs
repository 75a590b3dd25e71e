//! [`SharedMemory`]: one linear memory for many instances of WASI modules
//! built with threads / shared memory.

use polyscript_core::{Error, Result};
use wasmparser::{Operator, Parser, Payload};

use crate::WasmRuntime;

/// A linear memory that instances of WASI modules import and share: what one
/// instance writes, every other instance using the same `SharedMemory` reads
/// (across evaluators and threads). Created on a [`WasmRuntime`]; the
/// engines given it ([`WasiEngineBuilder::shared_memory`](crate::WasiEngineBuilder::shared_memory))
/// run on that runtime. The module imports a shared memory (any module and
/// field name, e.g. `(import "env" "memory" (memory 1 16 shared))`) and
/// exports it as `memory`, through which WASI reads and writes; see
/// `guests/shared/mailbox.wat` for a complete example.
///
/// # Synchronisation rules
///
/// * Instances run on different threads at the same time with no ordering
///   between them but the one the guest makes: use the atomic instructions
///   (`i32.atomic.load` / `store` / `rmw.*`) for anything another instance
///   reads while it may be written. Plain loads and stores of shared data
///   are data races: the result is whatever the hardware gives, never a
///   crash of the host.
/// * Waiting: `memory.atomic.wait32` / `wait64` block their thread inside
///   wasmtime, where neither the eval's deadline nor its cancellation can
///   reach it, so a module that uses them is refused when the evaluator is
///   built. Wait by looping on an atomic load instead (every loop iteration
///   is interruptible: the deadline and cancellation stop it), with
///   `memory.atomic.notify` free to use.
/// * Every instantiation applies the module's active data segments to its
///   memory; on a shared memory that would overwrite what other instances
///   use, so a module with active data segments in its shared memory is
///   refused. (Toolchains building for threads emit passive segments that
///   the module initialises once, under an atomic flag.)
/// * Each instance has its own globals but starts them at the same values:
///   code using a shadow stack in linear memory (C, Zig, Rust) must give
///   each concurrently running instance its own stack region, or run one at
///   a time.
/// * The memory's size is fixed up front ([`new`](Self::new)'s maximum; a
///   guest's `memory.grow` may grow it up to that), counted once, not per
///   eval: `Limits::memory_bytes` bounds each instance's own memories only.
///
/// Extism plugins cannot share memory: Extism gives each plugin its own
/// kernel memory and module memory, and its PDKs build single-threaded
/// modules.
///
/// ```
/// use polyscript_wasm::{SharedMemory, WasmRuntime};
/// let runtime = WasmRuntime::shared(true, polyscript_wasm::Allocation::Pooling)?;
/// let memory = SharedMemory::new(&runtime, 1, 1)?;
/// memory.write(0, &[1, 2, 3])?;
/// assert_eq!(memory.read(0, 3)?, vec![1, 2, 3]);
/// assert_eq!(memory.size_bytes(), 65_536);
/// # Ok::<(), polyscript_core::Error>(())
/// ```
#[derive(Clone)]
pub struct SharedMemory {
    pub(crate) memory: wasmtime::SharedMemory,
    pub(crate) runtime: WasmRuntime,
}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("bytes", &self.size_bytes())
            .finish_non_exhaustive()
    }
}

impl SharedMemory {
    /// A shared memory of `min_pages` 64 KiB pages that guests may grow to
    /// `max_pages`, on `runtime`.
    pub fn new(runtime: &WasmRuntime, min_pages: u32, max_pages: u32) -> Result<Self> {
        let ty = wasmtime::MemoryType::shared(min_pages, max_pages.max(min_pages));
        let memory =
            wasmtime::SharedMemory::new(runtime.engine(), ty).map_err(|e| Error::Unsupported {
                message: format!("cannot create the shared memory: {e:#}"),
            })?;
        Ok(SharedMemory {
            memory,
            runtime: runtime.clone(),
        })
    }

    /// Its current size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.memory.data_size()
    }

    /// The runtime it was created on.
    pub fn runtime(&self) -> &WasmRuntime {
        &self.runtime
    }

    /// Copies `len` bytes at `offset` out (for the host to inspect; racy
    /// against instances writing at the same time, like any plain read).
    pub fn read(&self, offset: usize, len: usize) -> Result<Vec<u8>> {
        let data = self.memory.data();
        let range = self.range(offset, len, data.len())?;
        // SAFETY: in bounds; a concurrent guest write makes the bytes read
        // unspecified, not the read unsound (plain bytes, no references kept).
        Ok(data[range]
            .iter()
            .map(|cell| unsafe { *cell.get() })
            .collect())
    }

    /// Copies `bytes` in at `offset` (racy like [`read`](Self::read)).
    pub fn write(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        let data = self.memory.data();
        let range = self.range(offset, bytes.len(), data.len())?;
        for (cell, byte) in data[range].iter().zip(bytes) {
            // SAFETY: as in `read`.
            unsafe { *cell.get() = *byte };
        }
        Ok(())
    }

    fn range(&self, offset: usize, len: usize, size: usize) -> Result<std::ops::Range<usize>> {
        offset
            .checked_add(len)
            .filter(|&end| end <= size)
            .map(|end| offset..end)
            .ok_or_else(|| {
                Error::invalid_data(format!(
                    "bytes {offset}..{offset}+{len} are outside the shared memory ({size} bytes)"
                ))
            })
    }
}

/// Why `wasm` (a binary module) cannot run on a shared memory: it waits
/// with `memory.atomic.wait*`, or it has active data segments in memory 0
/// (the imported shared one). `None`: it can.
pub(crate) fn unsafe_for_sharing(wasm: &[u8]) -> Option<String> {
    for payload in Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(Payload::DataSection(reader)) => {
                for data in reader.into_iter().flatten() {
                    if let wasmparser::DataKind::Active {
                        memory_index: 0, ..
                    } = data.kind
                    {
                        return Some(
                            "it has active data segments in its shared memory, which every new \
                             instance would write over what the others use (build it with \
                             passive segments, as toolchains targeting threads do)"
                                .into(),
                        );
                    }
                }
            }
            Ok(Payload::CodeSectionEntry(body)) => {
                let Ok(mut ops) = body.get_operators_reader() else {
                    continue;
                };
                while !ops.eof() {
                    match ops.read() {
                        Ok(
                            Operator::MemoryAtomicWait32 { .. }
                            | Operator::MemoryAtomicWait64 { .. },
                        ) => {
                            return Some(
                                "it uses memory.atomic.wait, which blocks its thread where the \
                                 deadline and cancellation cannot stop it (loop on an atomic \
                                 load instead)"
                                    .into(),
                            );
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return None, // wasmtime has already validated it
        }
    }
    None
}
