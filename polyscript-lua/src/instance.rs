//! A sandboxed Lua state (`Shell`: the sandbox and the environment table
//! scripts run in), how it runs one eval of a chunk, and what an instance
//! is: the settings of the thread's state it runs on, or, with host
//! functions, a state of its own with the chunk loaded.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Variadic};
use polyscript_core::data::{Budget, DataError};
use polyscript_core::host::HostFunctions;
use polyscript_core::{EvalInput, Limits, Value};

use crate::bounded;
use crate::builder::Grants;
use crate::convert;
use crate::engine::LuaProgram;
use crate::host;
use crate::raw::with_raw_state;
use crate::spare::{self, ShellKey};
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

/// Longest line `print` logs; longer ones are cut (a log line, not a way to
/// move memory past the Lua state's limit).
const PRINT_LINE_MAX: usize = 64 * 1024;

/// How an instance of [`LuaEngine`](crate::LuaEngine) runs its program (an
/// [`Engine::Instance`](polyscript_core::Engine::Instance)). Opaque; the
/// pool owns it.
///
/// Without host functions an instance holds only its settings: evals run
/// on the thread's sandboxed state for them, which keeps the chunk loaded
/// (see [Isolation](crate#isolation)). With host functions it owns a state
/// with the chunk loaded, as the functions are closures over its registry.
pub struct LuaInstance(Placement);

enum Placement {
    /// The thread's state for these settings (`thread_states`).
    Thread(ShellKey),
    /// A state of its own, the chunk loaded in it (dropped first: fields
    /// drop in order).
    Own { chunk: Function, shell: Shell },
}

/// Where one eval runs: an instance's own state, or the thread's.
pub(crate) enum Seat<'a> {
    /// The instance's own state and chunk.
    Own(&'a Shell, &'a Function),
    /// Borrow the thread's state for these settings.
    Thread(ShellKey),
}

/// A sandboxed Lua state: everything an eval needs but its program's chunk.
pub(crate) struct Shell {
    lua: Lua,
    /// The chunk's `_ENV`. One table per state, emptied after every eval:
    /// clearing a handful of keys is cheaper than creating a table and
    /// rebinding the chunk's `_ENV` upvalue each time (mlua's
    /// `Function::set_environment` loads a helper chunk per call); measured on
    /// the greeting script, a new table per call cost ~1.5x the raw call, the
    /// reused one ~1.03x. Its protected metatable (`__index` = the read-only
    /// sandbox) never changes.
    env: Table,
    /// The metatable that marks a table as a list (protected, shared by all
    /// lists of this state).
    array_mt: Table,
    /// The metatable of a large input's lazy `ctx` (see `convert::lazy`;
    /// protected, its metamethods set by the sandbox prelude).
    lazy_mt: Table,
    watch: Watch,
    /// Set when a script seeded the random generator: the next reset seeds
    /// it afresh, so no eval can predict the next one's numbers.
    seeded: Arc<AtomicBool>,
    randomseed: Function,
    /// What the state held when the last eval began (see
    /// [`settle_garbage`](Self::settle_garbage)).
    held_last: Cell<usize>,
}

/// Why an eval failed before the hook or the script had a say.
pub(crate) enum Failure {
    /// The input could not become a Lua value.
    Input(DataError),
    /// The script raised an error (or the state refused the memory limit).
    Script(mlua::Error),
    /// The result could not become JSON.
    Output(DataError),
    /// The state could not be reset after the eval.
    Reset(mlua::Error),
}

impl LuaInstance {
    /// An instance of `program`: the settings alone, or a state of its own
    /// with the chunk loaded when it binds host functions.
    pub(crate) fn new(
        program: &LuaProgram,
        grants: Grants,
        check_interval: u32,
        host_functions: &HostFunctions,
    ) -> mlua::Result<Self> {
        if host_functions.is_empty() {
            return Ok(LuaInstance(Placement::Thread(ShellKey {
                grants,
                check_interval,
            })));
        }
        let shell = Shell::new(grants, check_interval, host_functions)?;
        let chunk = shell.load(program)?;
        Ok(LuaInstance(Placement::Own { chunk, shell }))
    }

