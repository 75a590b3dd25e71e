//! `polyscript info`: what a file is.

use serde_json::json;

use crate::cli::InfoArgs;
use crate::engine_choice::{self, Chosen};
use crate::{OK, Outcome};

pub(crate) fn info(args: InfoArgs) -> Outcome {
    let source = engine_choice::load(&args.file)?;
    let chosen = engine_choice::choose(&args.file, args.engine, source.bytes())?;
    let mut report = json!({
        "file": args.file.display().to_string(),
        "engine": chosen.name(),
        "script_id": source.id().to_string(),
        "bytes": source.bytes().len(),
    });
    if chosen.is_wasm() {
        match polyscript::WasmModuleInfo::parse(source.bytes()) {
            Ok(module) => {
                report["kind"] = json!(if chosen == Chosen::Extism {
                    "extism plugin"
                } else {
                    "wasi module"
                });
                report["exports"] = json!(module.functions());
                report["imports"] = json!(
                    module
                        .imports()
                        .iter()
                        .map(|(ns, name)| format!("{ns}::{name}"))
                        .collect::<Vec<_>>()
                );
            }
            Err(message) => report["error"] = json!(message),
        }
    } else if let Ok(text) = source.text() {
        report["lines"] = json!(text.lines().count());
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_else(|_| report.to_string())
    );
    Ok(OK)
}
