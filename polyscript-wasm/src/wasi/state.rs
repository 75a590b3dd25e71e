//! What a wasmtime `Store` holds during one eval, and the memory limiter.

use std::fmt;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::p1::WasiP1Ctx;

/// The store data of one eval.
pub(crate) struct EvalState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    /// The result of the last host call, until the module reads it (see
    /// `host::wasi`).
    pub(crate) pending: Option<Vec<u8>>,
}

impl EvalState {
    /// A state with nothing granted, for stores that never run code.
    pub(crate) fn placeholder() -> Self {
        EvalState {
            wasi: wasmtime_wasi::WasiCtxBuilder::new().build_p1(),
            limiter: MemoryLimiter::new(None),
            pending: None,
        }
    }
}

/// Most table elements one instance may have.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Denies any linear memory larger than the eval's
/// [`Limits::memory_bytes`](polyscript_core::Limits::memory_bytes): the
/// guest's `memory.grow` returns -1, as the spec says a refused growth does,
/// so a guest that can live with less memory (an allocator that first asks
/// for double what it needs, then for what it needs) goes on. The refusal is
/// remembered: an eval that then fails ends as `LimitExceeded(Memory)`
/// ([`MemoryLimiter::denied`]) rather than with whatever the guest made of
/// it, so a memory bomb is reported as one.
pub(crate) struct MemoryLimiter {
    pub(crate) max_bytes: Option<usize>,
    /// The first growth refused in this eval.
    pub(crate) denied: Option<MemoryLimitHit>,
}

impl MemoryLimiter {
    pub(crate) fn new(max_bytes: Option<usize>) -> Self {
        MemoryLimiter {
            max_bytes,
            denied: None,
        }
    }
}

/// A growth the limiter refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryLimitHit {
    pub(crate) desired: usize,
    pub(crate) limit: usize,
}

impl fmt::Display for MemoryLimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "linear memory of {} bytes requested, the limit is {} bytes",
            self.desired, self.limit
        )
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match self.max_bytes {
            Some(limit) if desired > limit => {
                self.denied.get_or_insert(MemoryLimitHit { desired, limit });
                Ok(false)
            }
            _ => Ok(true),
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        16
    }
}

/// The error the epoch callback raises when the deadline passed or the eval
/// was cancelled (mapped with `Guard::interrupt_error`).
#[derive(Debug)]
pub(crate) struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted: deadline passed or eval cancelled")
    }
}

impl std::error::Error for Interrupted {}
