//! [`LuaEngine`]: the `Engine` implementation for Lua 5.4 through mlua.

use std::sync::atomic::{AtomicU64, Ordering};

use mlua::chunk::ChunkMode;
use mlua::{Lua, LuaOptions, StdLib};
use polyscript_core::data::Direction;
use polyscript_core::host::HostFunctions;
use polyscript_core::{
    Engine, EngineKind, Error, EvalInput, Guard, LimitKind, Limits, Origin, ScriptId, Source, Value,
};

use crate::builder::{Grants, LuaEngineBuilder};
use crate::errors;
use crate::instance::{Failure, LuaInstance, Seat, Shell};
use crate::thread_states;

/// The Lua 5.4 engine (vendored; no system Lua needed).
///
/// * `compile` parses the script once and keeps its bytecode (with line
///   information); syntax errors are [`Error::Compile`] with the line (Lua
///   gives no column).
/// * `instantiate` is free without host functions: evals run on the
///   calling thread's sandboxed state, which loads the bytecode the first
///   time the program runs there and keeps the chunk (see
///   [Isolation](crate#isolation)). With host functions an instance builds a
///   state of its own and loads the chunk once. No instance, and no eval,
///   ever parses the source again.
/// * `eval` sets the global `ctx`, calls the chunk and converts what it
///   `return`s. Every eval starts from an empty global environment whose
///   reads fall back to the read-only sandbox libraries.
///
/// Limits: memory is the state's allocator limit (and the conversions'
/// budget); the deadline, cancellation, operations (Lua instructions, plus
/// the steps of the library functions that loop in C) and call depth are
/// checked by an instruction-count hook every
/// [`check_interval`](LuaEngineBuilder::check_interval) instructions and by
/// those functions every 1000 steps. Lua's own "stack overflow" also ends as
/// `LimitExceeded(CallDepth)`. See the [crate docs](crate).
///
/// Host functions given to the [builder](LuaEngineBuilder::host_functions)
/// are bound in every instance as `host.NAME(...)`.
#[derive(Debug, Clone)]
pub struct LuaEngine {
    grants: Grants,
    check_interval: u32,
    host_functions: HostFunctions,
}

impl Default for LuaEngine {
    fn default() -> Self {
        LuaEngineBuilder::default().build()
    }
}

impl LuaEngine {
    /// Instructions between two limit checks unless configured otherwise.
    pub const DEFAULT_CHECK_INTERVAL: u32 = 1000;

    /// The engine with the default sandbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configures an engine.
    pub fn builder() -> LuaEngineBuilder {
        LuaEngineBuilder::default()
    }

    pub(crate) fn from_parts(
        grants: Grants,
        check_interval: u32,
        host_functions: HostFunctions,
    ) -> Self {
        LuaEngine {
            grants,
            check_interval,
            host_functions,
        }
    }

    /// The host functions scripts can call (empty unless the builder was
    /// given some).
    pub fn host_functions(&self) -> &HostFunctions {
        &self.host_functions
    }
}

/// A compiled Lua chunk: its bytecode and the name errors use.
#[derive(Debug, Clone)]
pub struct LuaProgram {
    /// Unique in the process and never reused (clones share it: same
    /// chunk): how a thread's state finds the chunk it loaded for this
    /// program (`thread_states`). An address could be reused by another
    /// program once this one is dropped; a counter cannot.
    id: u64,
    bytecode: Vec<u8>,
    name: String,
    label: String,
    script_id: ScriptId,
}

impl LuaProgram {
    /// The chunk's bytecode (with debug information).
    pub fn bytecode(&self) -> &[u8] {
        &self.bytecode
    }

    /// The chunk's name, as Lua's own messages and tracebacks give it
    /// (`name:LINE: ...`): the file name of a file source (the last path
    /// segment of a URL), `script` otherwise.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name as given to Lua (`=` + name: used verbatim in messages).
    pub(crate) fn chunk_label(&self) -> &str {
        &self.label
    }

