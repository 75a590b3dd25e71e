//! A rule that changes while the program runs: the script lives in a file,
//! a `LiveEvaluator` watches it, and every eval uses the newest version that
//! compiles. A bad edit is rejected and the previous version keeps serving.
//!
//! ```sh
//! cargo run --example live_reload
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use polyscript::live::LiveEvaluator;
use polyscript::{AnyEvaluator, EvalContext, Evaluator, LuaEngine, Result, Source};
use serde_json::json;

/// Every version is compiled the same way: Lua, default limits.
fn build(source: Source) -> Result<AnyEvaluator> {
    Ok(Evaluator::new(LuaEngine::new(), source)?.into_any())
}

fn write(path: &Path, script: &str) {
    // Written next to the file and renamed over it, as deploy tools do, so
    // the watcher never sees half a script.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, script).expect("write the script");
    std::fs::rename(&tmp, path).expect("replace the script");
}

/// Evaluates until the result is `want` (or a second has passed).
fn wait_for(live: &LiveEvaluator, ctx: &EvalContext, want: &serde_json::Value) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if live.eval(ctx).is_ok_and(|r| r.value() == want) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn run() -> Result<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("polyscript-live-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| polyscript::Error::load(dir.display(), e))?;
    let path = dir.join("discount.lua");
    write(&path, "return { discount = ctx.total * 0.10 }");

    let (tx, rx) = std::sync::mpsc::channel();
    let live = LiveEvaluator::builder(build)
        .watch_file(&path)
        .on_event(move |event| {
            let _ = tx.send(format!("{event:?}"));
        })
        .build()?;
    let ctx = EvalContext::with_data(json!({"total": 200}))?;
    let mut log = Vec::new();
    log.push(format!(
        "v1 ({}): {}",
        live.script_id(),
        live.eval(&ctx)?.value()
    ));

    // A new rule: 15%.
    write(&path, "return { discount = ctx.total * 0.15 }");
    assert!(
        wait_for(&live, &ctx, &json!({"discount": 30.0})),
        "the new version serves"
    );
    log.push(format!(
        "v2 ({}): {}",
        live.script_id(),
        live.eval(&ctx)?.value()
    ));

    // A bad edit: rejected, v2 keeps serving.
    write(&path, "return { discount = ctx.total * }");
    std::thread::sleep(Duration::from_millis(500));
    log.push(format!("after a bad edit: {}", live.eval(&ctx)?.value()));
    if let Some((error, _)) = live.status().last_error {
        log.push(format!("rejected: {error}"));
    }
    drop(live);
    log.extend(
        rx.try_iter()
            .filter(|e| e.contains("Rejected") || e.contains("Reloaded")),
    );
    std::fs::remove_dir_all(&dir).map_err(|e| polyscript::Error::load(dir.display(), e))?;
    Ok(log)
}

fn main() {
    match run() {
        Ok(log) => log.iter().for_each(|line| println!("{line}")),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_switch_and_the_rejected_edit_show() {
        let log = super::run().expect("the example runs");
        assert!(log[0].contains("\"discount\":20.0"), "{log:?}");
        assert!(log[1].contains("\"discount\":30.0"), "{log:?}");
        assert!(
            log[2].contains("\"discount\":30.0"),
            "the bad edit did not serve: {log:?}"
        );
        assert!(log.iter().any(|l| l.starts_with("rejected:")), "{log:?}");
    }
}
