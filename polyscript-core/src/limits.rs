//! Resource limits with finite defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Hard limits for one eval. Every engine maps them to its own mechanism; a
/// script that runs into one ends with [`Error::Timeout`](crate::Error::Timeout)
/// or [`Error::LimitExceeded`](crate::Error::LimitExceeded).
///
/// The defaults are finite: a script cannot run forever or take the host's
/// memory unless the embedding program says so explicitly. `None` switches a
/// limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock budget of one eval (default 5 s).
    pub timeout: Option<Duration>,
    /// Memory a script may use, in bytes (default 64 MiB). Engines apply it as
    /// best they can: a Lua state's allocator limit, WASM linear memory,
    /// Rhai/JS string and collection sizes.
    pub memory_bytes: Option<u64>,
    /// Operations (Rhai operations, Lua instruction-hook ticks, JS loop
    /// iterations, WASM fuel) per eval (default 100 million).
    pub operations: Option<u64>,
    /// Maximum call depth / recursion (default 256).
    pub call_depth: Option<u32>,
}

impl Limits {
    /// Default wall-clock budget.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default memory limit.
    pub const DEFAULT_MEMORY_BYTES: u64 = 64 * 1024 * 1024;
    /// Default operation budget.
    pub const DEFAULT_OPERATIONS: u64 = 100_000_000;
    /// Default call depth.
    pub const DEFAULT_CALL_DEPTH: u32 = 256;

    /// No limits at all. Only for trusted scripts and for measuring what
    /// the limits cost.
    pub const fn unlimited() -> Self {
        Limits {
            timeout: None,
            memory_bytes: None,
            operations: None,
            call_depth: None,
        }
    }

    /// These limits with another timeout.
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// These limits with another memory limit.
    pub const fn with_memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = Some(bytes);
        self
    }

    /// These limits with another operation budget.
    pub const fn with_operations(mut self, operations: u64) -> Self {
        self.operations = Some(operations);
        self
    }

    /// These limits with another call depth.
    pub const fn with_call_depth(mut self, depth: u32) -> Self {
        self.call_depth = Some(depth);
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Some(Self::DEFAULT_TIMEOUT),
            memory_bytes: Some(Self::DEFAULT_MEMORY_BYTES),
            operations: Some(Self::DEFAULT_OPERATIONS),
            call_depth: Some(Self::DEFAULT_CALL_DEPTH),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_finite() {
        let l = Limits::default();
        assert!(l.timeout.is_some() && l.memory_bytes.is_some());
        assert!(l.operations.is_some() && l.call_depth.is_some());
        assert_eq!(Limits::unlimited().timeout, None);
        assert_eq!(
            Limits::default()
                .with_timeout(Duration::from_millis(5))
                .timeout,
            Some(Duration::from_millis(5))
        );
    }
}
