//! Which engine runs a file, and building its evaluator.

use std::path::Path;

use polyscript::{
    AnyEvaluator, Compiler, EvalContext, Evaluator, ExtismEngine, FileLoader, JsEngine, Limits,
    Loader, LuaEngine, PoolConfig, RhaiEngine, Source, WasiEngine, WasmRuntime,
};

use crate::cli::{CompilerArg, EngineArg};
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

/// How a WebAssembly module is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WasmCompile {
    /// Cranelift, on the process-wide default runtimes.
    Optimizing,
    /// Winch, on a runtime of its own.
    Baseline,
    /// Winch, or Cranelift for a module Winch cannot compile.
    BaselineElseOptimizing,
}

impl WasmCompile {
    /// What `arg` means for a command that evaluates once (`one_shot`) or
    /// many times.
    pub(crate) fn from_arg(arg: CompilerArg, one_shot: bool) -> WasmCompile {
        match arg {
            CompilerArg::Optimizing => WasmCompile::Optimizing,
            CompilerArg::Baseline => WasmCompile::Baseline,
            CompilerArg::Auto if one_shot => WasmCompile::BaselineElseOptimizing,
            CompilerArg::Auto => WasmCompile::Optimizing,
        }
    }
}

/// A runtime on the baseline compiler, metered as the engine is.
fn baseline_runtime(fuel: bool) -> polyscript::Result<WasmRuntime> {
    WasmRuntime::builder()
        .compiler(Compiler::Baseline)
        .fuel(fuel)
        .build()
}

/// An Extism engine calling `entry` (default `main`) on `runtime` (default:
/// the process-wide one).
fn extism_engine(entry: Option<&str>, runtime: Option<WasmRuntime>) -> ExtismEngine {
    let mut builder = ExtismEngine::builder();
    if let Some(entry) = entry {
        builder = builder.entry_point(entry);
    }
    if let Some(runtime) = runtime {
        builder = builder.runtime(runtime);
    }
    builder.build()
}

/// A WASI engine on `runtime` (default: the process-wide one).
fn wasi_engine(runtime: Option<WasmRuntime>) -> WasiEngine {
    match runtime {
        Some(runtime) => WasiEngine::builder().runtime(runtime).build(),
        None => WasiEngine::new(),
    }
}

/// An evaluator of `source` built by `build` on a baseline runtime metered
/// with `fuel`, or on the default runtime, as `compile` says.
fn wasm_evaluator(
    compile: WasmCompile,
    fuel: bool,
    source: Source,
    build: impl Fn(Option<WasmRuntime>, Source) -> polyscript::Result<AnyEvaluator>,
) -> polyscript::Result<AnyEvaluator> {
    if compile == WasmCompile::Optimizing {
        return build(None, source);
    }
    let baseline = build(Some(baseline_runtime(fuel)?), source.clone());
    match baseline {
        // Winch refuses some proposals Cranelift compiles; Cranelift has the
        // last word on whether the module is valid.
        Err(polyscript::Error::Compile { .. })
            if compile == WasmCompile::BaselineElseOptimizing =>
        {
            build(None, source)
        }
        other => other,
    }
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

/// Compiles `file` with the chosen engine, `limits` and `pool` (a
/// WebAssembly module as `compile` says).
pub(crate) fn build(
    file: &Path,
    engine: EngineArg,
    entry: Option<&str>,
    limits: Limits,
    pool: PoolConfig,
    compile: WasmCompile,
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
        Chosen::Extism => (
            // An `ExtismEngine`'s default: no fuel.
            wasm_evaluator(compile, false, source, |runtime, source| {
                with(extism_engine(entry, runtime), source, limits, pool)
            })
            .map_err(fail)?,
            None,
        ),
        Chosen::Wasi => (
            wasm_evaluator(
                compile,
                WasiEngine::new().fuel(),
                source,
                |runtime, source| with(wasi_engine(runtime), source, limits, pool),
            )
            .map_err(fail)?,
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
