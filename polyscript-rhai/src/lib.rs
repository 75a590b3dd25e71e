//! The [Rhai](https://rhai.rs) engine of
//! [polyscript](https://docs.rs/polyscript).
//!
//! # Scripts
//!
//! A script reads its input as the constant `ctx`, an object map
//! (`ctx.name`, `ctx["name"]`, `ctx.user.address.city`), and its result is
//! the value of its last expression (or of `exit(value)`):
//!
//! ```
//! use polyscript_core::{EvalContext, Evaluator, Source};
//! use polyscript_rhai::RhaiEngine;
//! use serde_json::json;
//!
//! let script = r#"
//!     let greeting = "Hello, " + ctx["name"] + "!";
//!     #{ greeting: greeting, length: greeting.len() }
//! "#;
//! let evaluator = Evaluator::new(RhaiEngine::new(), Source::from_text(script))?;
//! let response = evaluator.eval(&EvalContext::with_data(json!({"name": "World"}))?)?;
//! assert_eq!(response.value(), &json!({"greeting": "Hello, World!", "length": 13}));
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! Script functions (`fn f(x) { .. }`) cannot see `ctx` (rhai functions do
//! not capture the caller's variables): pass it, or parts of it, as arguments.
//!
//! # Data
//!
//! Input and result cross through rhai's own serde bridge
//! (`rhai::serde::to_dynamic` / `from_dynamic`). JSON integers are rhai `INT`
//! (`i64`) and come back as integers; floats are `FLOAT` (`f64`) and come back
//! as floats; `null` is `()`. A `u64` above `i64::MAX` becomes a float. Results
//! with no JSON form (function pointers, timestamps, custom types, NaN or
//! infinite floats) are an [`Error::InvalidData`](polyscript_core::Error).
//!
//! # Compile once, isolated evals
//!
//! [`Engine::compile`](polyscript_core::Engine::compile) builds a configured
//! `rhai::Engine` (a few hundred microseconds, once per script) and the `AST`.
//! Every eval runs that `AST` in a fresh `Scope` holding only `ctx`, so
//! nothing a script declares survives into the next eval. Rhai has no other
//! mutable global state: no global table, no statics; script functions are
//! part of the `AST` and immutable.
//!
//! # Limits
//!
//! The evaluator's [`Limits`](polyscript_core::Limits) map to rhai's own
//! mechanisms:
//!
//! | limit | rhai mechanism | error |
//! |-------|----------------|-------|
//! | `timeout`, deadline, cancel token | `on_progress` checks the clock and the token every 256 operations | `Timeout` / `Cancelled` |
//! | `operations` | rhai's own `set_max_operations`, set on the instance's engine before each eval | `LimitExceeded(Operations)` |
//! | `call_depth` | `set_max_call_levels` | `LimitExceeded(CallDepth)` |
//! | `memory_bytes` = *M* | `set_max_string_size(M)` bytes, `set_max_array_size(M / 16)` elements (one `Dynamic` is 16 bytes), `set_max_map_size(M / 64)` entries (value, key and node share) | `LimitExceeded(Memory)` |
//!
//! rhai counts nested arrays and maps into their container's size, so one
//! value cannot grow past the budget; it does not track the sum over
//! separate variables, so the memory limit bounds each value rather than the
//! script's total. One gap is rhai's own (1.27): adding a *new key* to a map
//! by indexed assignment (`m[key] = v`) is not size-checked (`+=`, `mixin`,
//! `push`, string growth and literals are), so a loop that only does that is
//! stopped by the timeout or the operation budget instead of the memory limit.
//! Expression nesting is bounded at compile time
//! ([`RhaiEngineBuilder::max_expr_depths`]).
//!
//! Per-call limit overrides ([`EvalContext::with_limits`](polyscript_core::EvalContext::with_limits))
//! apply to the timeout and the operation budget. Call depth and memory are
//! settings of the compiled script's `rhai::Engine`, fixed when the script is
//! compiled with the evaluator's limits.
//!
//! # Sandbox
//!
//! rhai's standard library has no file, network, process or environment
//! functions. In addition, by default:
//!
//! * `import` fails: the module resolver is rhai's `DummyModuleResolver`
//!   unless [`RhaiEngineBuilder::module_resolver`] grants one;
//! * `eval("...")` is a disabled symbol (a compile error) unless
//!   [`RhaiEngineBuilder::allow_eval`];
//! * `print` and `debug` go to [`tracing`] (targets `polyscript_rhai::print`
//!   and `polyscript_rhai::debug`), never to stdout.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod budget;
mod builder;
mod builtins;
mod convert;
mod engine;
mod errors;
mod setup;
mod stack;
mod teardown;

pub use builder::RhaiEngineBuilder;
pub use engine::{CTX, RhaiEngine, RhaiInstance, RhaiProgram};

/// The `rhai` crate this engine uses, to name its types in
/// [`RhaiEngineBuilder::configure`] and friends.
pub use rhai;
