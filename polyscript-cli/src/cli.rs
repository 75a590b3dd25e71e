//! The command line, with clap's derive API.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use polyscript::Limits;

/// Run, check, benchmark and inspect polyscript scripts and WebAssembly
/// modules. Exit codes: 0 success, 1 a script failed (compile or runtime
/// error, timeout, limit), 2 a usage or input error.
#[derive(Debug, Parser)]
#[command(name = "polyscript", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Write errors to stderr as one JSON object per error instead of text.
    #[arg(long, global = true)]
    pub json_errors: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Compile FILE once, evaluate it, print the result as JSON (or, with
    /// --lines, evaluate every JSON line of stdin).
    Run(RunArgs),
    /// Compile every FILE and report each error with its location.
    Check(CheckArgs),
    /// Measure evals of FILE on several threads.
    Bench(BenchArgs),
    /// Show what FILE is: engine, script id, size; exports and imports of a
    /// WebAssembly module.
    Info(InfoArgs),
}

/// Which engine runs a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EngineArg {
    /// From the extension: .rhai, .lua, .js/.mjs, .wasm (an Extism plugin
    /// when it imports Extism's host functions, else a WASI module).
    Auto,
    /// Rhai.
    Rhai,
    /// Lua 5.4.
    Lua,
    /// JavaScript.
    Js,
    /// An Extism plugin.
    Extism,
    /// A WASI command module.
    Wasi,
}

/// Which compiler WebAssembly modules are compiled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompilerArg {
    /// `run` without --lines: baseline, since one eval is all the module
    /// does, falling back to optimizing for a module the baseline compiler
    /// cannot compile (tail calls, GC). Otherwise optimizing.
    Auto,
    /// Cranelift: the slowest compile (~0.15 s for a 124 KB plugin), the
    /// fastest guest code.
    Optimizing,
    /// Winch: compiles about six times faster, into slower code (x86-64).
    Baseline,
}

/// The script and how to build its evaluator.
#[derive(Debug, Args)]
pub(crate) struct ScriptArgs {
    /// The script or module.
    pub file: PathBuf,
    /// The engine (default: from the extension).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
    /// The function to call: an export of a WebAssembly module (Extism:
    /// default `main`).
    #[arg(long)]
    pub entry: Option<String>,
    /// Wall-clock budget of each eval, e.g. `5s`, `250ms` (default: the
    /// library's, 5s).
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Memory limit of each eval, e.g. `64MiB`, `512KiB` (default: the
    /// library's, 64MiB).
    #[arg(long, value_parser = parse_bytes)]
    pub memory: Option<u64>,
    /// Operation budget of each eval (default: the library's, 100000000).
    #[arg(long)]
    pub operations: Option<u64>,
    /// The compiler for WebAssembly modules (ignored for scripts).
    #[arg(long, value_enum, default_value_t = CompilerArg::Auto)]
    pub compiler: CompilerArg,
}

impl ScriptArgs {
    /// The limits the flags ask for, the library's defaults elsewhere.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(timeout) = self.timeout {
            limits = limits.with_timeout(timeout);
        }
        if let Some(memory) = self.memory {
            limits = limits.with_memory_bytes(memory);
        }
        if let Some(operations) = self.operations {
            limits = limits.with_operations(operations);
        }
        limits
    }
}

/// `polyscript run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub script: ScriptArgs,
    /// The input: JSON text, `@FILE` for a file's content, or `-` for stdin.
    #[arg(long, conflicts_with = "lines")]
    pub data: Option<String>,
    /// Read one JSON object per line from stdin and write one result per
    /// line (an error object for a line that fails; the run goes on).
    #[arg(long)]
    pub lines: bool,
    /// Evaluate this many lines at once (--lines only); output stays in
    /// input order.
    #[arg(long, default_value_t = 1, requires = "lines")]
    pub jobs: usize,
    /// Pretty-print the result.
    #[arg(long)]
    pub pretty: bool,
}

/// `polyscript check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The scripts or modules.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The engine (default: from each file's extension).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
    /// The export to check for in WebAssembly modules (Extism: default
    /// `main`).
    #[arg(long)]
    pub entry: Option<String>,
}

/// `polyscript bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    pub script: ScriptArgs,
    /// The input: JSON text, `@FILE` or `-` (stdin).
    #[arg(long)]
    pub data: Option<String>,
    /// Threads evaluating at once.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// How long to measure, e.g. `5s` (plus a tenth of it to warm up).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub time: Duration,
}

/// `polyscript info`.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// The script or module.
    pub file: PathBuf,
    /// The engine (default: from the extension).
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (e.g. `5s`, `250ms`)"))
}

fn parse_bytes(text: &str) -> Result<u64, String> {
    text.parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .map_err(|e| format!("{e} (e.g. `64MiB`, `512KiB`)"))
}
