//! Which engine runs a file, and building its evaluator.

use std::path::Path;

use polyscript::{
    AnyEvaluator, EvalContext, Evaluator, ExtismEngine, FileLoader, JsEngine, Limits, Loader,
    LuaEngine, PoolConfig, RhaiEngine, Source, WasiEngine,
};

use crate::cli::EngineArg;
use crate::failure::Failure;

/// An engine a file can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chosen {
    Rhai,
    Lua,
    Js,
    Extism,
    Wasi,
}

impl Chosen {
    /// The engine's name, as `--engine` spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Chosen::Rhai => "rhai",
            Chosen::Lua => "lua",
            Chosen::Js => "js",
            Chosen::Extism => "extism",
            Chosen::Wasi => "wasi",
        }
    }

    /// Whether this is a WebAssembly engine.
    pub(crate) fn is_wasm(self) -> bool {
        matches!(self, Chosen::Extism | Chosen::Wasi)
    }
}

/// The engine `engine` names, or the one `file`'s extension (and, for
/// `.wasm`, its imports) implies.
pub(crate) fn choose(file: &Path, engine: EngineArg, bytes: &[u8]) -> Result<Chosen, Failure> {
    Ok(match engine {
        EngineArg::Rhai => Chosen::Rhai,
        EngineArg::Lua => Chosen::Lua,
        EngineArg::Js => Chosen::Js,
        EngineArg::Extism => Chosen::Extism,
        EngineArg::Wasi => Chosen::Wasi,
        EngineArg::Auto => {
            let ext = file
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            match ext.as_str() {
                "rhai" => Chosen::Rhai,
                "lua" => Chosen::Lua,
                "js" | "mjs" => Chosen::Js,
                "wasm" if polyscript::is_extism_module(bytes) => Chosen::Extism,
                "wasm" => Chosen::Wasi,
                other => {
                    return Err(Failure::input(format!(
                        "cannot tell the engine of {} from its extension {other:?}: use --engine \
                         (rhai, lua, js, extism, wasi) or .rhai, .lua, .js, .mjs, .wasm",
                        file.display()
                    )));
                }
            }
        }
    })
}

/// Loads `file` (a missing file is an input error).
pub(crate) fn load(file: &Path) -> Result<Source, Failure> {
    FileLoader::new(file)
        .load()
        .map_err(|e| Failure::of(e, file))
}

/// An evaluator of `file`, and the context template each eval starts from
/// (it names the entry point for engines that take one per call).
pub(crate) struct Built {
    pub evaluator: AnyEvaluator,
    pub chosen: Chosen,
    entry: Option<String>,
}

impl Built {
    /// `ctx` calling the entry point asked for, where it is chosen per call.
    pub(crate) fn context(&self, ctx: EvalContext) -> EvalContext {
        match &self.entry {
            Some(entry) => ctx.with_entry_point(entry.clone()),
            None => ctx,
        }
    }
}

/// Compiles `file` with the chosen engine, `limits` and `pool`.
pub(crate) fn build(
    file: &Path,
    engine: EngineArg,
    entry: Option<&str>,
    limits: Limits,
    pool: PoolConfig,
) -> Result<Built, Failure> {
    let source = load(file)?;
    let chosen = choose(file, engine, source.bytes())?;
    if entry.is_some() && !chosen.is_wasm() {
        return Err(Failure::input(format!(
            "--entry names an export of a WebAssembly module; {} is a {} script",
            file.display(),
            chosen.name()
        )));
    }
    let fail = |e| Failure::of(e, file);
    let (evaluator, per_call) = match chosen {
        Chosen::Rhai => (
            with(RhaiEngine::new(), source, limits, pool).map_err(fail)?,
            None,
        ),
        Chosen::Lua => (
            with(LuaEngine::new(), source, limits, pool).map_err(fail)?,
            None,
        ),
        Chosen::Js => (
            with(JsEngine::new(), source, limits, pool).map_err(fail)?,
            None,
        ),
        Chosen::Extism => {
            let engine = match entry {
                Some(entry) => ExtismEngine::with_entry_point(entry),
                None => ExtismEngine::new(),
            };
            (with(engine, source, limits, pool).map_err(fail)?, None)
        }
        Chosen::Wasi => (
            with(WasiEngine::new(), source, limits, pool).map_err(fail)?,
            entry.map(str::to_owned),
        ),
    };
    Ok(Built {
        evaluator,
        chosen,
        entry: per_call,
    })
}

fn with<E: polyscript::Engine>(
    engine: E,
    source: Source,
    limits: Limits,
    pool: PoolConfig,
) -> polyscript::Result<AnyEvaluator> {
    Ok(Evaluator::builder(engine, source)
        .limits(limits)
        .pool(pool)
        .build()?
        .into_any())
}
