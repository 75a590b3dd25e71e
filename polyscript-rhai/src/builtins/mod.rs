//! Replacements for rhai standard functions that would break a limit.
//!
//! With the accounting allocator, rhai's own size limits are off (see
//! [`crate::setup::EngineLimits`]) and the memory meter is checked between
//! operations. That leaves three kinds of standard functions that one
//! operation can use to get around the limits, each replaced here by a
//! function with the same name and signature that does the same thing after
//! a check:
//!
//! * [`allocating`]: functions that allocate in proportion to an *argument*
//!   in one step (`pad`, `blob(n)`, `split`, `to_chars`, `replace`,
//!   `to_array`, `parse_json`): checked against what the meter has left (or,
//!   without a meter, rhai's size limits) *before* allocating.
//! * [`printing`] and [`equality`]: functions that recurse over nested
//!   values without any check (`to_string`/`print`/`to_debug`/`debug` of
//!   arrays and maps, `to_json`, `==`/`!=`): they check the native stack per
//!   level (and printing the meter as the text grows), so a deep or
//!   self-referring value ends the eval with a limit error instead of
//!   overflowing the stack.
//! * [`callbacks`]: `sort`, `order` and `dedup` with a comparer treat a
//!   failing comparer as "equal" and go on; these pass a stopped script (a
//!   limit) on instead.
//! * [`time`]: `sleep` blocks the thread; this one wakes at the deadline or
//!   on cancellation.
//!
//! They live in one module built once per process and shared by every
//! engine ([`module`]), registered after the user's configuration, in front
//! of rhai's standard packages.

use std::sync::OnceLock;

use rhai::{EvalAltResult, Module, Shared};

/// What a native function returns (rhai's own alias is private).
type RhaiResultOf<T> = Result<T, Box<EvalAltResult>>;

/// Registers the function `$f` as `$name` in `$module`; `$pure` as rhai marks
/// the function it replaces (a non-pure function cannot be called on a
/// constant).
macro_rules! set {
    ($module:expr, $name:expr, $pure:expr, $f:expr) => {
        rhai::FuncRegistration::new($name)
            .with_purity($pure)
            .set_into_module($module, $f)
    };
}

mod allocating;
mod callbacks;
mod equality;
mod printing;
mod time;

/// The shared module of replacements.
pub(crate) fn module() -> Shared<Module> {
    static MODULE: OnceLock<Shared<Module>> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            let mut module = Module::new();
            allocating::register(&mut module);
            printing::register(&mut module);
            equality::register(&mut module);
            callbacks::register(&mut module);
            time::register(&mut module);
            module.build_index();
            Shared::new(module)
        })
        .clone()
}
