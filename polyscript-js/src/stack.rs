//! Enough native stack for an eval on the caller's thread.
//!
//! boa runs JavaScript-to-JavaScript calls on its own frame stack, but every
//! native re-entry (an `Array.prototype.map` callback, a getter, `toString`
//! from a built-in) recurses on the Rust stack, up to the recursion limit. A
//! worker thread is made with a big stack for that; a caller's thread has
//! whatever it has (2 MiB for a default `std::thread`, 8 MiB for `main`).

use crate::runtime::UNLIMITED_CALL_DEPTH;

/// Native stack one level of JavaScript re-entry may use, with a 4× margin.
/// Measured by running getter and `Array.prototype.map` recursion to a
/// recursion limit of 4096 on threads of decreasing stack size: release
/// needs 2–4 MiB (0.5–1 KiB a level), this workspace's dev profile about the
/// same; everything around the script (building a context, conversions, the
/// run loop) fits in 128 KiB. Pinned by `tests/behaviour.rs`,
/// `deep_native_reentry_on_a_default_thread_is_bounded`.
const PER_LEVEL: usize = 4 * 1024;

/// Stack for everything around the script, with margin.
const BASE: usize = 512 * 1024;

/// Native stack an eval with recursion limit `depth` may need.
pub(crate) fn needed_for(depth: usize) -> usize {
    BASE.saturating_add(depth.saturating_mul(PER_LEVEL))
}

/// Whether the current thread has stack enough left for an eval with
/// recursion limit `call_depth` (`None`: boa's unlimited-depth stand-in).
pub(crate) fn enough_for(call_depth: Option<u32>) -> bool {
    let depth = call_depth.map_or(UNLIMITED_CALL_DEPTH, |d| {
        usize::try_from(d).unwrap_or(usize::MAX)
    });
    stacker::remaining_stack().is_some_and(|left| left >= needed_for(depth))
}

/// Runs `f` on the current stack when at least `need` bytes of it are left,
/// else on a new stack segment of `need` bytes (same thread, so boa's
/// thread-local heap is still the right one).
pub(crate) fn with_stack<R>(need: usize, f: impl FnOnce() -> R) -> R {
    match stacker::remaining_stack() {
        Some(left) if left >= need => f(),
        _ => stacker::grow(need, f),
    }
}

/// Native stack parsing and compiling a script may need: boa's parser
/// recurses per level of nesting (at most `boa_parser::DEFAULT_MAX_NESTING`
/// levels, a polyscript patch), and so do the passes that walk the AST after
/// it. Reserved address space: only the pages used cost memory.
const COMPILE_STACK: usize = 64 * 1024 * 1024;

/// Runs `f` (a parse or compile) with [`COMPILE_STACK`] bytes of stack: on
/// the current stack when that much is left, else on a new segment.
pub(crate) fn for_compile<R>(f: impl FnOnce() -> R) -> R {
    with_stack(COMPILE_STACK, f)
}
