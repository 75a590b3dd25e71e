//! Lua 5.4 (feature `lua`): compile a Lua chunk once and get an
//! [`AnyEvaluator`](crate::AnyEvaluator). Scripts read the global `ctx` and
//! `return` their result; see [`polyscript_lua`] for the value rules, the
//! sandbox and the limits. This module is `polyscript_lua`'s API (with the
//! [`mlua`] crate it is built on) plus the constructors, which are also at
//! the crate root.
//!
//! ```
//! use polyscript::{EvalContext, serde_json::json};
//! let ev = polyscript::from_lua_str("return { greeting = 'Hello, ' .. ctx.name .. '!' }")?;
//! let out = ev.eval(&EvalContext::with_data(json!({"name": "Lua"}))?)?;
//! assert_eq!(out.value(), &json!({"greeting": "Hello, Lua!"}));
//! # Ok::<(), polyscript::Error>(())
//! ```

pub use polyscript_lua::*;

engine_constructors! {
    root: root,
    what: "Lua chunk",
    input: script: impl AsRef<str> => Source::from_text,
    args: (),
    note: "",
    engine: super::LuaEngine::new(),
    export: [LuaEngine, LuaEngineBuilder, LuaInstance, LuaProgram],
    fns: [
        from_lua_str, from_lua_str_with_data,
        from_lua_file, from_lua_file_with_data,
        from_lua_loader, from_lua_loader_with_data,
    ],
}
