//! `polyscript`: run, check, benchmark and inspect scripts and WebAssembly
//! modules of every polyscript engine from the shell.
//!
//! ```text
//! polyscript run examples/lua/greet.lua --data '{"name": "World"}'
//! polyscript run rule.rhai --lines --jobs 4 < requests.jsonl
//! polyscript check rules/*.js
//! polyscript bench plugin.wasm --entry greet --data @input.json --threads 2
//! polyscript info plugin.wasm
//! ```
//!
//! Exit codes: 0 success; 1 a script failed (compile or runtime error,
//! timeout, limit); 2 a usage or input error (bad flags, a missing file,
//! data that is not JSON).
#![forbid(unsafe_code)]

mod bench;
mod check;
mod cli;
mod data_input;
mod engine_choice;
mod failure;
mod info;
mod run;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_errors = cli.json_errors;
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check(args, json_errors),
        Command::Bench(args) => bench::bench(args),
        Command::Info(args) => info::info(args),
    };
    match outcome {
        Ok(code) => code,
        Err(failure) => failure.report(json_errors),
    }
}

/// The exit code for "everything ran".
pub(crate) const OK: ExitCode = ExitCode::SUCCESS;

/// Shorthand used by subcommands.
pub(crate) type Outcome = Result<ExitCode, Failure>;
