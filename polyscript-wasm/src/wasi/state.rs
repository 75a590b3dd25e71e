//! What a wasmtime `Store` holds during one eval, and the memory limiter.

use std::fmt;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::p1::WasiP1Ctx;

/// The store data of one eval.
pub(crate) struct EvalState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
}

/// Most table elements one instance may have.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Denies (with a trap) any linear memory larger than the eval's
/// [`Limits::memory_bytes`](polyscript_core::Limits::memory_bytes), so a
/// memory bomb ends as `LimitExceeded(Memory)` instead of a guest that
/// quietly sees `memory.grow` return -1.
pub(crate) struct MemoryLimiter {
    pub(crate) max_bytes: Option<usize>,
}

/// The error a denied memory growth raises (recognised after the call).
#[derive(Debug)]
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

impl std::error::Error for MemoryLimitHit {}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match self.max_bytes {
            Some(limit) if desired > limit => {
                Err(wasmtime::Error::new(MemoryLimitHit { desired, limit }))
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
