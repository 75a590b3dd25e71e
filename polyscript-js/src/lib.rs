//! JavaScript for [polyscript](https://docs.rs/polyscript), on the
//! [boa](https://boajs.dev) engine (0.22, with polyscript's patches: see
//! "Known deviations" and `vendor/PATCHES.md` in the repository).
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
//! A script may instead define a top-level `function main(ctx)` (or `async
//! function main(ctx)`): it is called on every eval with the input, and what
//! it returns is the result.
//!
//! ```
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_js::JsEngine;
//!
//! let script = r#"
//!     async function main(ctx) {
//!         const total = await Promise.resolve(ctx.items.reduce((a, b) => a + b, 0));
//!         return { total };
//!     }
//! "#;
//! let evaluator = Evaluator::new(JsEngine::new(), Source::from_text(script))?;
//! let response = evaluator.eval(&EvalContext::with_data(json!({"items": [1, 2, 3]}))?)?;
//! assert_eq!(response.value(), &json!({"total": 6}));
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! **Promises.** When the result is a `Promise` (an `async` `main`, an
//! `async` arrow called last, `Promise.resolve(...)`), the eval runs the
//! promise jobs the script queued until it settles, under the same deadline
//! and limits; its value is the result, a rejection is an
//! [`Error::Runtime`](polyscript_core::Error::Runtime) with the reason
//! (`RangeError: no`, `Uncaught plain`) and the line where it was thrown. A
//! promise still pending when no job is left never settles (there are no
//! timers): a `Runtime` error saying so. Jobs still queued when the result
//! is ready, and every job of an eval whose result is not a promise, are
//! dropped: nothing outlives the eval.
//!
//! Errors: syntax errors are [`Error::Compile`](polyscript_core::Error::Compile)
//! at build time, with the line and column wherever the parser knows them
//! (also for an unterminated string or template literal) and no location
//! repeated in the message; thrown errors are
//! [`Error::Runtime`](polyscript_core::Error::Runtime) with the JavaScript
//! message (`TypeError: ...`, at most 4 KiB) and the line and column where
//! they were thrown. Classifying an error runs no script code (a thrown
//! object's getters are not called).
//!
//! # Values
//!
//! The input map becomes the plain object `ctx` (level 1); the result is
//! read the way `JSON.stringify` reads a value, except where the project's
//! number rule ([`polyscript_core::data`]) says otherwise. Both conversions
//! are bounded by [`Limits::data_depth`](polyscript_core::Limits) (deeper
//! data is [`Error::InvalidData`](polyscript_core::Error::InvalidData)
//! naming the path, `ctx.a[0][0]…` / `result[0][0]…`) and charged, value by
//! value and byte by byte, against
//! [`Limits::memory_bytes`](polyscript_core::Limits) (a result that shares
//! one array forty times, `x = [x, x]`, ends in `LimitExceeded(Memory)`
//! after converting at most the limit's worth).
//!
//! Input (JSON → `ctx`):
//!
//! | JSON | in JavaScript |
//! |---|---|
//! | `null`, `true`, `false` | `null`, `true`, `false` |
//! | integer within ±(2^53 − 1) | `Number`, exact |
//! | integer beyond ±(2^53 − 1), `i64::MIN`, above `i64::MAX` | `InvalidData` naming the path (never rounded) |
//! | float (`-0.0` included) | `Number`, exact |
//! | string | string |
//! | list | `Array` |
//! | map | plain object (own enumerable data properties, as `JSON.parse` makes them; keys like `"0"` are array indices and list first) |
//!
//! Results (JavaScript → JSON), following `JSON.stringify`'s
//! `SerializeJSONProperty`:
//!
//! | JavaScript | JSON |
//! |---|---|
//! | an object with a callable `toJSON` (own or inherited) | what `toJSON(key)` returns, converted in turn (`Date` → ISO string; an invalid `Date` → `null`) |
//! | `null`, booleans, strings | themselves (a lone surrogate becomes U+FFFD: JSON text in Rust must be UTF-8) |
//! | integral `Number` within ±(2^53 − 1) (not `-0`) | integer |
//! | `-0` and any other finite `Number` | float |
//! | `NaN`, `±Infinity` (`JSON.stringify` would write `null`) | `InvalidData` naming the path |
//! | `BigInt` within `i64` / `u64` (`JSON.stringify` would throw) | integer; beyond: `InvalidData` naming the path |
//! | `Number`, `String`, `Boolean`, `BigInt` objects | the primitive inside (`new String('x')` → `"x"`, `new Number(5)` → `5`; their own `valueOf` / `toString` run) |
//! | arrays (also a `Proxy` of one) | list of every index up to `length`; holes, `undefined`, functions and symbols → `null` |
//! | other objects (`Map`, `Set`, `RegExp`, `Error`, typed arrays, proxies, class instances) | map of the own **enumerable string** keys in property order (indices ascending, then insertion order): `Map`/`Set` → `{}`, `new Uint8Array([1, 2])` → `{"0": 1, "1": 2}` |
//! | property values `undefined`, functions, symbols; symbol keys; non-enumerable properties | left out |
//! | `undefined`, a function or a symbol as the whole result | `null` |
//! | getters, `toJSON`, `valueOf`, proxy traps | run (under the eval's deadline and limits); what they throw is a `Runtime` error |
//! | an object that contains itself | `InvalidData` (a cycle) naming where it repeats; shared values are fine |
//!
//! ## Large inputs
//!
//! An input with 8 or more top-level entries becomes a lazy `ctx`: each
//! entry is converted the first time the script reads it (all of that
//! entry; laziness is one level deep), so a script reading two fields of a
//! 10 000-key input costs about what it costs on a two-key one, and an entry
//! it never reads is neither converted nor checked (an unread value too
//! large or too deep for the limits, or an integer the number rule refuses,
//! does not fail the eval). `ctx` is then a `Proxy` whose traps give the
//! answers of the plain object the eager conversion makes: `ctx.k`, `k in
//! ctx`, `Object.keys(ctx)` (same order), `JSON.stringify(ctx)`, spreading,
//! `delete`, assignment, `Object.freeze` and returning `ctx` all behave as
//! they do on that object (the operations that list or change its keys
//! convert the rest of it first). An entry that fails to convert when it is
//! read ends the eval with `InvalidData` naming its path; a `try` cannot
//! catch it.
//!
//! # Compile once, isolate every eval
//!
//! [`compile`](polyscript_core::Engine::compile) parses the script (syntax
//! errors, whether `main` exists) and keeps its text. boa ties a parsed
//! `Script` to one context and realm, so the script is parsed and compiled
//! to bytecode once per context it runs in (once per thread in the default
//! mode, when an instance is created or on the first eval on a thread;
//! once per instance in dedicated mode); evals run that bytecode and never
//! parse again. Compiling is bounded:
//!
//! * the source may have at most
//!   [`max_source_bytes`](JsEngineBuilder::max_source_bytes) (default
//!   [`DEFAULT_MAX_SOURCE_BYTES`], 1 MiB): a bigger script is a `Compile`
//!   error saying so;
//! * nesting is bounded by the patched parser (1024 levels: each
//!   parenthesis, bracket, brace, block, unary operator, and each link of a
//!   chain such as `a + b + c` or `a.b.c` counts one): deeper code is a
//!   `Compile` error at the level that went too deep, never a stack
//!   overflow. Parsing and compiling run on their own 64 MiB stack segment
//!   (reserved address space; the deepest nesting touches about half of it
//!   in unoptimised builds), and the parser also stops with a syntax error if
//!   the native stack runs low. The same holds for code given at run time
//!   (`eval`, `Function`, `JSON.parse`), where it is a `SyntaxError`;
//! * with the accounting allocator, the parser's memory is metered against
//!   `Limits::memory_bytes`: a script whose parse needs more is a `Compile`
//!   error naming the limit. Parsing takes about 30–70 bytes per byte of
//!   source (a 1 MB script: ≈2–4 s and ≈70 MiB in an unoptimised build).
//!
//! Each instance compiles the script *inside one block statement*
//! (`{ ...script... }`, plus `main(ctx);` when `main` exists). A block keeps
//! the completion-value semantics, and makes top-level `let` / `const` /
//! `class` / `function` declarations block-scoped, so running the script again
//! in the same context never hits "redeclaration" errors and no declaration
//! survives the eval.
//!
//! **Built-ins are frozen.** When an instance is created, every object
//! reachable from the built-in globals (constructors, prototypes, their
//! methods and accessors, `Math`, `JSON`, `Reflect`, `Temporal`, `console`)
//! and from the intrinsics no global names (`%GeneratorFunction%`, the
//! iterator prototypes, `%TypedArray%`, `%ThrowTypeError%`, ...) is frozen,
//! as Hardened JavaScript's `lockdown()` does. So no eval can change a
//! built-in for the next: `Object.prototype.leak = secret`,
//! `String.prototype.toUpperCase = f`, `JSON.parse = f`,
//! `delete String.prototype.repeat`, `Object.setPrototypeOf(Array.prototype,
//! x)` fail, silently in sloppy code and with a `TypeError` in strict code
//! (`Object.defineProperty` / `Object.assign` / `Object.setPrototypeOf` on a
//! built-in always throw a `TypeError`), exactly as on any frozen object.
//! Scripts create and change their own objects, classes and functions
//! freely, and may shadow a built-in with their own top-level binding.
//! What they can no longer do, and what they get:
//!
//! * add, change or delete a property of a built-in object or prototype, or
//!   change its prototype: refused as above (e.g. polyfills that patch
//!   `Array.prototype` do not work; define the helper on your own object);
//! * override an inherited built-in method *by assignment* on their own
//!   object (the "override mistake" of frozen realms): `obj.push = f` where
//!   `obj` inherits `Array.prototype.push` fails the same way; use
//!   `Object.defineProperty(obj, 'push', ...)`, an object literal or a
//!   class. The overrides scripts commonly make by assignment still work:
//!   `constructor`, `toString`, `toLocaleString`, `valueOf` (inherited from
//!   `Object.prototype`), `toString` of functions, and `constructor`, `name`,
//!   `message`, `toString` of the error prototypes
//!   (`MyError.prototype.name = 'MyError'`) are accessor pairs, as in SES:
//!   reading them gives the built-in, assigning on an inheriting object
//!   defines its own property (their descriptors are accessors, which
//!   `Object.getOwnPropertyDescriptor` shows).
//!
//! Freezing costs ≈4 ms per context in an unoptimised build (≈5 ms for the
//! whole context), nothing per eval.
//!
//! **The global object** is not frozen: scripts may add globals, and after
//! each eval the instance
//!
//! * sets `ctx` back to `undefined`;
//! * resets every global `var` (and sloppy-mode block function) the script
//!   declared to `undefined` (they are non-deletable);
//! * deletes every other global property the script added
//!   (`globalThis.x = 1`, sloppy `x = 1`, symbol and index keys) — found by
//!   listing the global object's own keys, and skipped when their number is
//!   unchanged: no built-in global can be deleted, so an equal count means
//!   nothing was added;
//! * rebuilds the context instead when the global state cannot be brought
//!   back: the global object made non-extensible, sealed or frozen, its
//!   prototype swapped, `ctx` or a `var` made read-only or an accessor, or a
//!   global `let` / `const` / `class` declared through an indirect `eval`
//!   (which lives in the realm's declarative environment, not on the global
//!   object).
//!
//! Built-in globals themselves are read-only and non-configurable:
//! assigning one (`JSON = null`) silently does nothing in sloppy code and
//! throws a `TypeError` in strict code.
//!
//! # Threads
//!
//! boa's `Context` is `!Send` and its garbage-collected heap is thread-local,
//! so moving a context between threads would be unsound. Where contexts live
//! is the [`ThreadMode`]:
//!
//! * [`ThreadMode::CallerThread`] (default): an eval runs on the thread that
//!   calls it, in a context that thread keeps and shares between programs
//!   (see "Many scripts in one process"). No hand-off: two
//!   threads get twice the throughput. The native stack left on the calling
//!   thread is checked against the recursion limit first; only when it is
//!   too small (e.g. no `call_depth` limit) does the eval run on a worker
//!   thread the instance starts for it, as in dedicated mode.
//! * [`ThreadMode::Dedicated`]: each [`JsInstance`] owns a worker thread that
//!   creates, uses and drops its context; an eval puts the input in a
//!   one-request slot (the call's data copied, a static provider's map
//!   shared, never merged into a copy) and waits for the reply (each side
//!   polls for up to 50 µs, yielding, then parks), ≈2–3 µs more per eval.
//!   Dropping an instance ends its thread.
//!
//! In both modes deadlines and cancellation stop the script on the thread
//! that runs it, wherever it is (see "Limits"), and that thread replies:
//! no thread is left running a script after its eval returned. (The
//! dedicated-mode caller also watches the deadline and gives a worker that
//! has not replied half a second after it up, as a safety net.)
//!
//! Either way the instance handle is `Send`, which is what the core pool
//! needs, and `Evaluator<JsEngine>` is `Send + Sync`.
//!
//! # Many scripts in one process
//!
//! A boa context is big: its realm's intrinsics (every built-in constructor,
//! prototype and method, frozen by the lockdown, with their property maps
//! and shapes) take ≈400 KB resident, and building one takes ≈0.6–0.8 ms
//! (release; 2–4 ms on a busy 2-core machine). A compiled script is small: its bytecode,
//! constants and source text. So in caller-thread mode a thread does not
//! keep a context per program: it keeps **one context per engine and set of
//! global `var` names**, and each program compiles its script into it once
//! (at instantiation, or on its first eval on another thread) and keeps the
//! compiled `Script` there. A thread serving 10 000 programs holds one
//! context and 10 000 scripts, and an eval of any of them costs about what
//! a hot eval costs: one hash lookup of the program's script, no context
//! built. Measured with `examples/scale.rs` (release, busy 2-core machine,
//! the greeting, one distinct script per evaluator, one thread):
//!
//! | | hot, one evaluator | 100 in turn | 1 000 in turn | 10 000 in turn |
//! |---|---|---|---|---|
//! | per eval | 5.0 µs | 5.1 µs | 7.7 µs | 15 µs |
//! | resident memory per evaluator | | 10 KB | 7 KB | 8 KB |
//!
//! (A context per program, as before: 4–4.5 ms per eval in turn, a context
//! built on every eval past 16 programs; in dedicated mode, ≈400 KB per
//! evaluator.) What grows with 10 000 programs is cache misses: each eval
//! touches another program's bytecode and pool.
//!
//! Sharing a context keeps programs exactly as isolated as two evals of one
//! program: the built-ins are frozen, and after every eval the globals are
//! restored (above), whichever program ran. The one thing an eval may leave
//! on the global object is a global `var` (or sloppy block function) its
//! script declares, reset to `undefined`, as these cannot be deleted; so
//! programs share a context only when they declare exactly the same such
//! names (computed by boa's own analysis at compile time; scripts that use
//! `let` / `const`, strict scripts and function-free sloppy scripts declare
//! none and all share one). A non-deletable global by any other name
//! (`Object.defineProperty(globalThis, 'x', {writable: true})`) makes the
//! context unclean, and it is rebuilt. A context that is rebuilt (after an
//! unclean eval, a timeout or a memory limit) drops every script compiled
//! into it: each program compiles again on its next eval on that thread.
//!
//! What a thread holds: at most 16 idle contexts (different engines or
//! `var` sets, or a spare for a script evaluated inside another's host
//! function; the least recently used goes first) and one compiled script
//! per program it served in that context, dropped once its program is gone
//! (every evaluator of it dropped) and the context has run as many evals
//! as it holds scripts (at least 64: the sweep is amortised, O(1) per
//! eval). [`ThreadMode::Dedicated`] keeps a context and a thread per
//! instance: use it for few, busy scripts, not for many tenants.
//!
//! # Limits
//!
//! One **interrupt flag** per context stops a script anywhere: the patched
//! VM reads it (one relaxed load) before every instruction — in every
//! execution loop, including the nested ones native functions start for
//! callbacks, getters, `valueOf`, reviver functions, proxy traps, `eval`,
//! generators and promise jobs — and in the object internal methods natives
//! loop over (`[[Get]]`, `[[Set]]`, `[[HasProperty]]`, `[[Delete]]`,
//! `[[OwnPropertyKeys]]`); the patched regex engine reads it every 4096
//! backtracking steps, the patched parser at every level of nesting, and the
//! natives that allocate per step without calling an object method
//! (`split`, `replaceAll`) at every step. A raised flag ends the eval with an
//! error no `try` / `catch` / `finally` can intercept.
//!
//! | limit | mechanism | error |
//! |---|---|---|
//! | `timeout`, deadline, cancel token | one shared watchdog thread for all JavaScript evals (it ticks every 5 ms while evals run and parks after a second without any) raises the flag of late or cancelled evals; arming costs an uncontended lock per eval | `Timeout` / `Cancelled`, within a few ms of the deadline |
//! | `operations` | boa's loop-iteration limit, counted across every frame of the eval (callbacks called by natives included; `repeat(n)` charges `n`) | `LimitExceeded(Operations)` |
//! | `call_depth` | boa's recursion limit (4096 when unset), and a native stack guard (256 KiB must be left) wherever boa's native code recurses on data a script built: prototype and proxy chains, natives calling back into functions (`join` → `toString` → `join` on a nested array), `flat`, `JSON.stringify` | `LimitExceeded(CallDepth)` |
//! | `memory_bytes` | below | `LimitExceeded(Memory)` |
//! | `data_depth` | the converters (see "Values") | `InvalidData` |
//!
//! A `BigInt` may have at most 2^20 bits: `*`, `**` and `<<` with a larger
//! result, and `BigInt()` of a longer string, throw `RangeError: Maximum
//! BigInt size exceeded` before computing anything (each BigInt operation is
//! one native step, which nothing else could bound).
//!
//! ## Memory with the accounting allocator (the facade's default)
//!
//! When [`polyscript_core::alloc::Accounting`] is the global allocator, each
//! eval starts a [`MemoryMeter`](polyscript_core::alloc::MemoryMeter) with
//! its memory limit, which raises the interrupt flag the moment the eval's
//! thread holds more than the limit beyond what it held at the start —
//! whatever holds it: strings built with `+` or template literals, arrays
//! and objects grown by any route, `Map`s, closures, typed arrays, the
//! parser's memory for `eval` / `JSON.parse`, the job queue. Garbage boa's
//! collector has not reclaimed yet counts too, so when the meter trips,
//! boa's collector runs once: if the eval still holds more than 3/4 of the
//! limit it ends, otherwise it goes on with a fresh meter for the rest. The
//! built-ins that allocate in proportion to an argument in one step are
//! checked before they run against what is left: `repeat`, `padStart` /
//! `padEnd`, `String.prototype.concat`, and `ArrayBuffer` / typed array /
//! `SharedArrayBuffer` sizes (over what is left: `LimitExceeded(Memory)`;
//! over boa's own 1.5 GiB cap: a `RangeError`). These checks are installed
//! before the built-ins are frozen, so no script can remove them. No
//! built-in reserves room for an array-like's whole `length` before reading
//! its elements (`new Array(2 ** 32 - 1).join()`, `f.apply(null, { length:
//! 2 ** 53 - 1 })`, sort, `JSON.stringify`): the lists grow as elements
//! arrive, so they are counted like any other growth (patch 22 in
//! `vendor/PATCHES.md`). Resident
//! memory stays below about twice the limit (each memory repro in
//! `tests/walls.rs` is checked for it). An eval that still holds more than
//! an eighth of its limit when it ends has boa's collector run after it, so
//! its garbage does not pile up across evals. Cost: the allocator's
//! thread-local bookkeeping, and starting and stopping a meter per eval.
//!
//! ## Memory without it
//!
//! Without the allocator the limit bounds values one by one: `repeat`,
//! `padStart` / `padEnd`, `String.prototype.concat`, `Array.prototype.fill`
//! and `Array.prototype.join` are checked before they run, the results of
//! `String.prototype.replace` / `replaceAll` and `Array.prototype.concat` /
//! `join` / `flat` / `map` and the receiver of `push` / `unshift` / `splice`
//! after (2 bytes per string code unit, 8 per array element), buffers are
//! capped at the limit each, and the conversions are bounded as always.
//! **Not covered**: strings built with `+` or template literals (`s += s`
//! doubles until the host's memory is gone), array and object growth by
//! assignment or literals, and the total of many small values; only the
//! timeout and the operation limit bound those. Install the allocator for
//! untrusted scripts.
//!
//! # Host functions
//!
//! A [`HostFunctions`](polyscript_core::host::HostFunctions) registry given
//! to [`JsEngineBuilder::host_functions`] is bound in every instance as the
//! global `host`: each registered function is `host.NAME(...)`, the same
//! call as in Rhai and Lua.
//!
//! ```
//! use polyscript_core::host::{HostError, HostFunctions};
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_js::JsEngine;
//!
//! let host = HostFunctions::new()
//!     .register("price", |(sku, qty): (String, u64)| -> Result<u64, HostError> {
//!         if sku.is_empty() {
//!             return Err(HostError::new("no such product"));
//!         }
//!         Ok(250 * qty)
//!     })
//!     .register("user", |(id,): (String,)| Ok(json!({"id": id, "tags": ["a", "b"]})));
//! let engine = JsEngine::builder().host_functions(host).build();
//! let script = r#"
//!     let error = null;
//!     try { host.price("", 1); } catch (e) { error = e.message; }
//!     const user = host.user(ctx.user);
//!     const totals = [1, 2].map((qty) => host.price(ctx.sku, qty));
//!     ({ total: host.price(ctx.sku, ctx.qty), tags: user.tags.length, totals, error,
//!        known: "price" in host })
//! "#;
//! let evaluator = Evaluator::new(engine, Source::from_text(script))?;
//! let data = json!({"sku": "sku-1", "qty": 2, "user": "u7"});
//! let response = evaluator.eval(&EvalContext::with_data(data)?)?;
//! assert_eq!(
//!     response.value(),
//!     &json!({"total": 500, "tags": 2, "totals": [250, 500],
//!             "error": "price: no such product", "known": true})
//! );
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! * `host` is a frozen object bound as a read-only, non-configurable
//!   global, built once per context: assigning it, adding, changing or
//!   deleting a property of it or of its functions, or changing its
//!   prototype fails (silently in sloppy code, with a `TypeError` in strict
//!   code and for `Object.defineProperty` / `Object.setPrototypeOf`), so
//!   every eval sees the same `host`. A script may declare its own `host`
//!   (`let`, a parameter), which shadows it in that eval only. Without a
//!   registry `host` exists, empty.
//! * **A name that is not registered is an error, not `undefined`:** reading
//!   it (`host.nope`, `typeof host.nope`, and so calling it) throws
//!   `TypeError: host.nope is not a registered host function (registered:
//!   price, user)`. Test for a function with `"nope" in host` or
//!   `Object.hasOwn(host, "nope")`; `Object.keys(host)` lists the names.
//!   This holds for every string key `host` does not have, including
//!   `Object.prototype`'s (`host` has no `toString`, `valueOf`, `toJSON`
//!   or `then`), so converting `host` itself to a string or a result, or
//!   awaiting it, throws the same error; symbol keys read as `undefined`.
//!   (`host`'s prototype is a `Proxy` whose `get` trap throws: a registered
//!   name is an ordinary property read and never reaches the trap.)
//! * The functions ignore `this` (`const f = host.price; f(x, 1)` works)
//!   and are not constructors. Any number of arguments may be passed (the
//!   registry checks the count).
//! * **Arguments** are converted as results are (the value table above,
//!   right column, `JSON.stringify` semantics): each is a top-level value,
//!   so `undefined`, a function or a symbol is `null`, `toJSON` and getters
//!   run; nested at most [`Limits::data_depth`](polyscript_core::Limits)
//!   levels, all of one call's together charged against the memory limit.
//!   Then the registry deserializes them into the function's argument types
//!   by the number rule: `3.0` is the integer 3, `2.5` is not an integer.
//! * **Results** are converted as `ctx` is (the left column): plain objects
//!   and arrays with the built-in prototypes, charged against the eval's
//!   data depth and memory limit; an integer beyond ±(2^53 − 1) is refused,
//!   never rounded.
//! * Host functions may be called from anywhere in the script: callbacks of
//!   `map` / `sort` / `replace`, getters, `toJSON`, promise jobs and `async`
//!   functions. An `async` host function
//!   ([`register_async`](polyscript_core::host::HostFunctions::register_async))
//!   is an ordinary call in JavaScript, as in Lua and Rhai (it returns the
//!   value, not a promise): the eval waits for it, within its deadline.
//!   Its future is polled on the thread that runs the script; in
//!   [`ThreadMode::Dedicated`] (and for caller-thread evals that move to a
//!   worker for a large call depth) that is the instance's worker, which has
//!   not entered the caller's tokio runtime, so a future that needs tokio's
//!   timers or I/O fails there (`NAME: panicked: ...`); run such evals in
//!   [`ThreadMode::CallerThread`].
//! * Both [`ThreadMode`]s call host functions on the thread that runs the
//!   script (the instance's worker in [`ThreadMode::Dedicated`]; the
//!   registry is `Send + Sync`). The [`CallContext`](polyscript_core::host::CallContext)
//!   is the eval's: its deadline, cancellation token, script id and host
//!   data (on a worker, rebuilt from the caller's, with `limits().timeout`
//!   the time from the eval's start to its deadline).
//! * With the accounting allocator, what a host function allocates and
//!   frees during the call is not counted against the script (its meter is
//!   paused for the call); what the script holds afterwards (the result) is,
//!   at once.
//!
//! What goes wrong in a call:
//!
//! | case | in the script | uncaught |
//! |---|---|---|
//! | the function returns `Err(HostError)` | an `Error` whose `message` is `NAME: MESSAGE`; `try { .. } catch (e) { .. }` catches it | `Error::Runtime` (`Error: price: no such product`) with the line and column of the call |
//! | wrong argument count or types | a `TypeError`: `NAME: takes 2 arguments, got 1`, `NAME: argument 2: invalid type: ...` | the same |
//! | an argument with no JSON form (a cycle, NaN, a BigInt beyond 64 bits) or nested too deep | a `TypeError`: `NAME: argument 1.items[0]: ...`; an error thrown by a getter or `toJSON` the conversion runs is thrown as it is | the same |
//! | a result too deep, or with an integer beyond ±(2^53 − 1) | an `Error`: `NAME: its result: ...` | the same |
//! | the function panics | an `Error`: `NAME: panicked: MESSAGE` (the registry catches it; nothing unwinds through boa) | the same |
//! | a name that is not registered | a `TypeError` naming it (above), on reading it | the same |
//! | the deadline passes or the token fires (before, during or after the call, also in an `async` function), or the function stops the eval ([`HostError::interrupt`](polyscript_core::host::HostError::interrupt)) | the eval stops: no `catch` or `finally` runs | `Timeout` / `Cancelled` / the function's error |
//! | an argument or result larger than the memory limit | the eval stops | `LimitExceeded(Memory)` naming the function |
//!
//! A loop of host calls is stopped by every limit, as any other loop.
//! Once an eval is stopped, no further host call runs a host function.
//! An engine without host functions pays nothing per eval for them; with
//! some, an eval makes the guard visible to them (two pointer writes).
//!
//! # Sandbox
//!
//! boa_engine has no file, network, process or environment API, and none is
//! added; `setTimeout` and friends do not exist. Promise jobs run only to
//! settle a promise result (see "Scripts"); `import()`, `Atomics.waitAsync`
//! and `FinalizationRegistry` callbacks never run. The optional `console`
//! writes to `tracing`. Host functions (above) are the only capability a
//! script gets from the embedding program, and only those registered.
//! Built-ins are frozen (see "Compile once, isolate
//! every eval"). The `Symbol.for` registry belongs to the context (in boa
//! 0.22 it was one for the whole process) and is emptied after every eval.
//!
//! # Known deviations
//!
//! From node / V8, in boa 0.22 as patched here:
//!
//! * assignment destructuring with a computed key and a nested pattern,
//!   `({ ['k']: [x] } = o)`, is a `SyntaxError` (the declaration form
//!   `const { ['k']: [x] } = o` works);
//! * converting an object to a primitive while the same object is already
//!   being converted (`o.toString = () => String(o)`) gives `""` (or `0`)
//!   instead of recursing until a `RangeError`;
//! * `BigInt`s are limited to 2^20 bits (V8: 2^30);
//! * built-ins are frozen (above), so scripts that patch them behave as in a
//!   hardened realm.
//!
//! Fixed in the vendored boa (they were wrong in boa 0.22.0):
//! `const { b: { d }, ...rest } = o` left `b` in `rest`, and
//! `/a\/b/.source` was `a\\/b`.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Unsafe code only where boa's garbage collector or a raw pointer needs it,
// each such module allowed by name with its reason.
#![deny(unsafe_code)]

mod console;
mod convert;
mod engine;
mod errors;
mod failure;
mod globals;
// The host object's native functions: boa's `Trace` for their captures
// (nothing in them is a GC object) and the eval's guard behind a pointer
// that is set only for the length of one eval (see host/mod.rs).
#[allow(unsafe_code)]
mod host;
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

#[doc(hidden)]
pub use convert::lazy::set_lazy_min_keys;
pub use engine::{
    DEFAULT_MAX_SOURCE_BYTES, DEFAULT_STACK_SIZE, DEFAULT_YIELD_BUDGET, JsEngine, JsEngineBuilder,
};
pub use instance::{JsInstance, ThreadMode};
pub use program::JsProgram;
#[doc(hidden)]
pub use runtime::contexts_built;

/// The boa_engine crate this engine is built on, for code that needs its own API.
pub use boa_engine;
