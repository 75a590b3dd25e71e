//! `polyscript check`: compile only, every file, every error shown.

use std::process::ExitCode;

use polyscript::{Limits, PoolConfig};

use crate::cli::CheckArgs;
use crate::engine_choice::{self, WasmCompile};
use crate::failure::{SCRIPT_FAILED, USAGE};
use crate::{OK, Outcome};

pub(crate) fn check(args: CheckArgs, json_errors: bool) -> Outcome {
    // Compile only: no instance is made up front.
    let pool = PoolConfig::default().with_min_idle(0);
    let mut worst = 0u8;
    for file in &args.files {
        match engine_choice::build(
            file,
            args.engine,
            args.entry.as_deref(),
            Limits::default(),
            pool,
            // Cranelift is the judge of whether a module is valid.
            WasmCompile::Optimizing,
        ) {
            Ok(built) => {
                if !json_errors {
                    println!(
                        "ok: {} ({}, script {})",
                        file.display(),
                        built.chosen.name(),
                        built.evaluator.script_id()
                    );
                }
            }
            Err(failure) => {
                worst = worst.max(failure.code());
                let _ = failure.report(json_errors);
            }
        }
    }
    Ok(match worst {
        0 => OK,
        USAGE => ExitCode::from(USAGE),
        _ => ExitCode::from(SCRIPT_FAILED),
    })
}
