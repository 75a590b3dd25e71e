//! The memory limit without polyscript's accounting allocator (this test
//! binary installs none): what the crate docs say still holds then — the
//! allocating built-ins' checks against the whole limit, buffer sizes, the
//! bounded conversions.

mod common;

use common::{Ends, MODES, ended_as, evaluator, timed};
use polyscript_core::{LimitKind, Limits};

fn limits() -> Limits {
    Limits::default().with_memory_bytes(16 * 1024 * 1024)
}

#[test]
fn the_accounting_allocator_is_not_installed_here() {
    assert!(!polyscript_core::alloc::is_installed());
}

#[test]
fn allocating_built_ins_are_checked_against_the_limit() {
    for mode in MODES {
        for script in [
            "'x'.repeat(2 ** 28)",
            "'x'.padEnd(2 ** 29)",
            "const s = 'x'.repeat(1e6); s.concat(...Array(100).fill(s))",
            "new Array(5e7).fill(0)",
            "new Array(2e7).join('x')",
            "const a = []; for (;;) a.push(1, 2, 3, 4, 5, 6, 7, 8);",
            "let a = [0]; for (;;) a = a.concat(a);",
            "'x'.repeat(1e4).replaceAll('x', 'y'.repeat(2000))",
            "new ArrayBuffer(1e9)",
            "new Float64Array(2 ** 24)",
            "let x = [];\nfor (let i = 0; i < 40; i++) x = [x, x];\nx",
        ] {
            let ev = evaluator(script, mode, limits());
            let (outcome, took) = timed(&ev);
            eprintln!("{mode:?} {script}: {took:?}");
            assert!(
                ended_as(&outcome, Ends::Limit(LimitKind::Memory)),
                "{mode:?} {script}: {outcome:?}"
            );
        }
    }
}

#[test]
fn small_values_pass() {
    let ev = evaluator(
        "'ab'.repeat(100).length + [1, 2].concat([3]).length + new Array(10).fill(0).length",
        MODES[0],
        limits(),
    );
    assert_eq!(
        common::run(&ev, polyscript_core::serde_json::json!({})).unwrap(),
        polyscript_core::serde_json::json!(213)
    );
}
