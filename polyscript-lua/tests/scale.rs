//! Many evaluators of distinct Lua chunks in one process (issue 26: thousands
//! of tenant scripts): each answers as itself when they are evaluated in
//! rotation, sees nothing another tenant or an earlier eval left, and an idle
//! one holds its bytecode and no Lua state or memory mapping of its own (its
//! evals run on the thread's state).

use polyscript_core::serde_json::json;
use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_lua::LuaEngine;

/// Scaled down for CI (debug builds); the facade's `many_tenants` example
/// runs 10 000.
const EVALUATORS: usize = 1_000;

/// A chunk of its own per tenant (every third defines a function), with the
/// tenant's number in its text and result, so a cache or a state shared by
/// two tenants answers with the wrong number. `seen` is what the global
/// `last` held when the eval began: every eval sets it, so any state or
/// environment an eval shares with another shows up as a non-`nil`.
fn tenant_script(i: usize) -> String {
    let n = if i.is_multiple_of(3) {
        format!("local function add(x) return x + {i} end\nlocal n = add(ctx.n)")
    } else {
        format!("local n = ctx.n + {i}")
    };
    format!(
        "{n}\nlocal seen = type(last)\nlast = {{{i}}}\nreturn {{ tenant = {i}, n = n, seen = seen }}"
    )
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

/// Resident bytes of this process (None where /proc is not there).
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Evaluates `evaluator` and checks it answered as `tenant` for `round`'s
/// input.
fn eval_as(evaluator: &Evaluator<LuaEngine>, tenant: usize, round: i64) {
    let n = round * 1_000_000 + tenant as i64;
    let ctx = EvalContext::with_data(json!({ "n": n })).expect("input");
    let response = evaluator
        .eval(&ctx)
        .unwrap_or_else(|e| panic!("tenant {tenant}, round {round}: {e}"));
    assert_eq!(
        response.value(),
        &json!({"tenant": tenant, "n": n + tenant as i64, "seen": "nil"}),
        "tenant {tenant}, round {round}"
    );
}

/// Evaluates every evaluator once, in order (tenant `i` is the `i`th).
fn rotate(evaluators: &[Evaluator<LuaEngine>], round: i64) {
    for (i, evaluator) in evaluators.iter().enumerate() {
        eval_as(evaluator, i, round);
    }
}

#[test]
fn a_thousand_distinct_evaluators_stay_correct_and_small_in_rotation() {
    let engine = LuaEngine::new();
    // The engine's process-wide parts exist before counting.
    let warm = Evaluator::new(engine.clone(), Source::from_text(tenant_script(EVALUATORS)))
        .expect("warm-up");
    eval_as(&warm, EVALUATORS, 0);
    drop(warm);

    let (maps_before, rss_before) = (mappings(), resident());
    let evaluators: Vec<_> = (0..EVALUATORS)
        .map(|i| {
            Evaluator::new(engine.clone(), Source::from_text(tenant_script(i)))
                .unwrap_or_else(|e| panic!("tenant {i}: {e}"))
        })
        .collect();
    rotate(&evaluators, 1);
    let rss_after_first = resident();
    rotate(&evaluators, 2);
    let (maps_after, rss_after) = (mappings(), resident());

    // Each evaluator holds its bytecode and an instance that is only its
    // settings (~1.6 KB in a release build); the thread's state keeps at
    // most 256 chunks. 24 KB each leaves room for allocator slack; a Lua
    // state per evaluator (≥ 40 KB: what an instance held before) does not
    // fit.
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let each = after.saturating_sub(before) / EVALUATORS as u64;
        assert!(
            each < 24 * 1024,
            "{EVALUATORS} evaluators hold {} KB each",
            each / 1024
        );
    }
    // The second rotation reuses the thread's state: an eval that leaked a
    // state or a chunk (or built a fresh one and kept the old) would add
    // tens of KB per evaluator here; garbage one eval leaves is a few
    // hundred bytes.
    if let (Some(first), Some(second)) = (rss_after_first, rss_after) {
        let each = second.saturating_sub(first) / EVALUATORS as u64;
        assert!(
            each < 16 * 1024,
            "the second rotation added {} KB per evaluator",
            each / 1024
        );
    }
    // Lua states live on the heap, in allocations well under malloc's mmap
    // threshold, and evals run on the caller's stack: a thousand add only
    // the heap's own growth. One mapping per evaluator (a state or a stack
    // mapped of its own) would add a thousand.
    if let (Some(before), Some(after)) = (maps_before, maps_after) {
        assert!(
            after < before + EVALUATORS / 10,
            "{EVALUATORS} evaluators added {} mappings",
            after.saturating_sub(before)
        );
    }
}