    /// Where the next eval runs.
    pub(crate) fn seat(&self) -> Seat<'_> {
        match &self.0 {
            Placement::Thread(key) => Seat::Thread(*key),
            Placement::Own { chunk, shell } => Seat::Own(shell, chunk),
        }
    }
}

impl Shell {
    /// A fresh sandboxed state.
    pub(crate) fn new(
        grants: Grants,
        check_interval: u32,
        host_functions: &HostFunctions,
    ) -> mlua::Result<Self> {
        let lua = Lua::new_with(grants.std_libs(), LuaOptions::new())?;
        bounded::install_bounded_functions(&lua)?;
        let env = lua.create_table()?;
        let array_mt = lua.create_table()?;
        array_mt.raw_set("__metatable", false)?;
        let watch = Watch::default();
        let print = lua.create_function(|_, args: Variadic<mlua::Value>| {
            let mut line = String::new();
            for (i, v) in args.iter().enumerate() {
                if i > 0 {
                    line.push('\t');
                }
                match v.to_string() {
                    Ok(text) => line.push_str(&text),
                    Err(_) => line.push_str(&format!("<{}>", v.type_name())),
                }
                if line.len() > PRINT_LINE_MAX {
                    let mut cut = PRINT_LINE_MAX;
                    while !line.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    line.truncate(cut);
                    line.push('…');
                    break;
                }
            }
            tracing::info!(target: "polyscript_lua::print", "{line}");
            Ok(())
        })?;
        let stops_on = {
            let watch = watch.clone();
            lua.create_function(move |_, error: mlua::Value| Ok(watch.stops_on(&error)))?
        };
        let seeded = Arc::new(AtomicBool::new(false));
        let note_seeded = {
            let seeded = seeded.clone();
            lua.create_function(move |_, ()| {
                seeded.store(true, Ordering::Relaxed);
                Ok(())
            })?
        };
        let randomseed: Function = lua
            .globals()
            .raw_get::<Table>("math")?
            .raw_get("randomseed")?;
        let flags = lua.create_table()?;
        flags.set("io", grants.io)?;
        flags.set("os", grants.os)?;
        flags.set("env", grants.env)?;
        let host = host::functions_table(&lua, host_functions, &array_mt)?;
        let lazy_mt = lua.create_table()?;
        let fetch = {
            let array_mt = array_mt.clone();
            lua.create_function(move |lua, (proxy, key): (Table, mlua::Value)| {
                convert::lazy::fetch(lua, &array_mt, proxy, key)
            })?
        };
        let fill = {
            let (lazy_mt, array_mt) = (lazy_mt.clone(), array_mt.clone());
            lua.create_function(move |lua, proxy: Table| {
                convert::lazy::fill(lua, &lazy_mt, &array_mt, proxy)
            })?
        };
        lua.load(sandbox_bytecode()?)
            .set_name("=polyscript-sandbox")
            .set_mode(ChunkMode::Binary)
            .call::<()>((
                lua.globals(),
                env.clone(),
                print,
                stops_on,
                note_seeded,
                array_mt.clone(),
                mlua::Value::NULL,
                flags,
                host,
                lazy_mt.clone(),
                fetch,
                fill,
            ))?;
        watch.install(&lua, check_interval)?;
        // Building the sandbox leaves garbage (the sandbox chunk, its
        // temporaries): collected now, an idle instance holds only what its
        // evals need.
        lua.gc_collect()?;
        Ok(Shell {
            lua,
            env,
            array_mt,
            lazy_mt,
            watch,
            seeded,
            randomseed,
            held_last: Cell::new(0),
        })
    }

    /// The hook state.
    pub(crate) fn watch(&self) -> &Watch {
        &self.watch
    }

    /// Loads `program`'s chunk (its bytecode: no parsing) with the state's
    /// environment as its `_ENV`.
    pub(crate) fn load(&self, program: &LuaProgram) -> mlua::Result<Function> {
        self.lua
            .load(program.bytecode())
            .set_name(program.chunk_label())
            .set_mode(ChunkMode::Binary)
            .set_environment(self.env.clone())
            .into_function()
    }

