//! Data in and out of rhai: direct converters between `serde_json::Value`
//! and `rhai::Dynamic` (no serde bridge in between), bounded by a
//! [`Budget`](polyscript_core::data::Budget) in both directions and
//! following the number rule of [`polyscript_core::data`].
//!
//! * In ([`to_rhai`], and [`value_to_rhai`] for host functions' results):
//!   objects become object maps, arrays arrays, strings strings, `null`
//!   `()`, booleans booleans. Integers within `i64` become
//!   `INT`, every other number `FLOAT`; an integer above `i64::MAX` is
//!   [`InvalidData`](polyscript_core::Error::InvalidData) naming its path
//!   (`ctx.a[0]`).
//! * Out ([`from_rhai`], also host functions' arguments): `()` → `null`,
//!   booleans, `INT` → integer, `FLOAT` → float (`3.0` and `-0.0` stay
//!   floats; NaN and the infinities are `InvalidData` naming `result.…`),
//!   strings and chars → strings, arrays → lists, BLOBs → lists of bytes,
//!   object maps → maps (in rhai's key order), other integer types a
//!   function registered with `register_fn` returned (`i32`, `u64`...) →
//!   integers. Shared values (captured by closures) are read through and
//!   charged every time they appear, so a value shared in many places cannot
//!   expand past the memory limit. Function pointers, timestamps, ranges and
//!   custom types have no JSON form: `InvalidData` naming the type and path.
//!
//! Both walks recurse once per container level through
//! [`data::with_stack`](polyscript_core::data::with_stack) and stop at the
//! budget's depth, so no value can overflow the stack.

mod input;
mod output;

pub(crate) use input::{to_rhai, value_to_rhai};
pub(crate) use output::{from_rhai, is_flat};

#[cfg(test)]
mod tests;
