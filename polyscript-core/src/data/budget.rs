//! [`Budget`]: the depth and size one conversion may reach.

use super::error::{DataError, DataErrorKind};
use crate::limits::Limits;

/// The bounds of one conversion of data (an eval's input into the engine,
/// or its result out of it): a nesting depth and a number of bytes, charged
/// as the converter builds values.
///
/// Converters pass the depth of the container they are about to build
/// (1 for the outermost) to [`enter`](Self::enter), and charge every value
/// they build with [`charge_value`](Self::charge_value) plus the bytes of
/// every string and map key with [`charge_bytes`](Self::charge_bytes). Both
/// are a compare and a subtraction: cheap enough for the hot path.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    max_depth: u32,
    bytes_left: u64,
    limit: Option<u64>,
}

impl Budget {
    /// Bytes charged for each value built, whatever its kind: about what a
    /// `serde_json::Value` plus its share of a list or map entry takes.
    pub const VALUE_BYTES: u64 = 48;

    /// A budget of `max_depth` levels (clamped to
    /// [`Limits::MAX_DATA_DEPTH`]) and `max_bytes` (`None`: unlimited).
    pub fn new(max_depth: u32, max_bytes: Option<u64>) -> Self {
        Budget {
            max_depth: max_depth.clamp(1, Limits::MAX_DATA_DEPTH),
            bytes_left: max_bytes.unwrap_or(u64::MAX),
            limit: max_bytes,
        }
    }

    /// The budget an eval's limits give: their data depth and memory limit.
    pub fn for_limits(limits: &Limits) -> Self {
        Self::new(limits.effective_data_depth(), limits.memory_bytes)
    }

    /// A budget with only a depth bound (no size limit).
    pub fn depth_only(max_depth: u32) -> Self {
        Self::new(max_depth, None)
    }

    /// The nesting bound.
    pub fn max_depth(&self) -> u32 {
        self.max_depth
    }

    /// Bytes that may still be charged (`u64::MAX` when unlimited).
    pub fn bytes_left(&self) -> u64 {
        self.bytes_left
    }

    /// Checks that a container at `depth` (1 = the outermost) may be built.
    #[inline]
    pub fn enter(&self, depth: u32) -> Result<(), DataError> {
        if depth > self.max_depth {
            Err(DataError::too_deep(self.max_depth))
        } else {
            Ok(())
        }
    }

    /// Charges one value ([`VALUE_BYTES`](Self::VALUE_BYTES)).
    #[inline]
    pub fn charge_value(&mut self) -> Result<(), DataError> {
        self.charge(Self::VALUE_BYTES)
    }

    /// Charges `bytes` (a string's or a key's length).
    #[inline]
    pub fn charge_bytes(&mut self, bytes: usize) -> Result<(), DataError> {
        self.charge(bytes as u64)
    }

    #[inline]
    fn charge(&mut self, bytes: u64) -> Result<(), DataError> {
        match self.bytes_left.checked_sub(bytes) {
            Some(left) => {
                self.bytes_left = left;
                Ok(())
            }
            None => Err(self.too_large()),
        }
    }

    fn too_large(&self) -> DataError {
        DataError::new(DataErrorKind::TooLarge {
            limit: self.limit.unwrap_or(u64::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_bytes_are_bounded() {
        let mut budget = Budget::new(2, Some(100));
        assert!(budget.enter(1).is_ok() && budget.enter(2).is_ok());
        assert_eq!(
            budget.enter(3).unwrap_err().kind(),
            &DataErrorKind::TooDeep { limit: 2 }
        );
        assert!(budget.charge_value().is_ok());
        assert!(budget.charge_bytes(52).is_ok());
        assert_eq!(budget.bytes_left(), 0);
        assert_eq!(
            budget.charge_bytes(1).unwrap_err().kind(),
            &DataErrorKind::TooLarge { limit: 100 }
        );
    }

    #[test]
    fn depth_is_clamped_and_unlimited_bytes_never_run_out() {
        let mut budget = Budget::new(u32::MAX, None);
        assert_eq!(budget.max_depth(), Limits::MAX_DATA_DEPTH);
        for _ in 0..1000 {
            budget.charge_bytes(usize::MAX / 2048).unwrap();
        }
    }
}
