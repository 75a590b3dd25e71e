//! JSON ⇄ Lua, converted directly through the Lua C API (no serde layer),
//! bounded by a [`Budget`](polyscript_core::data::Budget) in both
//! directions.
//!
//! * [`input`]: the eval's input map becomes the `ctx` table. Lists get the
//!   array metatable (so they come back as lists, even empty); integers are
//!   Lua integers and floats Lua floats; `null` is the null light userdata;
//!   an integer above `i64::MAX` is `InvalidData` naming its path.
//! * [`lazy`]: an input of many top-level keys becomes a `ctx` whose
//!   entries are converted (by `input`'s functions) when first read.
//! * [`output`]: the chunk's result becomes JSON: a table is a list when its
//!   keys are exactly `1..n` (or it is empty and has the array metatable), a
//!   map when they are all strings (sorted, so results are the same however
//!   Lua's hash order falls); anything else (mixed or sparse keys, keys that
//!   are not strings or integers, strings that are not UTF-8, NaN and the
//!   infinities, cycles, functions) is `InvalidData` naming the path.
//!
//! Both walks run in one protected call each, with the state's memory limit
//! off (mlua would otherwise protect every step, ~20% of a small eval); what
//! they may build is bounded by the budget instead, which charges every value
//! and every string byte against the eval's memory limit. Nothing in them can
//! raise a Lua error: they only create tables and strings (which, with no
//! limit, cannot fail but by aborting, like any Rust allocation), set fields
//! with string or integer keys, and read tables without metamethods.

pub(crate) mod input;
pub(crate) mod lazy;
pub(crate) mod output;
