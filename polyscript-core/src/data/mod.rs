//! Bounds on data wherever it crosses into or out of a script.
//!
//! Data is untrusted in both directions: a caller's input can be nested
//! arbitrarily deep, and a script's result can be a cycle, a DAG that expands
//! exponentially when converted, or numbers JSON cannot carry. Everything
//! that walks data in polyscript (serializing a caller's value into a
//! context, validating and merging maps, converting into and out of each
//! engine, parsing WASM output) goes through this module's checks, so the
//! same rules hold everywhere:
//!
//! * **Nesting** is bounded by [`Limits::data_depth`](crate::Limits::data_depth)
//!   (default 128, serde_json's own limit). A context's data, checked before
//!   any evaluator's limits apply, is bounded by
//!   [`Limits::MAX_DATA_DEPTH`](crate::Limits::MAX_DATA_DEPTH). Past the
//!   bound: [`Error::InvalidData`](crate::Error::InvalidData) naming the path
//!   (`ctx.a[0].b`), never a recursion that could overflow the stack.
//! * **Size**: converting an eval's input into the engine and its result out
//!   of it is charged, node by node, against the eval's
//!   [`Limits::memory_bytes`](crate::Limits::memory_bytes) (a [`Budget`]), so
//!   a result that shares sub-values (`x = {x, x}` forty times) ends in
//!   `LimitExceeded(Memory)` after converting at most the limit's worth,
//!   instead of expanding into 2^40 nodes.
//! * **Numbers** follow one rule in every engine, below: no value changes
//!   silently in either direction.
//!
//! # The number rule
//!
//! | value | Rhai | Lua 5.4 | JavaScript | Extism / WASI |
//! |---|---|---|---|---|
//! | integer in `i64` range | `INT`, exact | integer, exact | `Number` if within ±(2^53 − 1), else `InvalidData` | JSON text, exact |
//! | integer above `i64::MAX` (a `u64`) | `InvalidData` | `InvalidData` | `InvalidData` | JSON text, exact |
//! | finite float, `-0.0` included | `FLOAT`, exact | float, exact | `Number`, exact | JSON text, exact |
//! | NaN, ±infinity | cannot occur: rejected when data enters a context | same | same | same |
//!
//! And in results:
//!
//! | result | Rhai | Lua 5.4 | JavaScript | Extism / WASI output |
//! |---|---|---|---|---|
//! | integer | `INT` → integer | integer → integer | integral `Number` within ±(2^53 − 1) (not `-0`) → integer; `BigInt` within `i64`/`u64` → integer, else `InvalidData` | integer literal within `i64`/`u64` → integer, else `InvalidData` |
//! | float | `FLOAT` → float (`3.0` stays a float) | float → float | other finite `Number` → float | float literal → float; one that overflows `f64` → `InvalidData` |
//! | NaN, ±infinity | `InvalidData` | `InvalidData` | `InvalidData` | not JSON, so never produced |
//!
//! A caller's value with a non-finite float (`f64::NAN` in a struct) is
//! refused by [`to_value`] / [`EvalContext::with_data`](crate::EvalContext::with_data)
//! with the path to it; serde_json's own `to_value` would have made it
//! `null`.

mod budget;
mod error;
mod json;
mod numbers;
mod serialize;
mod validate;
mod visitor;

pub use budget::Budget;
pub use error::{DataError, DataErrorKind, Direction, Segment};
pub use json::parse_json;
pub use numbers::{
    IntOrFloat, JS_MAX_SAFE_INTEGER, float_to_json, i64_from_json, js_number_from_json,
    json_from_js_number,
};
pub use serialize::{to_map, to_value};
pub use validate::{check_map, check_value};
pub use visitor::{BoundedMap, BoundedValue};

pub(crate) use validate::deep_merge_checked;

/// Runs `f` with enough native stack for one more level of a walk over
/// data, growing the stack onto the heap when the thread's is nearly used
/// up (through `stacker`). Every recursive walk in polyscript calls this once
/// per container level, so a walk bounded by
/// [`Limits::MAX_DATA_DEPTH`](crate::Limits::MAX_DATA_DEPTH) is safe on any
/// thread, even one with a small stack or a debug build's large frames.
/// Costs a stack-pointer comparison when there is room.
#[inline]
pub fn with_stack<R>(f: impl FnOnce() -> R) -> R {
    /// Room each level must find: generous for debug builds' frames.
    const RED_ZONE: usize = 128 * 1024;
    /// Size of each heap segment when the stack has to grow.
    const SEGMENT: usize = 2 * 1024 * 1024;
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
#[cfg(test)]
pub(crate) use validate::depth_of;
