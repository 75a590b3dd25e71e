//! Every fuzz seed and every saved fuzz regression, run on stable Rust
//! through the same target bodies the fuzzers use (`fuzz/src/targets`). A
//! crash the fuzzers found is saved under `fuzz/regressions/<target>/` and
//! stays a test here.
#![cfg(all(feature = "rhai", feature = "lua", feature = "js", feature = "wasm"))]

#[allow(dead_code, unused_imports)]
#[path = "../fuzz/src/targets/mod.rs"]
mod targets;

use std::path::Path;

fn inputs(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("a readable seed");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

fn run_all(kind: &str) -> usize {
    let mut ran = 0;
    for target in targets::TARGETS {
        for (name, bytes) in inputs(kind, target) {
            let outcome = std::panic::catch_unwind(|| targets::run(target, &bytes));
            assert!(outcome.is_ok(), "fuzz/{kind}/{target}/{name} fails");
            ran += 1;
        }
    }
    ran
}

#[test]
fn every_seed_passes() {
    assert!(run_all("corpus") > 0, "no seeds found");
}

#[test]
fn every_saved_regression_passes() {
    run_all("regressions");
}
