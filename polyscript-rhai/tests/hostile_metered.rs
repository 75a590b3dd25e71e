//! The hostile corpus (tests/common/hostile.rs) with the accounting allocator installed (the facade's default): memory is metered per eval.

/// The accounting allocator, as the facade installs it by default.
#[global_allocator]
static ALLOCATOR: polyscript_core::alloc::Accounting = polyscript_core::alloc::Accounting::system();

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
    let failures = common::hostile::run_all("child", true);
    assert!(
        failures.is_empty(),
        "{} hostile cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
