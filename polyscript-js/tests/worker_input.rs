//! A `ThreadMode::Dedicated` instance gets its input as layers too (issue
//! 26): the static provider's map is shared with the worker, not merged
//! and copied per eval, and every script sees what it sees on the caller's
//! thread.

use polyscript_core::serde_json::{Value, json};
use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_js::{JsEngine, ThreadMode};

/// Static configuration of `n` keys, a nested map the call's data merges
/// into, and a list.
fn fixed(n: usize) -> Value {
    let mut map = polyscript_core::Map::new();
    for i in 0..n {
        map.insert(format!("s{i}"), json!(i));
    }
    map.insert("config".into(), json!({"depth": 2, "names": ["a", "b"]}));
    map.insert("mode".into(), json!("static"));
    Value::Object(map)
}

/// Each script's outcome with `mode`, over the same static data and calls.
fn outcomes(mode: ThreadMode, scripts: &[&str]) -> Vec<Vec<Result<Value, String>>> {
    let engine = JsEngine::builder().thread_mode(mode).build();
    scripts
        .iter()
        .map(|script| {
            let evaluator = Evaluator::builder(engine.clone(), Source::from_text(*script))
                .static_data(fixed(2_000))
                .build()
                .unwrap();
            [
                json!({}),
                json!({"name": "World", "config": {"extra": true}}),
                json!({"mode": "call", "config": 7}),
            ]
            .into_iter()
            .map(|call| {
                let ctx = EvalContext::with_data(call).unwrap();
                evaluator
                    .eval(&ctx)
                    .map(|r| r.into_value())
                    .map_err(|e| format!("{e}"))
            })
            .collect()
        })
        .collect()
}

#[test]
fn a_worker_sees_the_layered_input_as_the_caller_thread_does() {
    let scripts = [
        "ctx.s1999 + ctx.s0",
        "({mode: ctx.mode, name: ctx.name ?? null, config: ctx.config})",
        "Object.keys(ctx).length",
        "Object.keys(ctx).slice(-3)",
        "'config' in ctx && typeof ctx.config",
        "JSON.stringify(ctx).length",
    ];
    let on_worker = outcomes(ThreadMode::Dedicated, &scripts);
    let on_caller = outcomes(ThreadMode::CallerThread, &scripts);
    assert_eq!(on_worker, on_caller);
    // And the answers are the merge's, not just equal to each other.
    assert_eq!(on_worker[0][0], Ok(json!(1999)));
    assert_eq!(
        on_worker[1][1],
        Ok(json!({"mode": "static", "name": "World",
                  "config": {"depth": 2, "names": ["a", "b"], "extra": true}}))
    );
    assert_eq!(
        on_worker[1][2],
        Ok(json!({"mode": "call", "name": null, "config": 7}))
    );
    assert_eq!(
        on_worker[2],
        vec![Ok(json!(2002)), Ok(json!(2003)), Ok(json!(2002))]
    );
}