    /// Runs `chunk` once with `input` as `ctx`, the state limited to
    /// `limits.memory_bytes` more than it held when the eval began while the
    /// chunk runs, converts its result, and resets the state for the next
    /// eval (see [`reset`](Self::reset)).
    ///
    /// The limit is on only for the call. With a limit set, mlua runs every
    /// value it creates from Rust in Lua's protected mode (so an allocation
    /// failure is an error, not an abort), which cost ~20% of a small eval;
    /// the conversions are bounded by their own budget against the same
    /// limit instead. Memory the input takes still counts against the limit
    /// once the chunk runs.
    ///
    /// The limit is relative because a state serves many programs in turn
    /// and keeps their chunks loaded (`thread_states`): what a state holds
    /// for others must not shrink one eval's room. What it held at the start
    /// may include garbage of earlier evals; an eval that grew the state by
    /// more than [`COLLECT_AFTER_GROWTH`] is fully collected before the next
    /// eval begins, so that garbage stays small against any limit.
    ///
    /// A successful eval enters the state directly twice (input; result and
    /// reset together), each a single protected call.
    pub(crate) fn run(
        &self,
        chunk: &Function,
        input: &EvalInput<'_>,
        limits: &Limits,
    ) -> Result<Value, Failure> {
        let held = self.settle_garbage().map_err(Failure::Reset)?;
        let lazy = if input.len_at_least(convert::lazy::LAZY_MIN_KEYS) {
            match self.lazy_ctx(input, limits) {
                Ok(lazy) => Some(lazy),
                Err(e) => return Err(self.reset_after(chunk, Failure::Input(e))),
            }
        } else {
            // Small: merged (a copy only when layered) and converted whole.
            let converted = input.to_map().and_then(|whole| {
                convert::input::set_ctx(
                    &self.lua,
                    &self.env,
                    &self.array_mt,
                    &whole,
                    Budget::for_limits(limits),
                )
            });
            if let Err(e) = converted {
                return Err(self.reset_after(chunk, Failure::Input(e)));
            }
            None
        };
        // An input error found while the script ran is the eval's error,
        // whatever the script did with it.
        let input_error = || lazy.as_ref().and_then(convert::lazy::Active::take_error);
        // The limit is lifted when `_limited` drops, at the end of the arm.
        let result = match MemoryLimit::set(&self.lua, held, limits.memory_bytes) {
            Ok(_limited) => chunk.call::<mlua::Value>(()),
            Err(e) => Err(e),
        };
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                self.reset(chunk).map_err(Failure::Reset)?;
                return Err(input_error().map_or(Failure::Script(e), Failure::Input));
            }
        };
        let budget = Budget::for_limits(limits);
        let converted = with_raw_state(&self.lua, (value, &self.array_mt, &self.env, chunk), |l| {
            // SAFETY: the result and the array metatable are at 1 and 2,
            // as `read_result` needs; the env and the chunk at 3 and 4.
            unsafe {
                let json = convert::output::read_result(l, budget);
                // A failed conversion leaves its walk on the stack.
                mlua::ffi::lua_settop(l, 4);
                clear_and_rebind(l, 3, 4);
                json
            }
        })
        .map_err(Failure::Reset)?;
        self.reseed_if_needed().map_err(Failure::Reset)?;
        if let Some(e) = input_error() {
            return Err(Failure::Input(e));
        }
        converted.map_err(Failure::Output)
    }

    /// Resets the state after an eval that failed before its chunk ran (a
    /// partly built `ctx` must not reach the next eval); `failure`, or the
    /// reset's own when that fails.
    fn reset_after(&self, chunk: &Function, failure: Failure) -> Failure {
        match self.reset(chunk) {
            Ok(()) => failure,
            Err(e) => Failure::Reset(e),
        }
    }

    /// What the state holds as an eval begins: first fully collected when
    /// it grew by more than [`COLLECT_AFTER_GROWTH`] since the last eval
    /// began (see [`run`](Self::run)). One read of the allocator's count
    /// per eval otherwise.
    fn settle_garbage(&self) -> mlua::Result<usize> {
        let mut held = self.lua.used_memory();
        if held > self.held_last.get().saturating_add(COLLECT_AFTER_GROWTH) {
            self.lua.gc_collect()?;
            held = self.lua.used_memory();
        }
        self.held_last.set(held);
        Ok(held)
    }

    /// Stores an empty lazy proxy as `ctx` and makes `input` the input it
    /// reads for as long as the result lives (see `convert::lazy`).
    fn lazy_ctx<'a>(
        &self,
        input: &'a EvalInput<'a>,
        limits: &Limits,
    ) -> Result<convert::lazy::Active<'a>, DataError> {
        let proxy = (|| {
            let proxy = self.lua.create_table()?;
            proxy.set_metatable(Some(self.lazy_mt.clone()))?;
            self.env.raw_set("ctx", &proxy)?;
            Ok::<_, mlua::Error>(proxy)
        })()
        .map_err(|e| DataError::other(format!("cannot create the input table: {e}")))?;
        Ok(convert::lazy::Active::install(
            input,
            proxy.to_pointer(),
            Budget::for_limits(limits),
        ))
    }

    /// Forgets everything the eval left: its globals (with no memory limit
    /// set: unprotected, see [`run`](Self::run)), a replaced `_ENV` (a
    /// script may assign the chunk's `_ENV` upvalue, which would otherwise
    /// outlive the eval), and a seeded random generator.
    fn reset(&self, chunk: &Function) -> mlua::Result<()> {
        with_raw_state(&self.lua, (&self.env, chunk), |l| {
            // SAFETY: the env table is at 1 and the chunk at 2; clearing
            // existing keys and setting an upvalue raise no Lua error.
            unsafe { clear_and_rebind(l, 1, 2) }
        })?;
        self.reseed_if_needed()
    }

    /// Makes an idle state ready to serve another program: collects what its
    /// last program left (the chunk, garbage of its evals). `false` when it
    /// should not be kept: the collection failed, its environment is not
    /// empty, or it holds more than a fresh state's worth of memory.
    pub(crate) fn settle(&self) -> bool {
        self.lua.gc_collect().is_ok()
            && self.lua.used_memory() <= spare::MAX_SPARE_BYTES
            && self
                .env
                .pairs::<mlua::Value, mlua::Value>()
                .next()
                .is_none()
    }

    fn reseed_if_needed(&self) -> mlua::Result<()> {
        if self.seeded.swap(false, Ordering::Relaxed) {
            self.randomseed.call::<()>(())?;
        }
        Ok(())
    }
}

