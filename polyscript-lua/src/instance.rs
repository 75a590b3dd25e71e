//! One pooled Lua state: the sandbox, the script's environment table and the
//! chunk, loaded once and ready to call.

use mlua::chunk::ChunkMode;
use std::sync::OnceLock;

use mlua::{Function, Lua, LuaOptions, LuaSerdeExt, StdLib, Table, Variadic};
use polyscript_core::{Limits, Map, Value};

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
    memory_limit: Option<u64>,
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
        limits: &Limits,
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
        let mut instance = LuaInstance {
            lua,
            chunk,
            env,
            watch,
            memory_limit: None,
        };
        instance.set_memory_limit(limits.memory_bytes)?;
        Ok(instance)
    }

    /// Applies the eval's memory limit if it differs from the current one.
    pub(crate) fn set_memory_limit(&mut self, bytes: Option<u64>) -> mlua::Result<()> {
        if bytes != self.memory_limit {
            let raw = bytes.map_or(0, |b| usize::try_from(b).unwrap_or(usize::MAX).max(1));
            self.lua.set_memory_limit(raw)?;
            self.memory_limit = bytes;
        }
        Ok(())
    }

    /// The hook state.
    pub(crate) fn watch(&self) -> &Watch {
        &self.watch
    }

    /// Runs the chunk once with `input` as `ctx`.
    pub(crate) fn run(&self, input: &Map) -> Result<Value, Failure> {
        let ctx = convert::to_lua(&self.lua, input).map_err(Failure::Input)?;
        self.env.raw_set("ctx", ctx).map_err(Failure::Input)?;
        let result: mlua::Value = self.chunk.call(()).map_err(Failure::Script)?;
        convert::from_lua(&self.lua, result).map_err(Failure::Output)
    }

    /// Forgets everything the eval put in the environment.
    pub(crate) fn reset(&self) -> mlua::Result<()> {
        self.env.clear()
    }
}
