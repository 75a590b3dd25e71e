//! JavaScript for [polyscript](https://docs.rs/polyscript), on the
//! [boa](https://boajs.dev) engine (0.22).
//!
//! # Scripts
//!
//! A script reads its input from the global `ctx` (`ctx.name`,
//! `ctx["name"]`) and its result is the script's **completion value**: the
//! value of the last expression statement, as `eval` would return it. Wrap an
//! object literal in parentheses so it is not read as a block:
//!
//! ```
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_js::JsEngine;
//!
//! let script = r#"
//!     const greeting = `Hello, ${ctx.name}!`;
//!     ({ greeting, length: greeting.length })
//! "#;
//! let evaluator = Evaluator::new(JsEngine::new(), Source::from_text(script))?;
//! let response = evaluator.eval(&EvalContext::with_data(json!({"name": "World"}))?)?;
//! assert_eq!(response.value(), &json!({"greeting": "Hello, World!", "length": 13}));
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! A script may instead define a top-level `function main(ctx)`: it is called
//! on every eval with the input, and what it returns is the result.
//!
//! ```
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_js::JsEngine;
//!
//! let script = r#"
//!     function main(ctx) {
//!         return { total: ctx.items.reduce((a, b) => a + b, 0) };
//!     }
//! "#;
//! let evaluator = Evaluator::new(JsEngine::new(), Source::from_text(script))?;
//! let response = evaluator.eval(&EvalContext::with_data(json!({"items": [1, 2, 3]}))?)?;
//! assert_eq!(response.value(), &json!({"total": 6}));
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! Input crosses with boa's serde_json bridge (`JsValue::from_json`); the
//! result comes back the way boa's `to_json` reads it, in one walk that also
//! checks it. `undefined` becomes `null` (and is left out of objects);
//! integral numbers within ±2^53 come back as JSON integers; NaN and the
//! infinities are `null`; accessor properties are `null` (no getter runs
//! while the result is converted). A function, symbol, bigint or symbol key
//! in the result, a cycle, nesting deeper than 128 levels or an array longer
//! than 2^24 elements is an
//! [`Error::InvalidData`](polyscript_core::Error::InvalidData) naming the type
//! and where it is (`result.f is a JavaScript function`).
//!
//! Errors: syntax errors are [`Error::Compile`](polyscript_core::Error::Compile)
//! at build time, thrown errors are
//! [`Error::Runtime`](polyscript_core::Error::Runtime) with the JavaScript
//! message (`TypeError: ...`), both with line and column.
//!
//! # Compile once, isolate every eval
//!
//! [`compile`](polyscript_core::Engine::compile) parses the script (syntax
//! errors, whether `main` exists). boa ties a parsed `Script` to one context
//! and realm, so every instance parses and compiles it to bytecode once, when
//! it is created; evals run that bytecode and never parse again.
//!
//! Each instance compiles the script *inside one block statement*
//! (`{ ...script... }`, plus `main(ctx);` when `main` exists). A block keeps
//! the completion-value semantics, and makes top-level `let` / `const` /
//! `class` / `function` declarations block-scoped, so running the script again
//! in the same context never hits "redeclaration" errors and no declaration
//! survives the eval.
//!
//! When an instance is created, every global property (the built-ins,
//! `console`, `ctx`) is made non-configurable, and every one but `ctx`
//! read-only (see the sandbox rule below). After each eval the instance:
//!
//! * sets `ctx` back to `undefined`;
//! * resets every global `var` (and sloppy-mode block function) the script
//!   declared to `undefined` (they are non-deletable);
//! * deletes every other global property the script added
//!   (`globalThis.x = 1`, sloppy `x = 1`, symbol and index keys) — found by
//!   listing the global object's own keys, and skipped when their number is
//!   unchanged: since no baseline key can be deleted, an equal count means
//!   nothing was added;
//! * rebuilds the context instead when the global
//!   object cannot be brought back: made non-extensible, sealed or frozen,
//!   prototype swapped, `ctx` or a `var` made read-only or an accessor.
//!
//! Not covered: mutations *inside* built-ins (e.g. a method added to
//! `Array.prototype` or a property added to `Math`) persist on that instance.
//!
//! **Sandbox rule: built-in globals are read-only.** Assigning one
//! (`JSON = null`, `globalThis.Math = {}`) silently does nothing in sloppy
//! code and throws a `TypeError` in strict code; `delete` and
//! `Object.defineProperty` on them fail the same way. A script can still
//! *shadow* a built-in with its own top-level `let` / `const` / `function`
//! (they are block-scoped).
//!
//! The alternatives, measured in release on the project's (busy, 2-core)
//! machine with the greeting script: a new boa `Context` + parse + run per
//! eval costs ≈400–530 µs; re-running the compiled block script costs
//! ≈1.7–2.5 µs (≈+0.3 µs through the interruptible budgeted path); a
//! function wrapper `(function (ctx) {...})` compiled once costs ≈2.0–2.3 µs
//! per call but loses the completion value and runs outside boa's budgeted
//! (interruptible) loop; a fresh `Realm` per eval would force a re-parse,
//! since boa binds a `Script` to its realm. The block wins: it keeps both
//! script forms and the deadline, at ~100× less than a context per eval.
//! Restoring the globals costs ≈0.6–1 µs (a key listing); comparing every
//! built-in against a snapshot instead, as long as scripts could replace
//! them, cost ≈13 µs. On the worker thread a whole greeting eval (input
//! conversion, run, result conversion, restore) takes ≈3.5–5 µs; a whole
//! `Evaluator::eval` ≈6–8 µs through a worker thread (was ≈30 µs with
//! channels and the full snapshot diff) and ≈3 µs on the caller's thread;
//! creating an instance ≈0.35–2 ms (context + parse + bytecode, plus a
//! thread in dedicated mode).
//!
//! # Threads
//!
//! boa's `Context` is `!Send` and its garbage-collected heap is thread-local,
//! so moving a context between threads would be unsound. Where contexts live
//! is the [`ThreadMode`]:
//!
//! * [`ThreadMode::CallerThread`] (default): an eval runs on the thread that
//!   calls it, with a context that thread keeps for the program (built on
//!   its first eval there, ≈0.5 ms; at most 16 idle contexts per thread;
//!   a dropped program's contexts go on each thread's next eval). No
//!   hand-off: a greeting eval costs ≈3 µs and two threads get twice the
//!   throughput. The native stack left on the calling thread is checked
//!   against the recursion limit first; when it is too small (e.g. no
//!   `call_depth` limit) the eval runs on the instance's worker thread, as
//!   in dedicated mode.
//! * [`ThreadMode::Dedicated`]: each [`JsInstance`] owns a worker thread that
//!   creates, uses and drops its context; an eval puts the input in a
//!   one-request slot and waits for the reply (each side polls for up to
//!   50 µs, yielding, then parks), ≈2–3 µs more per eval. The waiting caller
//!   keeps checking its deadline and cancel token, so it can walk away from
//!   a script stuck inside one native call. Dropping an instance ends its
//!   thread.
//!
//! Either way the instance handle is `Send`, which is what the core pool
//! needs, and `Evaluator<JsEngine>` is `Send + Sync`.
//!
//! # Limits
//!
//! * `timeout` and cancellation: the script runs through boa's budgeted
//!   evaluation (`Script::evaluate_async_with_budget`), polled by a tiny
//!   executor that checks the deadline and the cancel token every
//!   [`yield_budget`](JsEngineBuilder::yield_budget) VM cycles. Code that runs
//!   inside a native call (e.g. a `Array.prototype.map` callback) does not
//!   yield: there the `operations` limit stops a runaway loop. An eval with a
//!   deadline but no `operations` limit runs on a worker thread (also in
//!   caller-thread mode), whose caller returns `Timeout`/`Cancelled` at most
//!   half a second after the deadline and gives the instance up (the worker
//!   keeps running until the stuck native call returns: a known gap).
//! * `operations` → boa's loop-iteration limit (counted per function call
//!   frame), `call_depth` → boa's recursion limit (4096 when unset).
//! * `memory_bytes`: boa has no heap limit and no public allocation counter.
//!   The limit caps `ArrayBuffer` sizes (host hook `max_buffer_size`) and the
//!   size of the values produced by the allocating built-ins
//!   (`String.prototype.concat/repeat/padStart/padEnd/replace/replaceAll`,
//!   `Array.prototype.concat/join/flat/map/push/unshift/splice`), counted as
//!   2 bytes per string code unit and 8 bytes per array element; exceeding it
//!   ends the eval (uncatchably) with `LimitExceeded(Memory)`. **Not covered**:
//!   strings built with the `+` operator or template literals, object and
//!   array literals, and the total of many small values. Such growth is only
//!   bounded by the loop-iteration limit and the timeout; a script doubling a
//!   string with `s += s` can exhaust the host's memory.
//!
//! # Sandbox
//!
//! boa_engine has no file, network, process or environment API, and none is
//! added. Promise jobs are discarded (no `await` continuation ever runs), so
//! nothing outlives an eval. The optional `console` writes to `tracing`.
//! Built-in globals are read-only (see "Compile once, isolate every eval").
#![cfg_attr(docsrs, feature(doc_cfg))]

mod console;
mod convert;
mod engine;
mod errors;
mod failure;
mod globals;
mod instance;
mod interrupt;
mod jobs;
mod local;
mod lockdown;
mod memory;
mod program;
mod runtime;
mod stack;
mod watchdog;
mod worker;

pub use engine::{
    DEFAULT_MAX_SOURCE_BYTES, DEFAULT_STACK_SIZE, DEFAULT_YIELD_BUDGET, JsEngine, JsEngineBuilder,
};
pub use instance::{JsInstance, ThreadMode};
pub use program::JsProgram;

/// The boa_engine crate this engine is built on, for code that needs its own API.
pub use boa_engine;