    /// The program's identity in the process (see the field).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

/// The next [`LuaProgram`] id.
fn next_program_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Engine for LuaEngine {
    type Program = LuaProgram;
    type Instance = LuaInstance;

    fn kind(&self) -> EngineKind {
        EngineKind::Lua
    }

    fn compile(&self, source: &Source, _limits: &Limits) -> polyscript_core::Result<LuaProgram> {
        let text = source.text()?;
        let name = chunk_name(source);
        let label = format!("={name}");
        let script_id = source.id();
        let bytecode = with_compiler(|lua| {
            let function = lua
                .load(text)
                .set_name(label.as_str())
                .set_mode(ChunkMode::Text)
                .into_function()
                .map_err(|e| errors::compile(&e, script_id, &name))?;
            Ok(function.dump(false))
        })
        .map_err(|e| errors::setup(&e, script_id))??;
        tracing::debug!(%script_id, bytes = bytecode.len(), "lua chunk compiled");
        Ok(LuaProgram {
            id: next_program_id(),
            bytecode,
            name,
            label,
            script_id,
        })
    }

    fn instantiate(
        &self,
        program: &LuaProgram,
        _limits: &Limits,
    ) -> polyscript_core::Result<LuaInstance> {
        LuaInstance::new(
            program,
            self.grants,
            self.check_interval,
            &self.host_functions,
        )
        .map_err(|e| errors::setup(&e, program.script_id))
    }

    fn eval(
        &self,
        instance: &mut LuaInstance,
        program: &LuaProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> polyscript_core::Result<Value> {
        match instance.seat() {
            Seat::Own(shell, chunk) => self.run_on(shell, chunk, program, input, guard).0,
            Seat::Thread(key) => {
                let setup = |e: mlua::Error| errors::setup(&e, program.script_id);
                let mut lent = thread_states::lend(key).map_err(setup)?;
                let (shell, chunk) = lent.parts(program).map_err(setup)?;
                let (outcome, fit) = self.run_on(shell, chunk, program, input, guard);
                if !fit {
                    lent.discard();
                }
                outcome
            }
        }
    }

    /// A state is thrown away after a panic or a memory error (also one the
    /// script caught, or a result too large to convert). Timeouts,
    /// cancellations and operation/call-depth limits unwind the Lua stack
    /// cleanly (a Lua error raised by the hook) and the environment is
    /// cleared afterwards, so the state is reused.
    fn discard_after(&self, error: &Error) -> bool {
        matches!(
            error,
            Error::EnginePanic { .. }
                | Error::LimitExceeded {
                    limit: LimitKind::Memory,
                    ..
                }
        )
    }
}

impl LuaEngine {
    /// One eval of `chunk` on `shell`, and whether the state may serve
    /// another eval (not after a memory error or a failed reset: see
    /// [`discard_after`](Engine::discard_after)).
    fn run_on(
        &self,
        shell: &Shell,
        chunk: &mlua::Function,
        program: &LuaProgram,
        input: &EvalInput<'_>,
        guard: &Guard<'_>,
    ) -> (polyscript_core::Result<Value>, bool) {
        let armed = shell.watch().arm(guard);
        let outcome = shell.run(chunk, input, guard.limits());
        let tripped = armed.disarm();
        let reset_failed = matches!(outcome, Err(Failure::Reset(_)));
        let result = match tripped {
            Some(trip) => Err(trip.into_error(guard)),
            None => outcome.map_err(|failure| match failure {
                Failure::Input(e) => errors::data(e, Direction::Input, guard),
                Failure::Script(e) | Failure::Reset(e) => errors::runtime(&e, guard, &program.name),
                Failure::Output(e) => errors::data(e, Direction::Result, guard),
            }),
        };
        let fit = !reset_failed && result.as_ref().err().is_none_or(|e| !self.discard_after(e));
        (result, fit)
    }
}

/// Runs `f` with this thread's compiler state: a Lua state with no
/// libraries that only ever parses text into functions and dumps them, so
/// no script code runs in it and nothing one compile leaves (garbage the
/// collector takes in its own time) is reachable by another. Creating a
/// state is ~110 000 instructions, five times the parse of a small script,
/// and compiling is on every evaluator's cold path.
fn with_compiler<T>(f: impl FnOnce(&Lua) -> T) -> mlua::Result<T> {
    thread_local! {
        static COMPILER: std::cell::RefCell<Option<Lua>> = const { std::cell::RefCell::new(None) };
    }
    COMPILER.with(|slot| {
        // A re-entrant call (none is expected: parsing runs no code) gets
        // a state of its own rather than a panic.
        let Ok(mut slot) = slot.try_borrow_mut() else {
            return Ok(f(&Lua::new_with(StdLib::NONE, LuaOptions::new())?));
        };
        if slot.is_none() {
            *slot = Some(Lua::new_with(StdLib::NONE, LuaOptions::new())?);
        }
        Ok(f(slot.as_ref().expect("just set")))
    })
}

/// The name Lua gives the chunk in messages: the file's name, the last
/// segment of a URL's path, or `script`.
fn chunk_name(source: &Source) -> String {
    let named = match source.origin() {
        Origin::File(path) => path.file_name().map(|n| n.to_string_lossy().into_owned()),
        Origin::Url(url) => url
            .split(['?', '#'])
            .next()
            .and_then(|path| path.rsplit('/').next())
            .map(str::to_owned),
        _ => None,
    };
    named
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "script".to_owned())
}
