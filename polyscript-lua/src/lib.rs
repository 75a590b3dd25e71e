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
//! # Values
//!
//! Data crosses through mlua's serde support:
//!
//! * JSON integers are Lua integers and JSON floats Lua floats, both ways
//!   (`3.0` stays a float, `3` an integer; `3 / 1` in Lua is the float `3.0`).
//! * JSON lists arrive as sequences carrying mlua's array metatable and so
//!   come back as lists, even empty ones. A table **without** that metatable
//!   is a list when it has a non-zero length (`#t > 0`) and a map otherwise:
//!   an empty plain table `{}` is an empty **map**. Use the global
//!   `array(t)` (or `array()`) to return an empty list.
//! * JSON `null` is the global `null` (mlua's null light userdata); a
//!   returned `nil` is `null` too. Map keys come back sorted.
//! * Functions, coroutines and userdata cannot be returned (an
//!   [`Error::InvalidData`](polyscript_core::Error::InvalidData)).
//!
//! # Isolation
//!
//! Each eval runs in an empty global environment (`_ENV`) whose reads fall
//! back to the sandbox library table; what one eval assigns to globals is
//! gone in the next, the libraries (`string`, `math`, ...) are read-only, and
//! the environment's and the string metatable are protected.
//!
//! # Sandbox
//!
//! See [`LuaEngineBuilder`] for what scripts get by default and the grants
//! (`allow_io`, `allow_os`, `allow_env`). `print` goes to `tracing` (target
//! `polyscript_lua::print`, level INFO).
//!
//! # Limits
//!
//! Memory is the Lua allocator's limit (`LimitExceeded(Memory)`, and the state
//! is discarded), on while the chunk runs and counting everything the state
//! holds, `ctx` included (converting the input and the result happens with
//! the limit off: mlua would otherwise run each conversion step in protected
//! mode, ~20% of a small eval); deadline, cancellation, operations (Lua instructions) and
//! call depth are checked by an instruction hook. `pcall`, `xpcall` and
//! `coroutine.resume` cannot swallow an interrupted eval.

mod builder;
mod convert;
mod engine;
mod errors;
mod instance;
mod raw;
mod bounded;
mod watch;

pub use builder::LuaEngineBuilder;
pub use engine::{LuaEngine, LuaProgram};
pub use instance::LuaInstance;
pub use bounded::install_bounded_functions;

/// The mlua crate this engine is built on, for code that needs its own API.
pub use mlua;
