//! Lua 5.4 engine for [polyscript](https://docs.rs/polyscript), on
//! [mlua](https://docs.rs/mlua) with a vendored Lua (no system Lua needed).
//!
//! A script reads its input from the global table `ctx` and `return`s its
//! result from the chunk:
//!
//! ```
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_lua::LuaEngine;
//!
//! let script = r#"
//!     local greeting = "Hello, " .. ctx.name .. "!"
//!     return { greeting = greeting, length = #greeting }
//! "#;
//! let evaluator = Evaluator::new(LuaEngine::new(), Source::from_text(script))?;
//! let response = evaluator.eval(&EvalContext::with_data(json!({"name": "World"}))?)?;
//! assert_eq!(response.value(), &json!({"greeting": "Hello, World!", "length": 13}));
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! Only the chunk's first return value is the result.
//!
//! # Values
//!
//! Data crosses directly between JSON and the Lua C API (no serde layer),
//! with these rules, the same in both directions where both apply:
//!
//! | JSON | in Lua (`ctx`) | back to JSON (the result) |
//! |---|---|---|
//! | `null` | the global `null` (a light userdata) | `null`; a returned `nil` is `null` too |
//! | `true`, `false` | boolean | boolean |
//! | integer in `i64` range | integer, exact | integer, exact |
//! | integer above `i64::MAX` | `InvalidData` naming its path (never rounded) | — |
//! | float (`-0.0` included) | float, exact (`3.0` stays a float) | float, exact |
//! | — | NaN, ±infinity | `InvalidData` naming the path |
//! | string | string | string, if it is UTF-8; otherwise `InvalidData` naming the path (Lua strings are bytes; no lossy conversion) |
//! | list | a table `1..n` with the array metatable | a table whose keys are exactly `1..n` is a list; an empty table with the array metatable is `[]` |
//! | map | a table with string keys | a table with only string keys is a map, keys sorted; an empty plain table `{}` is `{}` |
//! | — | any other table: both list and map keys (`{1, 2, x = 3}`), a sparse list (`{[1] = 'a', [3] = 'c'}`, `{1, nil, 3}`), keys `<= 0`, float, boolean or table keys | `InvalidData` naming the table's path and the offending key: never truncated |
//! | — | a table that contains itself | `InvalidData` (a cycle) naming where it repeats; a table shared in several places is fine (converted once per place) |
//! | — | functions, coroutines, userdata | `InvalidData` naming the path |
//!
//! * Use the global `array(t)` (or `array()`) to return an empty list. The
//!   array metatable is protected: `getmetatable(list)` is `false`, and a
//!   list's metatable cannot be replaced.
//! * Nesting is bounded by [`Limits::data_depth`](polyscript_core::Limits)
//!   both ways (`ctx` itself is level 1): deeper data is `InvalidData` naming
//!   the path (`ctx.a[0][0]…`, `result[0][0]…`). Converting the input and
//!   the result is charged, value by value and byte by byte, against
//!   [`Limits::memory_bytes`](polyscript_core::Limits): a result that shares
//!   a table many times (`x = {x, x}` forty times) ends in
//!   `LimitExceeded(Memory)` after converting at most the limit's worth.
//!   This is the number rule of [`polyscript_core::data`] for Lua.
//! * **Large inputs are converted as they are read.** With 16 or more
//!   top-level keys, `ctx` starts empty and each entry is converted (whole)
//!   when the script first reads it, so reading one key of a 10 000-key input
//!   costs about what reading it from a small one does. The script cannot
//!   tell: `pairs`, `next`, `rawget`, `rawset`, `getmetatable`,
//!   `setmetatable`, `array` and any write first convert the rest, after
//!   which `ctx` is an ordinary table; a result or a host function argument
//!   holding `ctx` gets all of it. What is never read is never charged
//!   against the memory limit. An entry that cannot be converted (an integer
//!   above `i64::MAX`, the memory limit) is still the eval's `InvalidData` /
//!   `LimitExceeded` naming `ctx.key`, even if the script catches the error
//!   with `pcall`: only when it is read.
//!
//! # Isolation
//!
//! Nothing an eval does is visible to the next on the same state:
//!
//! * Each eval runs in an empty global environment (`_ENV`) whose reads fall
//!   back to the sandbox; after the eval it is emptied, and the chunk's
//!   `_ENV` is bound back to it (a script may assign `_ENV`).
//! * The libraries (`string`, `table`, `math`, `utf8`, `coroutine`, `os`,
//!   `io` when granted) and `host` are read-only views: assignments fail, `rawset` on
//!   them fails, `pairs` iterates them through a closure that hands out no
//!   table (and `next(string)` is `nil`), their metatables, the
//!   environment's, the string metatable (so string methods always use the
//!   real functions) and the array metatable are protected.
//! * Nothing an eval sets up runs after it: scripts cannot set `__gc`
//!   (`setmetatable` refuses a metatable with one: a finalizer would run at
//!   some later collection, in another eval, and Lua runs finalizers with
//!   hooks off, so one that loops would hang it); weak tables and pending
//!   coroutines become unreachable with the environment (a suspended
//!   coroutine's to-be-closed variables are never run); `math.randomseed`
//!   in one eval gets the generator reseeded at random for the next.
//! * A state serves many programs. Evals of an engine without host
//!   functions run on the state the calling thread keeps for the engine's
//!   settings (grants, check interval), one eval at a time (a nested eval
//!   gets a state of its own); the state keeps the chunks of the last 256
//!   programs it ran (at most 4 MiB of bytecode), so an idle evaluator holds
//!   only its bytecode and 10 000 tenants rotate on one thread at about
//!   twice the hot eval. A state a thread gives up (it ends, or keeps more
//!   than 4) goes, its chunks dropped and garbage collected, to a few
//!   process-wide spares the next thread takes. The rules above are what
//!   make that safe: a program sees of the one before exactly what an eval
//!   sees of the eval before, nothing, and no script can reach another
//!   program's chunk (no `debug`, no registry). A state an eval panicked in,
//!   ran out of memory in, or could not reset is closed. An engine with host
//!   functions gives each instance a state of its own.
//! * Under the `io` grant, the default input and output files are state of
//!   the process; under the `os` grant, `os.setlocale` changes the C locale
//!   of the whole process (number formatting in every state, for one).
//!
//! # Sandbox
//!
//! See [`LuaEngineBuilder`] for what scripts get by default and the grants
//! (`allow_io`, `allow_os`, `allow_env`, and the [host
//! functions](#host-functions), the only capability a script has unless
//! granted); `debug` is never available (it
//! reaches every upvalue, metatable and the registry). `print` goes to
//! `tracing` (target `polyscript_lua::print`, level INFO), one line of at
//! most 64 KiB. `load` takes text only and runs in the script's environment
//! by default; long chunks are fed to the parser in pieces so the deadline
//! is checked while it parses. `collectgarbage` allows `collect`, `count`,
//! `step` and `isrunning`.
//!
//! # Limits
//!
//! * **Memory** is the Lua allocator's limit (`LimitExceeded(Memory)`, and
//!   the state is discarded), on while the chunk runs and counting what the
//!   state holds beyond what it held when the eval began (the sandbox and
//!   the chunks it keeps for other programs are not charged), `ctx`
//!   included; a state that grew by more than 1 MiB since the last eval
//!   began is collected first, so garbage an earlier eval left is not room
//!   for this one. The conversions are bounded by their budget (above). A memory error the script catches (`pcall`, `xpcall`,
//!   `coroutine.resume`/`wrap`) ends the eval all the same: it can only be
//!   told apart by its message, so a script's own `error("not enough
//!   memory", 0)` does too. (A `__close` handler that raises its own error
//!   while a memory error unwinds replaces it; such an eval then ends at its
//!   deadline.)
//! * **Deadline, cancellation, operations and call depth** are checked by an
//!   instruction-count hook every
//!   [`check_interval`](LuaEngineBuilder::check_interval) instructions
//!   (operations count Lua instructions), and by the library functions that
//!   loop in C (below), which count their steps as operations and check
//!   every 1000. An eval that was stopped stays stopped: `pcall`, `xpcall`,
//!   `coroutine.resume`, `coroutine.wrap` and `coroutine.close` rethrow, and
//!   `xpcall` handlers are skipped. Lua's own "stack overflow" and "C stack
//!   overflow" are `LimitExceeded(CallDepth)`.
//! * **Host calls** count against the deadline: the registry checks the
//!   deadline and the token before and after each call, and the hook keeps
//!   counting around it, so a loop of host calls is stopped by every limit.
//!   A host function's argument or result larger than the memory limit is
//!   `LimitExceeded(Memory)` (see [Host functions](#host-functions)).
//!
//! # Bounded library functions
//!
//! Some library functions loop in C, where no instruction hook runs: the
//! pattern matcher (`string.find`, `match`, `gmatch`, `gsub`) backtracks
//! exponentially on patterns such as `("a*"):rep(25) .. "b"`, `string.rep`
//! of an empty string loops `n` times, and `table.insert`, `remove`, `move`,
//! `concat` and `sort` loop as often as a range or a `__len` says, calling
//! metamethods that may be C functions themselves. These ten functions are
//! polyscript's own ports of `lstrlib.c` and `ltablib.c` (the matcher in
//! Rust, the rest on the Lua C API), with a step counter that checks the
//! eval's deadline, token and operation budget; their results and error
//! messages are Lua 5.4's (the tests compare them with the vendored C code
//! on a corpus and on generated cases). A thread or a pattern filter could
//! not do this: an abandoned thread keeps its CPU and the state, and no
//! static rule tells a slow pattern from a fine one. Plain `string.find`
//! uses a linear-time search. Character classes are those of the C locale
//! (ASCII), whatever the process's locale.
//! [`install_bounded_functions`] installs them in any mlua state.
//!
//! # Host functions
//!
//! A [`HostFunctions`](polyscript_core::host::HostFunctions) registry given
//! to [`LuaEngineBuilder::host_functions`] is bound in every state as the
//! global `host`: each registered function is `host.NAME(...)`.
//!
//! ```
//! use polyscript_core::host::{HostError, HostFunctions};
//! use polyscript_core::{EvalContext, Evaluator, Source, serde_json::json};
//! use polyscript_lua::LuaEngine;
//!
//! let host = HostFunctions::new()
//!     .register("price", |(sku, qty): (String, u64)| -> Result<u64, HostError> {
//!         if sku.is_empty() {
//!             return Err(HostError::new("no such product"));
//!         }
//!         Ok(250 * qty)
//!     })
//!     .register("user", |(id,): (String,)| Ok(json!({"id": id, "tags": ["a", "b"]})));
//! let engine = LuaEngine::builder().host_functions(host).build();
//! let script = r#"
//!     local ok, err = pcall(host.price, "", 1)
//!     local user = host.user(ctx.user)
//!     return { total = host.price(ctx.sku, ctx.qty), tags = #user.tags, error = err }
//! "#;
//! let evaluator = Evaluator::new(engine, Source::from_text(script))?;
//! let data = json!({"sku": "sku-1", "qty": 2, "user": "u7"});
//! let response = evaluator.eval(&EvalContext::with_data(data)?)?;
//! assert_eq!(
//!     response.value(),
//!     &json!({"total": 500, "tags": 2, "error": "price: no such product"})
//! );
//! # Ok::<(), polyscript_core::Error>(())
//! ```
//!
//! * `host` is a read-only view like the libraries (assigning, `rawset`
//!   and `setmetatable` on it fail; a script may shadow the global `host`
//!   with its own value, which ends with the eval). Without a registry it is
//!   an empty table. A name that is not registered reads as `nil` (so
//!   `if host.lookup then` tests for a function), and calling it is Lua's
//!   own error, `attempt to call a nil value (field 'nope')`: Lua cannot
//!   tell a read from a call. Call with a dot: `host:f(x)` passes `host`
//!   itself as the first argument. A name that is a Lua keyword (`end`,
//!   `repeat`, ...) is called as `host["end"](...)`.
//! * **Arguments** are converted as results are (the table above, right
//!   column): each is a top-level value, nested at most
//!   [`Limits::data_depth`](polyscript_core::Limits) levels, all of one
//!   call's together charged against the memory limit. Then the registry
//!   deserializes them into the function's argument types, by the number
//!   rule: a Lua float such as `2.0` is not an integer (`math.tointeger`).
//! * **Results** are converted as `ctx` is (the left column: a list gets
//!   the array metatable, `null` is the global `null`), charged against the
//!   eval's data depth and memory limit.
//! * Host functions may be called from anywhere in the script: coroutines,
//!   metamethods, `string.gsub` replacement functions, `table.sort`
//!   comparators. An `async` function ([`register_async`](polyscript_core::host::HostFunctions::register_async))
//!   is an ordinary call in Lua: the eval waits for it, within its deadline.
//!
//! What goes wrong in a call:
//!
//! | case | in the script | uncaught |
//! |---|---|---|
//! | the function returns `Err(HostError)` | a Lua error `NAME: MESSAGE`, with the caller's position as Lua's library errors have it (`script:3: price: no such product`); `pcall` catches it | `Error::Runtime` with the message and the line |
//! | wrong argument count or types | `NAME: takes 2 arguments, got 1`, `NAME: argument 2: invalid type: ...` | the same |
//! | an argument with no JSON form (mixed or sparse keys, a function, a cycle, NaN, bytes that are not UTF-8, too deep) | `NAME: argument 1.items: a sparse list ...` | the same |
//! | a result too deep, or an integer outside `i64` | `NAME: its result: ...` | the same |
//! | the function panics | `NAME: panicked: MESSAGE` (the registry catches it; nothing unwinds into Lua's C code) | the same |
//! | the deadline passes or the token fires (before, during or after the call, also in an `async` function) | the eval stops: no `pcall`, `xpcall` or coroutine catches it | `Timeout` / `Cancelled` |
//! | an argument or result larger than the memory limit | the eval stops | `LimitExceeded(Memory)` naming the function |
//!
//! Once an eval is stopped (by any limit), a host call made while the
//! script unwinds (from a `__close` handler, say) fails without calling the
//! function.
//!
//! # Errors
//!
//! Compile and runtime errors carry the line as their
//! [`Location`](polyscript_core::Location) (Lua reports no columns, so there
//! are none), and the message without Lua's `chunk:line:` prefix, so the
//! position is said once: `lua compile error in script df6c0b94f28a at line
//! 3: unexpected symbol near 'return'`. The chunk is named after the source
//! file (the last segment of a URL), or `script`; positions in other chunks
//! (code the script `load`s) stay in the message.
// `unsafe` only in the modules allowed below, each block with its SAFETY note.
#![deny(unsafe_code)]

// Bounded string and table functions written against Lua's C API.
#[allow(unsafe_code)]
mod bounded;
mod builder;
// Data in and out through Lua's C API (no per-value mlua handles).
#[allow(unsafe_code)]
mod convert;
mod engine;
mod errors;
// Host functions as C closures on Lua's stack.
#[allow(unsafe_code)]
mod host;
// Running the chunk and reading its result through Lua's C API.
#[allow(unsafe_code)]
mod instance;
// The helpers for calling Lua's C API safely (stack room, protected calls).
#[allow(unsafe_code)]
mod raw;
mod spare;
mod thread_states;
// The instruction hook reads the state and the armed eval through raw pointers.
#[allow(unsafe_code)]
mod watch;

pub use bounded::install_bounded_functions;
pub use builder::LuaEngineBuilder;
pub use engine::{LuaEngine, LuaProgram};
pub use instance::LuaInstance;

/// The mlua crate this engine is built on, for code that needs its own API.
pub use mlua;
