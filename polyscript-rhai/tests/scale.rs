//! Many evaluators of distinct scripts in one process (issue: thousands of
//! tenant scripts): each stays correct when they are evaluated in rotation,
//! and idle ones hold no eval stack (mapping) of their own.

use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_rhai::RhaiEngine;
use serde_json::json;

/// Scaled down for CI (debug builds); the `scale` example runs 10 000.
const EVALUATORS: usize = 1_000;

/// A script of its own per tenant, one with functions every third (those
/// instances compile their own copy of the functions).
fn tenant_script(i: usize) -> String {
    if i.is_multiple_of(3) {
        format!("fn add(x) {{ x + {i} }} #{{tenant: {i}, n: add(ctx.n)}}")
    } else {
        format!("#{{tenant: {i}, n: ctx.n + {i}}}")
    }
}

/// Memory mappings of this process (None where /proc is not there).
fn mappings() -> Option<usize> {
    Some(
        std::fs::read_to_string("/proc/self/maps")
            .ok()?
            .lines()
            .count(),
    )
}

#[test]
fn a_thousand_distinct_evaluators_stay_correct_in_rotation() {
    let engine = RhaiEngine::new();
    let before = mappings();
    let evaluators: Vec<_> = (0..EVALUATORS)
        .map(|i| {
            Evaluator::new(engine.clone(), Source::from_text(tenant_script(i)))
                .unwrap_or_else(|e| panic!("tenant {i}: {e}"))
        })
        .collect();
    for round in 0..2_i64 {
        for (i, evaluator) in evaluators.iter().enumerate() {
            let n = round * 1_000 + i as i64;
            let ctx = EvalContext::with_data(json!({ "n": n })).unwrap();
            let response = evaluator
                .eval(&ctx)
                .unwrap_or_else(|e| panic!("tenant {i}, round {round}: {e}"));
            assert_eq!(
                response.value(),
                &json!({"tenant": i, "n": n + i as i64}),
                "tenant {i}, round {round}"
            );
        }
    }
    // Every evaluator has a live instance now; their evals share this
    // thread's stack, so holding a thousand costs a handful of mappings
    // (each instance's own stack was two).
    if let (Some(before), Some(after)) = (before, mappings()) {
        assert!(
            after < before + EVALUATORS / 4,
            "{EVALUATORS} idle evaluators added {} mappings",
            after.saturating_sub(before)
        );
    }
}
