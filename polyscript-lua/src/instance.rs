//! One pooled Lua state: the sandbox, the script's environment table and the
//! chunk, loaded once and ready to call.

use mlua::chunk::ChunkMode;
use std::sync::OnceLock;

use mlua::{Function, Lua, LuaOptions, LuaSerdeExt, StdLib, Table, Variadic};
use polyscript_core::{Map, Value};

use crate::builder::Grants;
use crate::convert;
use crate::engine::LuaProgram;
use crate::watch::Watch;

const SANDBOX: &str = include_str!("sandbox.lua");

/// The sandbox prelude's bytecode, compiled once per process (instances
/// load it instead of parsing the prelude again).
fn sandbox_bytecode() -> mlua::Result<&'static [u8]> {
    static CODE: OnceLock<Vec<u8>> = OnceLock::new();
    if let Some(code) = CODE.get() {
        return Ok(code);
    }
    let lua = Lua::new_with(StdLib::NONE, LuaOptions::new())?;
    let prelude = lua
        .load(SANDBOX)
        .set_name("=polyscript-sandbox")
        .set_mode(ChunkMode::Text)
        .into_function()?;
    Ok(CODE.get_or_init(|| prelude.dump(false)))
}

/// A Lua state with the program's chunk loaded (an
/// [`Engine::Instance`](polyscript_core::Engine::Instance) of
/// [`LuaEngine`](crate::LuaEngine)). Opaque; the pool owns it.
pub struct LuaInstance {
    lua: Lua,
    chunk: Function,
    /// The chunk's `_ENV`. One table per instance, emptied after every eval:
    /// clearing a handful of keys is cheaper than creating a table and
    /// rebinding the chunk's `_ENV` upvalue each time (mlua's
    /// `Function::set_environment` loads a helper chunk per call); measured on
    /// the greeting script, a new table per call cost ~1.5x the raw call, the
    /// reused one ~1.03x (tests/timing.rs). Its protected metatable
    /// (`__index` = the read-only sandbox) never changes.
    env: Table,
    watch: Watch,
}

/// Why an eval failed before the hook or the script had a say.
pub(crate) enum Failure {
    /// The input could not become a Lua value.
    Input(mlua::Error),
    /// The script raised an error.
    Script(mlua::Error),
    /// The result could not become JSON.
    Output(mlua::Error),
}

impl LuaInstance {
    /// A fresh Lua state for `program`.
    pub(crate) fn new(
        program: &LuaProgram,
        grants: Grants,
        check_interval: u32,
    ) -> mlua::Result<Self> {
        let lua = Lua::new_with(grants.std_libs(), LuaOptions::new())?;
        let env = lua.create_table()?;
        let watch = Watch::default();
        let print = lua.create_function(|_, args: Variadic<mlua::Value>| {
            let line: Vec<String> = args
                .iter()
                .map(|v| {
                    v.to_string()
                        .unwrap_or_else(|_| format!("<{}>", v.type_name()))
                })
                .collect();
            tracing::info!(target: "polyscript_lua::print", "{}", line.join("\t"));
            Ok(())
        })?;
        let tripped = {
            let watch = watch.clone();
            lua.create_function(move |_, ()| Ok(watch.is_tripped()))?
        };
        let flags = lua.create_table()?;
        flags.set("io", grants.io)?;
        flags.set("os", grants.os)?;
        flags.set("env", grants.env)?;
        lua.load(sandbox_bytecode()?)
            .set_name("=polyscript-sandbox")
            .set_mode(ChunkMode::Binary)
            .call::<()>((
                lua.globals(),
                env.clone(),
                print,
                tripped,
                lua.array_metatable(),
                lua.null(),
                flags,
            ))?;
        let chunk = lua
            .load(program.bytecode())
            .set_name(program.chunk_label())
            .set_mode(ChunkMode::Binary)
            .set_environment(env.clone())
            .into_function()?;
        watch.install(&lua, check_interval)?;
        Ok(LuaInstance {
            lua,
            chunk,
            env,
            watch,
        })
    }

    /// The hook state.
    pub(crate) fn watch(&self) -> &Watch {
        &self.watch
    }

    /// Runs the chunk once with `input` as `ctx`, the state limited to
    /// `memory_bytes` while the chunk runs.
    ///
    /// The limit is on only for the call. With a limit set, mlua runs every
    /// value it creates from Rust in Lua's protected mode (so an allocation
    /// failure is an error, not an abort), and converting the input and the
    /// result that way cost ~20% of a small eval (the greeting: 2.26 µs with
    /// the limit held across the eval, 1.89 µs without). Memory the input
    /// takes still counts against the limit once the chunk runs: the limit
    /// is on the whole state's allocations.
    pub(crate) fn run(&self, input: &Map, memory_bytes: Option<u64>) -> Result<Value, Failure> {
        let ctx = convert::to_lua(&self.lua, input).map_err(Failure::Input)?;
        self.env.raw_set("ctx", ctx).map_err(Failure::Input)?;
        let result = {
            let _limited = MemoryLimit::set(&self.lua, memory_bytes).map_err(Failure::Script)?;
            self.chunk.call::<mlua::Value>(())
        };
        convert::from_lua(&self.lua, result.map_err(Failure::Script)?).map_err(Failure::Output)
    }

    /// Forgets everything the eval put in the environment (with no memory
    /// limit set: unprotected, see [`run`](Self::run)).
    pub(crate) fn reset(&self) -> mlua::Result<()> {
        self.env.clear()
    }
}

/// A memory limit on a Lua state until dropped (also while unwinding).
struct MemoryLimit<'a> {
    lua: &'a Lua,
}

impl<'a> MemoryLimit<'a> {
    /// Limits `lua` to `bytes` (`None`: no limit; a limit of 0 bytes is
    /// 1 byte, as mlua reads 0 as "no limit").
    fn set(lua: &'a Lua, bytes: Option<u64>) -> mlua::Result<Self> {
        let raw = bytes.map_or(0, |b| usize::try_from(b).unwrap_or(usize::MAX).max(1));
        lua.set_memory_limit(raw)?;
        Ok(MemoryLimit { lua })
    }
}

impl Drop for MemoryLimit<'_> {
    fn drop(&mut self) {
        // Cannot fail: the state is ours, so mlua controls its allocator.
        let _ = self.lua.set_memory_limit(0);
    }
}
