//! The hostile corpus (tests/common/hostile.rs) without the accounting allocator: memory falls back to rhai's per-value size limits, and the cases the crate docs list as that fallback's gaps are not run.

mod common;

/// Runs one case when started as a child by `hostile_corpus`.
#[test]
fn child() {
    if let Some(case) = common::child_case() {
        common::hostile::run_in_child(&case);
    }
}

#[test]
fn hostile_corpus() {
    if common::child_case().is_some() {
        return;
    }
    let failures = common::hostile::run_all("child", false);
    assert!(
        failures.is_empty(),
        "{} hostile cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
