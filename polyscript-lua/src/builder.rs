//! [`LuaEngineBuilder`]: what scripts may reach beyond the safe libraries.

use mlua::StdLib;
use polyscript_core::host::HostFunctions;

use crate::engine::LuaEngine;

/// Extra standard-library access granted to scripts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Grants {
    pub(crate) io: bool,
    pub(crate) os: bool,
    pub(crate) env: bool,
}

impl Grants {
    /// The libraries loaded into each state (the sandbox then picks from them).
    pub(crate) fn std_libs(self) -> StdLib {
        let safe = StdLib::STRING
            | StdLib::TABLE
            | StdLib::MATH
            | StdLib::UTF8
            | StdLib::COROUTINE
            | StdLib::OS;
        if self.io { safe | StdLib::IO } else { safe }
    }
}

/// Configures a [`LuaEngine`].
///
/// By default scripts get `string`, `table`, `math`, `utf8`, `coroutine`,
/// `os.time`/`os.clock`/`os.date`/`os.difftime`, text-only `load`, `print`
/// (to `tracing`), the base functions (`setmetatable` without `__gc`,
/// `collectgarbage` without the options that stop or retune the collector)
/// and the [host functions](Self::host_functions) (none unless given);
/// never `debug`, `package`/`require`, `dofile`, `loadfile`, binary chunks
/// or `os.exit`. See the [crate docs](crate) for isolation and limits.
///
/// ```
/// use polyscript_lua::LuaEngine;
/// let engine = LuaEngine::builder().allow_env().check_interval(500).build();
/// # let _ = engine;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct LuaEngineBuilder {
    grants: Grants,
    check_interval: u32,
    host_functions: HostFunctions,
}

impl Default for LuaEngineBuilder {
    fn default() -> Self {
        LuaEngineBuilder {
            grants: Grants::default(),
            check_interval: LuaEngine::DEFAULT_CHECK_INTERVAL,
            host_functions: HostFunctions::new(),
        }
    }
}

impl LuaEngineBuilder {
    /// Grants the `io` library (files, stdin/stdout). `io.popen` also needs
    /// [`allow_os`](Self::allow_os), since it starts a process.
    pub fn allow_io(mut self) -> Self {
        self.grants.io = true;
        self
    }

    /// Grants the whole `os` library (`execute`, `remove`, `rename`,
    /// `tmpname`, `getenv`, ...), except `os.exit`, which is never available.
    pub fn allow_os(mut self) -> Self {
        self.grants.os = true;
        self
    }

    /// Grants `os.getenv` only.
    pub fn allow_env(mut self) -> Self {
        self.grants.env = true;
        self
    }

    /// How many Lua instructions run between two checks of the deadline,
    /// the cancel token and the operation and call-depth limits (default
    /// 1000). Smaller is more precise, larger is cheaper. Zero counts as one.
    pub fn check_interval(mut self, instructions: u32) -> Self {
        self.check_interval = instructions.max(1);
        self
    }

    /// Offers the functions of `registry` to scripts as `host.NAME(...)`
    /// (see [Host functions](crate#host-functions) in the crate docs).
    /// Without a registry, `host` is an empty table. The registry is shared,
    /// not copied: one registry can serve any number of engines.
    pub fn host_functions(mut self, registry: HostFunctions) -> Self {
        self.host_functions = registry;
        self
    }

    /// The configured engine.
    pub fn build(self) -> LuaEngine {
        LuaEngine::from_parts(self.grants, self.check_interval, self.host_functions)
    }
}
