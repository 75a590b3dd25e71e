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
//! | — | `i32`, `u64`, `f32`... from a function registered with `register_fn` | integer (exact, else `InvalidData`) / float |
//! | — | function pointer, timestamp, range, custom type | [`Error::InvalidData`] naming the type and `result.…` |
//!
//! A value captured by a closure (rhai's *shared* values) is read through
//! and charged again wherever it appears, so a result cannot expand past the
//! memory limit. Nesting past the depth bound is `InvalidData` naming the
//! path, in either direction.
//!
//! [`Error::InvalidData`]: polyscript_core::Error::InvalidData
//!
//! ## Large inputs
//!
//! An eval converts only the entries of `ctx` the script can read. At
//! compile time polyscript walks the script (its statements and its
//! functions' bodies): when every use of `ctx` reads a named entry —
//! `ctx.name`, `ctx?.name`, `ctx["name"]` and chains going on from them —
//! only those entries of an input with 16 or more top-level entries are
//! converted, so a script reading two fields of a 10 000-key input costs
//! about what it costs on a two-key one, and an entry it never reads is
//! neither converted nor checked (an unread value too large or too deep for
//! the limits does not fail the eval). Any other use of `ctx` (the map
//! itself, a computed key `ctx[k]`, a method such as `ctx.keys()`, passing
//! it to a function, capturing it in a closure) converts the whole input,
//! as does an engine built with
//! [`allow_eval`](RhaiEngineBuilder::allow_eval) or
//! [`configure`](RhaiEngineBuilder::configure): code the walk cannot see
//! could read any entry. Functions added with
//! [`register_fn`](RhaiEngineBuilder::register_fn) see only their
//! arguments and do not widen it.
//! Either way the script sees the same values.
//!
//! # Compile once, isolated evals
//!
//! [`Engine::compile`](polyscript_core::Engine::compile) builds a configured
//! `rhai::Engine` and the `AST`; each pooled instance gets its own copy of
//! the `AST` once. Evals run it on an engine of the same configuration that
//! the thread keeps (one per thread and [`RhaiEngine`] configuration, shared
//! by all its scripts, so ten thousand tenants on one thread do not mean ten
//! thousand engines; a nested eval from a host function gets one of its
//! own). Every eval runs in a fresh `Scope` holding only `ctx`, so nothing a
//! script declares survives into the next eval. The engine keeps nothing of
//! an eval, and rhai has no other mutable global state: no global table, no
//! statics; script functions are part of the `AST` and immutable. What an eval leaves (its scope, its
//! result) is taken apart without recursion after the eval, which also frees
//! reference cycles reachable from it (a closure stored in the variable it
//! captures); a cycle a script builds and drops inside an inner block cannot
//! be reached and stays allocated (rhai counts references).
//!
//! # Limits
//!
//! Each eval's [`Limits`](polyscript_core::Limits) — the evaluator's, or the
//! context's ([`EvalContext::with_limits`](polyscript_core::EvalContext::with_limits))
//! — are set on the thread's `rhai::Engine` before the eval (a compare,
//! and rhai's setters only when they changed; no engine is rebuilt):
//!
//! | limit | mechanism | error |
//! |-------|-----------|-------|
//! | `timeout`, deadline, cancel token | `on_progress` checks the clock and the token every 256 operations; `sleep` wakes at the deadline; host calls check the token before and the clock after the call | `Timeout` / `Cancelled` |
//! | `operations` | `on_progress` counts every operation, including those of callbacks run by native functions (`map`, `sort`...), which rhai's own counter forgets | `LimitExceeded(Operations)` |
//! | `call_depth` | rhai's call-level limit; in any case a stack guard in `on_progress` (below) | `LimitExceeded(CallDepth)` |
//! | `memory_bytes` | with the accounting allocator, a per-eval memory meter; without it, rhai's per-value size limits (below) | `LimitExceeded(Memory)` |
//! | `data_depth` | the converters | `InvalidData` |
//!
//! **Limits cannot be swallowed.** Once any of the first four is hit (or a
//! host call stops the eval, see [Host functions](#host-functions)), the
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
//! levels deep would overflow a thread's stack. Evals therefore run on a
//! stack of their own, one per thread that evals (shared by the instances
//! that run there, so an idle instance costs none; reserved, not committed,
//! so only the pages a deep eval touches become resident, and those are
//! given back after it):
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
//! # Host functions
//!
//! A [`HostFunctions`](polyscript_core::host::HostFunctions) registry given
//! to [`RhaiEngineBuilder::host_functions`] is offered to scripts as
//! `host.NAME(...)`, the same call as in Lua and JavaScript:
//!
//! ```
//! use polyscript_core::host::{HostError, HostFunctions};
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_rhai::RhaiEngine;
//!
//! let host = HostFunctions::new()
//!     .register("price", |(sku, qty): (String, u64)| -> Result<u64, HostError> {
//!         if sku.is_empty() {
//!             return Err(HostError::new("no such product"));
//!         }
//!         Ok(250 * qty)
//!     })
//!     .register("user", |(id,): (String,)| Ok(json!({"id": id, "tags": ["a", "b"]})));
//! let engine = RhaiEngine::builder().host_functions(host).build();
//! let script = r#"
//!     let error = ();
//!     try { host.price("", 1); } catch (e) { error = e; }
//!     let user = host.user(ctx.user);
//!     let totals = [1, 2].map(|qty| host.price(ctx.sku, qty));
//!     #{ total: host.price(ctx.sku, ctx.qty), tags: user.tags.len(), totals: totals, error: error }
//! "#;
//! let evaluator = Evaluator::new(engine, Source::from_text(script))?;
//! let data = json!({"sku": "sku-1", "qty": 2, "user": "u7"});
//! let response = evaluator.eval(&EvalContext::with_data(data)?)?;
//! assert_eq!(
//!     response.value(),
//!     &json!({"total": 500, "tags": 2, "totals": [250, 500], "error": "price: no such product"})
//! );
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! * `host` is a constant visible everywhere in the script: at the top
//!   level, in script functions (which see no other outer variable), in
//!   closures and the callbacks of `map`, `filter`, `reduce`, `sort`...
//!   Assigning to it fails (`Cannot modify constant host`); a script may
//!   declare its own `host` (`let`, `const`, a parameter), which shadows it
//!   until that eval ends. Without a registry `host` exists with nothing
//!   registered. `host.add(1, 2)` is rhai's method-call syntax for
//!   `add(host, 1, 2)`, so `Fn("add").call(host, 1, 2)` works too, and a
//!   script function of the script's own named `add` taking two parameters
//!   shadows `host.add` in that script.
//! * Up to eight arguments, of any type. **Arguments** are converted as
//!   results are (the value table above, right column): each is a top-level
//!   value nested at most [`Limits::data_depth`](polyscript_core::Limits)
//!   levels, all of one call's together charged against the memory limit;
//!   then the registry deserializes them into the function's argument
//!   types by the number rule (`2.0` is not an integer). **Results** are
//!   converted as `ctx` is (the left column), charged against the eval's
//!   data depth and memory limit.
//! * An `async` function ([`register_async`](polyscript_core::host::HostFunctions::register_async))
//!   is an ordinary call in Rhai: the eval waits for it, within its
//!   deadline.
//! * Host functions run on the calling thread's own stack (the eval's own
//!   stack is for the script), where a host function has what the thread
//!   had when it started the eval, and `stacker`-based code works as
//!   usual.
//! * With the accounting allocator, what a host function allocates and
//!   frees during the call is not counted against the script; what the
//!   script holds afterwards (the result) is, at once.
//!
//! What goes wrong in a call:
//!
//! | case | in the script | uncaught |
//! |---|---|---|
//! | the function returns `Err(HostError)` | a runtime error whose value is `NAME: MESSAGE`; `try { .. } catch (e) { .. }` catches it (`e` is the message) | `Error::Runtime` (`Runtime error: price: no such product`) with the line and column of the call |
//! | wrong argument count or types | `NAME: takes 2 arguments, got 1`, `NAME: argument 2: invalid type: ...` | the same |
//! | an argument with no JSON form (a function pointer, a timestamp, a range, `host`, NaN) or nested too deep | `NAME: argument 1.items[0]: a rhai timestamp has no JSON form` | the same |
//! | a result too deep, or with an integer outside `i64` | `NAME: its result: ...` | the same |
//! | the function panics | `NAME: panicked: MESSAGE` (the registry catches it; nothing unwinds through rhai) | the same |
//! | a name that is not registered, or more than eight arguments | rhai's `Function not found: nope (host, i64)` | `Error::Runtime`: ``no host function named `nope` (registered: price, user)`` |
//! | the deadline passes or the token fires (before, during or after the call, also in an `async` function), or the function stops the eval ([`HostError::interrupt`](polyscript_core::host::HostError::interrupt)) | the eval stops: `try` cannot catch it | `Timeout` / `Cancelled` / the function's error |
//! | an argument or result larger than the memory limit | the eval stops | `LimitExceeded(Memory)` naming the function |
//!
//! A loop of host calls is stopped by every limit, as any other loop (the
//! calls count as operations; cancellation fails the next call at once;
//! time inside a call counts against the deadline, checked right after it).
//! Once an eval is stopped, a host call made while it unwinds (a callback
//! of a built-in) fails without calling the function.
//!
//! ## Host functions and `register_fn`
//!
//! [`RhaiEngineBuilder::register_fn`] stays the rhai-native way: a plain
//! function `name(args)` with rhai's own types (custom types, `&mut`
//! receivers, overloading by type), no conversion, no checks. A host
//! function is the engine-neutral way: one registry for every polyscript
//! engine, serde types in and out (JSON-shaped data only), errors and
//! panics caught, the deadline, cancellation and memory limit enforced
//! around the call, the eval's [`CallContext`](polyscript_core::host::CallContext)
//! (host data, deadline) available to the function. It costs a JSON round
//! trip of its arguments and result on top of rhai's call.
//!
//! # Sandbox
//!
//! rhai's standard library has no file, network, process or environment
//! functions; host functions are the only capability a script gets from
//! the embedding program unless it registers its own. In addition, by
//! default:
//!
//! * `import` fails: the module resolver is rhai's `DummyModuleResolver`
//!   unless [`RhaiEngineBuilder::module_resolver`] grants one;
//! * `eval("...")` is a disabled symbol (a compile error) unless
//!   [`RhaiEngineBuilder::allow_eval`] (parsing the string is one step: its
//!   memory is counted after it);
//! * `print` and `debug` go to [`tracing`] (targets `polyscript_rhai::print`
//!   and `polyscript_rhai::debug`), never to stdout.
#![cfg_attr(docsrs, feature(doc_cfg))]
// `unsafe` only in the modules allowed below, each block with its SAFETY note.
#![deny(unsafe_code)]

// A raw pointer to the installed eval's guard and host stop, per thread.
#[allow(unsafe_code)]
mod budget;
mod builder;
mod builtins;
mod convert;
mod engine;
mod errors;
// Host calls read the installed eval's guard through `budget`.
#[allow(unsafe_code)]
mod host;
mod reads;
mod setup;
// The eval's own stack region (an mmap'd segment) and switching onto it.
#[allow(unsafe_code)]
mod stack;
mod teardown;
mod thread_engines;
// Host calls run back on the thread's own stack below its live frames.
#[allow(unsafe_code)]
mod trampoline;

pub use builder::RhaiEngineBuilder;
pub use engine::{CTX, RhaiEngine, RhaiInstance, RhaiProgram};

/// The `rhai` crate this engine uses, to name its types in
/// [`RhaiEngineBuilder::configure`] and friends.
pub use rhai;
/// What [`RhaiEngineBuilder::optimization_level`] takes (rhai's own type).
pub use rhai::OptimizationLevel;
