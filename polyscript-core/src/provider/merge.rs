//! Deep merge and key validation shared by the providers and the context.

use crate::data::{check_map, deep_merge_checked};
use crate::error::Result;
use crate::limits::Limits;
use crate::value::Map;

/// Merges `src` into `dst`: later (src) values win; where both sides hold a
/// map the maps merge recursively; lists and scalars are replaced whole.
///
/// Recurses only where both sides hold a map; maps nested deeper than
/// [`Limits::MAX_DATA_DEPTH`] on both sides are [`Error::InvalidData`]
/// (with `dst` merged up to there), never a stack overflow.
///
/// [`Error::InvalidData`]: crate::Error::InvalidData
pub fn deep_merge(dst: &mut Map, src: Map) -> Result<()> {
    deep_merge_checked(dst, src, 1, Limits::MAX_DATA_DEPTH).map_err(|e| e.into_plain_error("ctx"))
}

/// Rejects empty keys anywhere in `map` (also inside nested maps and maps in
/// lists) and nesting past [`Limits::MAX_DATA_DEPTH`], naming the path.
pub(crate) fn validate_keys(map: &Map) -> Result<()> {
    check_map(map, Limits::MAX_DATA_DEPTH).map_err(|e| e.into_plain_error("ctx"))
}
