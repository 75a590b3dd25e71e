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
//! Runtime errors are [`Error::Runtime`](polyscript_core::Error::Runtime)
//! with rhai's message and the line and column where the failure happened
//! (inside a function: there, with the call site in the message).
//!
//! # Data
//!
//! Input and result cross through polyscript's own converters (direct
//! `serde_json::Value` ↔ `rhai::Dynamic`, no serde bridge), bounded by the
//! eval's [`Limits::data_depth`](polyscript_core::Limits::data_depth) and
//! memory limit in both directions (see [`polyscript_core::data`]), and
//! following its number rule:
//!
//! | JSON in | rhai | JSON out |
//! |---|---|---|
//! | integer within `i64` | `INT` | integer, exact |
//! | integer above `i64::MAX` | — | [`Error::InvalidData`] naming `ctx.…` |
//! | float (`-0.0` included) | `FLOAT`, exact | float (`3.0` stays a float) |
//! | — | `FLOAT` NaN / ±infinity | [`Error::InvalidData`] naming `result.…` |
//! | string | string | string |
//! | — | char | string |
//! | `true` / `false` | `bool` | `true` / `false` |
//! | `null` | `()` | `null` |
//! | list | array | list |
//! | — | BLOB | list of byte values |
//! | object | object map | object (keys in rhai's sorted order) |
//! | — | `i32`, `u64`, `f32`... from a host function | integer (exact, else `InvalidData`) / float |
//! | — | function pointer, timestamp, range, custom type | [`Error::InvalidData`] naming the type and `result.…` |
//!
//! A value captured by a closure (rhai's *shared* values) is read through
//! and charged again wherever it appears, so a result cannot expand past the
//! memory limit. Nesting past the depth bound is `InvalidData` naming the
//! path, in either direction.
//!
//! [`Error::InvalidData`]: polyscript_core::Error::InvalidData
//!
//! # Compile once, isolated evals
//!
//! [`Engine::compile`](polyscript_core::Engine::compile) builds a configured
//! `rhai::Engine` and the `AST`; each pooled instance builds its own copy
//! once. Every eval runs that `AST` in a fresh `Scope` holding only `ctx`, so
//! nothing a script declares survives into the next eval. Rhai has no other
//! mutable global state: no global table, no statics; script functions are
//! part of the `AST` and immutable. What an eval leaves (its scope, its
//! result) is taken apart without recursion after the eval, which also frees
//! reference cycles reachable from it (a closure stored in the variable it
//! captures); a cycle a script builds and drops inside an inner block cannot
//! be reached and stays allocated (rhai counts references).
//!
//! # Limits
//!
//! Each eval's [`Limits`](polyscript_core::Limits) — the evaluator's, or the
//! context's ([`EvalContext::with_limits`](polyscript_core::EvalContext::with_limits))
//! — are set on the instance's own `rhai::Engine` before the eval (a compare,
//! and rhai's setters only when they changed; no engine is rebuilt):
//!
//! | limit | mechanism | error |
//! |-------|-----------|-------|
//! | `timeout`, deadline, cancel token | `on_progress` checks the clock and the token every 256 operations; `sleep` wakes at the deadline | `Timeout` / `Cancelled` |
//! | `operations` | `on_progress` counts every operation, including those of callbacks run by native functions (`map`, `sort`...), which rhai's own counter forgets | `LimitExceeded(Operations)` |
//! | `call_depth` | rhai's call-level limit; in any case a stack guard in `on_progress` (below) | `LimitExceeded(CallDepth)` |
//! | `memory_bytes` | with the accounting allocator, a per-eval memory meter; without it, rhai's per-value size limits (below) | `LimitExceeded(Memory)` |
//! | `data_depth` | the converters | `InvalidData` |
//!
//! **Limits cannot be swallowed.** Once any of the first four is hit, the
//! eval is *tripped*: every later operation stops the script again, and when
//! rhai returns the eval ends with that limit's error, whatever happened in
//! between — `try`/`catch` cannot catch it (rhai treats these as system
//! errors), and the built-ins that swallow errors from callbacks (`sort`,
//! `order`, `dedup` with a comparer treat a failing comparer as "equal") are
//! replaced by versions that pass a limit on.
//!
//! ## Memory with the accounting allocator (the facade's default)
//!
//! When [`polyscript_core::alloc::Accounting`] is the global allocator, each
//! eval starts a [`MemoryMeter`](polyscript_core::alloc::MemoryMeter) with
//! its memory limit: the bytes the eval's thread holds beyond what it held at
//! the start, whichever values hold them (all variables, all call frames,
//! temporaries). `on_progress` reads its "limit crossed" flag at every
//! operation (one thread-local read) and once more when the eval returns,
//! so exponential growth (`s += s`) is stopped within one doubling and
//! resident memory stays below about twice the limit. rhai's own size limits
//! are off (they re-measure whole containers after every change, which made
//! a million `push`es quadratic). The standard functions that allocate in
//! proportion to an argument in one step — `pad` (strings, arrays, BLOBs),
//! `blob(n)`, `split`/`split_rev`, `to_chars`, `replace`, `to_array`,
//! `parse_json` — are replaced by versions that check what the meter has
//! left *before* allocating. Converting the input and the result is charged
//! against the limit too ([`polyscript_core::data::Budget`]). Cost: a few
//! nanoseconds per operation and two thread-local updates per eval.
//!
//! ## Memory without it
//!
//! Without the accounting allocator, *M* = `memory_bytes` maps to rhai's
//! per-value limits: strings of at most *M* bytes, arrays and BLOBs of at
//! most *M* / 16 elements, maps of at most *M* / 64 entries, nested values
//! counted into their container. That bounds each value, not the eval's
//! total: many values each under the limit (separate variables, 200 call
//! frames of 32 MiB each) pass. rhai checks these sizes after every change by
//! walking the whole container, so building a large array element by element
//! is quadratic (a million `push`es do not finish in the default timeout).
//! rhai does not size-check a new key added by `m[key] = v`, nor anything a
//! function pointer holds (curried values, captured variables): a script
//! doubling a curried function pointer (`f = f.curry(f)`) is not stopped by
//! any size limit and can exhaust the host's memory before the timeout.
//! Install the allocator for untrusted scripts.
//!
//! ## The native stack
//!
//! rhai walks values recursively (cloning, dropping, hashing, comparing,
//! printing) with no hook in between, so a value nested a few thousand
//! levels deep would overflow a thread's stack. Each instance therefore runs
//! its evals on its own stack (reserved, not committed, so only the pages a
//! deep eval touches become resident, and those are given back after it):
//! room for the script's calls (64 KiB per level of `call_depth`, or the
//! memory limit's worth without one) plus a reserve of 8 × the memory limit
//! (16 × the memory limit or 48 bytes per operation without the allocator,
//! at most 4 GiB) for rhai's walks over the deepest value the limits let a
//! script build. A script whose calls reach that reserve is stopped with
//! `LimitExceeded(CallDepth)`; the replaced printing, `to_json` and
//! equality functions stop the same way on a value too deep (or one that
//! refers to itself). A deeply nested value's walk can make the stack, which
//! no memory meter counts, resident on top of the heap. On platforms without
//! stack switching (not Unix) evals run on the calling thread's stack: the
//! call guard still holds, rhai's walks over deep values are unprotected.
//!
//! Expression nesting is bounded at compile time
//! ([`RhaiEngineBuilder::max_expr_depths`]).
//!
//! # Replaced standard functions
//!
//! To enforce the above, polyscript registers, in front of rhai's standard
//! packages, versions of: `pad`, `blob`, `split`, `split_rev`, `to_chars`,
//! `replace`, `to_array`, `parse_json` (memory checked first; `pad` with an
//! empty padding does nothing instead of looping forever), `print`,
//! `to_string`, `debug`, `to_debug` of arrays and maps, `to_json`, `==` and
//! `!=` of arrays and maps (stack checked per level; same output as rhai's),
//! `sort`, `sort_by`, `order`, `order_by`, `dedup` (limits passed on) and
//! `sleep` (bounded by the deadline; rhai's panics on a huge float). A
//! function registered with [`RhaiEngineBuilder::register_fn`] or
//! [`RhaiEngineBuilder::configure`] under one of these names and signatures
//! takes precedence over polyscript's (it is then up to that function to
//! stay within the limits).
//!
//! # Sandbox
//!
//! rhai's standard library has no file, network, process or environment
//! functions. In addition, by default:
//!
//! * `import` fails: the module resolver is rhai's `DummyModuleResolver`
//!   unless [`RhaiEngineBuilder::module_resolver`] grants one;
//! * `eval("...")` is a disabled symbol (a compile error) unless
//!   [`RhaiEngineBuilder::allow_eval`] (parsing the string is one step: its
//!   memory is counted after it);
//! * `print` and `debug` go to [`tracing`] (targets `polyscript_rhai::print`
//!   and `polyscript_rhai::debug`), never to stdout.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod budget;
mod builder;
mod builtins;
mod convert;
mod engine;
mod errors;
mod host;
mod setup;
mod stack;
mod teardown;
mod trampoline;

pub use builder::RhaiEngineBuilder;
pub use engine::{CTX, RhaiEngine, RhaiInstance, RhaiProgram};

/// The `rhai` crate this engine uses, to name its types in
/// [`RhaiEngineBuilder::configure`] and friends.
pub use rhai;
