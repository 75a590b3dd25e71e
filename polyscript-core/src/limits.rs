//! Resource limits with finite defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Hard limits for one eval. Every engine maps them to its own mechanism; a
/// script that runs into one ends with [`Error::Timeout`](crate::Error::Timeout)
/// or [`Error::LimitExceeded`](crate::Error::LimitExceeded), data past a bound
/// with [`Error::InvalidData`](crate::Error::InvalidData).
///
/// The defaults are finite: a script cannot run forever or take the host's
/// memory unless the embedding program says so explicitly. `None` switches a
/// limit off. Build values with [`Limits::default`] (or
/// [`Limits::unlimited`]) and the `with_*` / `without_*` methods; the fields
/// are public for reading and for changing one in place.
///
/// ```
/// use std::time::Duration;
/// use polyscript_core::Limits;
///
/// let limits = Limits::default()
///     .with_timeout(Duration::from_millis(250))
///     .without_operation_limit();
/// assert_eq!(limits.operations, None);
/// assert_eq!(limits.data_depth, Limits::DEFAULT_DATA_DEPTH);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Limits {
    /// Wall-clock budget of one eval (default 5 s).
    pub timeout: Option<Duration>,
    /// Memory a script may use, in bytes (default 64 MiB). What each engine
    /// counts is in its crate docs; converting an eval's input and its result
    /// is counted against it too (see [`data`](crate::data)).
    pub memory_bytes: Option<u64>,
    /// Operations (Rhai operations, Lua instruction-hook ticks, JS loop
    /// iterations, WASM fuel) per eval (default 100 million).
    pub operations: Option<u64>,
    /// Maximum call depth / recursion (default 256).
    pub call_depth: Option<u32>,
    /// Deepest nesting of lists and maps that may cross into or out of a
    /// script (default [`DEFAULT_DATA_DEPTH`](Self::DEFAULT_DATA_DEPTH)).
    /// Always finite: every conversion walk recurses once per level, so an
    /// unbounded depth could overflow the stack. Values above
    /// [`MAX_DATA_DEPTH`](Self::MAX_DATA_DEPTH) count as that.
    pub data_depth: u32,
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
    /// Default nesting bound for data: 128, serde_json's own parser limit, so
    /// any JSON document serde_json reads can be evaluated unchanged.
    pub const DEFAULT_DATA_DEPTH: u32 = 128;
    /// The deepest nesting any limit may allow, and the bound on data that is
    /// checked before an evaluator's limits are known (a context's data, a
    /// static provider's). 1024 levels of the deepest converter stay well
    /// within a 2 MiB thread stack.
    pub const MAX_DATA_DEPTH: u32 = 1024;

    /// No limits at all, but the data depth (which has no "off"). Only for
    /// trusted scripts and for measuring what the limits cost.
    pub const fn unlimited() -> Self {
        Limits {
            timeout: None,
            memory_bytes: None,
            operations: None,
            call_depth: None,
            data_depth: Self::DEFAULT_DATA_DEPTH,
        }
    }

    /// These limits with another timeout.
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// These limits without a timeout.
    pub const fn without_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// These limits with another memory limit.
    pub const fn with_memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = Some(bytes);
        self
    }

    /// These limits without a memory limit.
    pub const fn without_memory_limit(mut self) -> Self {
        self.memory_bytes = None;
        self
    }

    /// These limits with another operation budget.
    pub const fn with_operations(mut self, operations: u64) -> Self {
        self.operations = Some(operations);
        self
    }

    /// These limits without an operation budget.
    pub const fn without_operation_limit(mut self) -> Self {
        self.operations = None;
        self
    }

    /// These limits with another call depth.
    pub const fn with_call_depth(mut self, depth: u32) -> Self {
        self.call_depth = Some(depth);
        self
    }

    /// These limits without a call-depth limit (engines that need one to
    /// protect the native stack keep their own).
    pub const fn without_call_depth_limit(mut self) -> Self {
        self.call_depth = None;
        self
    }

    /// These limits with another data nesting bound (at least 1, at most
    /// [`MAX_DATA_DEPTH`](Self::MAX_DATA_DEPTH)).
    pub const fn with_data_depth(mut self, depth: u32) -> Self {
        self.data_depth = depth;
        self
    }

    /// The data nesting bound in force: [`data_depth`](Self::data_depth)
    /// clamped to `1..=MAX_DATA_DEPTH`.
    pub const fn effective_data_depth(&self) -> u32 {
        if self.data_depth == 0 {
            1
        } else if self.data_depth > Self::MAX_DATA_DEPTH {
            Self::MAX_DATA_DEPTH
        } else {
            self.data_depth
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Some(Self::DEFAULT_TIMEOUT),
            memory_bytes: Some(Self::DEFAULT_MEMORY_BYTES),
            operations: Some(Self::DEFAULT_OPERATIONS),
            call_depth: Some(Self::DEFAULT_CALL_DEPTH),
            data_depth: Self::DEFAULT_DATA_DEPTH,
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

    #[test]
    fn data_depth_is_clamped() {
        assert_eq!(
            Limits::default().with_data_depth(0).effective_data_depth(),
            1
        );
        assert_eq!(
            Limits::default()
                .with_data_depth(u32::MAX)
                .effective_data_depth(),
            Limits::MAX_DATA_DEPTH
        );
        assert_eq!(Limits::default().effective_data_depth(), 128);
    }

    #[test]
    fn missing_fields_deserialize_to_defaults() {
        let limits: Limits = serde_json::from_str(r#"{"operations": 7}"#).unwrap();
        assert_eq!(limits.operations, Some(7));
        assert_eq!(limits.data_depth, Limits::DEFAULT_DATA_DEPTH);
        assert_eq!(limits.timeout, Some(Limits::DEFAULT_TIMEOUT));
    }
}
