//! `polyscript run`: one eval, or one per line of stdin (`--lines`).

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use polyscript::{AnyEvaluator, PoolConfig, Value};
use serde_json::json;

use crate::cli::RunArgs;
use crate::data_input;
use crate::engine_choice::{self, Built, WasmCompile};
use crate::failure::{Failure, SCRIPT_FAILED, error_json};
use crate::{OK, Outcome};

pub(crate) fn run(args: RunArgs) -> Outcome {
    let script = &args.script;
    let jobs = args.jobs.max(1);
    let pool = PoolConfig::default().with_max_size(jobs.max(2));
    let built = engine_choice::build(
        &script.file,
        script.engine,
        script.entry.as_deref(),
        script.limits(),
        pool,
        WasmCompile::from_arg(script.compiler, !args.lines),
    )?;
    if args.lines {
        return lines(&built, jobs, args.pretty);
    }
    let ctx = built.context(data_input::context(args.data.as_deref())?);
    let response = built
        .evaluator
        .eval(&ctx)
        .map_err(|e| Failure::of(e, &script.file))?;
    print_value(response.value(), args.pretty);
    Ok(OK)
}

fn print_value(value: &Value, pretty: bool) {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.unwrap_or_else(|_| "null".into()));
}

/// One line's outcome, as the line written for it.
fn line_output(
    evaluator: &AnyEvaluator,
    built: &Built,
    number: usize,
    text: &str,
    pretty: bool,
) -> (String, bool) {
    let outcome = data_input::parse(text, &format!("line {number}")).and_then(|ctx| {
        evaluator
            .eval(&built.context(ctx))
            .map_err(|e| Failure::of(e, std::path::Path::new("")))
    });
    match outcome {
        Ok(response) => {
            let text = if pretty {
                serde_json::to_string_pretty(response.value())
            } else {
                serde_json::to_string(response.value())
            };
            (text.unwrap_or_else(|_| "null".into()), true)
        }
        Err(failure) => {
            let error = match &failure {
                Failure::Script { error, .. } => error_json(error, None),
                Failure::Input(message) => json!({"kind": "input", "message": message}),
            };
            (json!({"line": number, "error": error}).to_string(), false)
        }
    }
}

/// `--lines`: every non-blank line of stdin is one context; results are
/// written in input order, `jobs` lines evaluated at once.
fn lines(built: &Built, jobs: usize, pretty: bool) -> Outcome {
    let stdin = std::io::stdin();
    let mut input = Vec::new();
    for (i, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|e| Failure::input(format!("cannot read stdin: {e}")))?;
        if !line.trim().is_empty() {
            input.push((i + 1, line));
        }
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, String, bool)>();
    let mut failed = false;
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(input.len().max(1)) {
            let tx = tx.clone();
            let (next, input) = (&next, &input);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((number, text)) = input.get(i) else {
                        break;
                    };
                    let (out, ok) = line_output(&built.evaluator, built, *number, text, pretty);
                    if tx.send((i, out, ok)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Written in input order as soon as every earlier line is done.
        let mut pending = std::collections::BTreeMap::new();
        let mut written = 0;
        let mut out = std::io::stdout().lock();
        for (i, text, ok) in rx {
            failed |= !ok;
            pending.insert(i, text);
            while let Some(text) = pending.remove(&written) {
                let _ = writeln!(out, "{text}");
                written += 1;
            }
        }
        let _ = out.flush();
    });
    Ok(if failed {
        std::process::ExitCode::from(SCRIPT_FAILED)
    } else {
        OK
    })
}