/// Empties the table at stack slot `env` and makes it the `_ENV` (first
/// upvalue) of the function at slot `chunk`.
unsafe fn clear_and_rebind(l: *mut mlua::ffi::lua_State, env: c_int, chunk: c_int) {
    use mlua::ffi;
    // SAFETY: see the caller; assigning nil to existing keys during a
    // traversal is allowed and allocates nothing. Three slots: a C function
    // always has LUA_MINSTACK (20) above its arguments.
    unsafe {
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, env) != 0 {
            ffi::lua_pop(l, 1);
            ffi::lua_pushvalue(l, -1);
            ffi::lua_pushnil(l);
            ffi::lua_rawset(l, env);
        }
        if !ffi::lua_getupvalue(l, chunk, 1).is_null() {
            let same = ffi::lua_rawequal(l, -1, env) != 0;
            ffi::lua_pop(l, 1);
            if !same {
                ffi::lua_pushvalue(l, env);
                ffi::lua_setupvalue(l, chunk, 1);
            }
        }
    }
}

/// Growth of a state between the starts of two evals (what the first left,
/// live or garbage, and chunks loaded since) past which the state is fully
/// collected before the second runs (see [`Shell::run`]). An eval that allocates this much already costs about a
/// millisecond; collecting a state is a fraction of that.
const COLLECT_AFTER_GROWTH: usize = 1 << 20;

/// A memory limit on a Lua state until dropped (also while unwinding).
struct MemoryLimit<'a> {
    lua: &'a Lua,
}

impl<'a> MemoryLimit<'a> {
    /// Limits `lua` to `bytes` more than the `held` it holds now (`None`: no
    /// limit). A limit of 0 bytes still lets nothing more be allocated: mlua
    /// reads a limit of 0 as "no limit", and `held` is never 0.
    fn set(lua: &'a Lua, held: usize, bytes: Option<u64>) -> mlua::Result<Self> {
        let raw = bytes.map_or(0, |b| {
            usize::try_from(b)
                .unwrap_or(usize::MAX)
                .saturating_add(held)
                .max(1)
        });
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
