//! Broadcast, pipeline and map-reduce over the toy engine.
#![cfg(feature = "testkit")]

#[allow(dead_code)] // the harness half of the toy engine is used by tests/testkit.rs
mod toy;

use std::sync::atomic::Ordering;
use std::time::Duration;

use polyscript_core::{
    AnyEvaluator, CancelToken, Coordinator, Error, EvalContext, Evaluator, Map, Source, Stage,
    StepKind, Value,
};
use serde_json::json;
use toy::{Flaw, SLEEPY_CALLS, Toy};

fn toy(script: &str) -> AnyEvaluator {
    Evaluator::new(Toy::new(Flaw::None), Source::from_text(script))
        .unwrap()
        .into_any()
}

fn map(v: Value) -> Map {
    v.as_object().cloned().unwrap()
}

#[test]
fn broadcast_returns_results_in_order_and_keeps_the_others_on_failure() {
    let evaluators = vec![toy("double"), toy("fail"), toy("scalar"), toy("echo")];
    let ctx = EvalContext::with_data(json!({"n": 4, "value": "v"})).unwrap();
    let results = Coordinator::with_workers(2).broadcast(&evaluators, &ctx);
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap().value(), &json!({"n": 8}));
    assert!(matches!(results[1], Err(Error::Runtime { .. })));
    assert_eq!(results[2].as_ref().unwrap().value(), &json!(5));
    assert_eq!(results[3].as_ref().unwrap().value(), &json!("v"));
}

#[test]
fn pipeline_feeds_each_output_into_the_next_stage() {
    let stages = vec![
        Stage::new(toy("double")),
        Stage::new(toy("double")),
        Stage::new(toy("scalar")),
    ];
    let out = Coordinator::new()
        .pipeline(&stages, &EvalContext::new(), map(json!({"n": 3})))
        .unwrap();
    assert_eq!(out.value(), &json!(13));
    assert_eq!(out.responses.len(), 3);
}

#[test]
fn pipeline_wraps_scalars_or_maps_them_with_a_mapper() {
    // Default: a scalar becomes {"value": x}, which `echo` returns.
    let stages = vec![Stage::new(toy("scalar")), Stage::new(toy("echo"))];
    let out = Coordinator::new()
        .pipeline(&stages, &EvalContext::new(), map(json!({"n": 1})))
        .unwrap();
    assert_eq!(out.value(), &json!(2));

    let stages = vec![
        Stage::with_mapper(toy("scalar"), |v| Ok(map(json!({ "n": v })))),
        Stage::new(toy("double")),
    ];
    let out = Coordinator::new()
        .pipeline(&stages, &EvalContext::new(), map(json!({"n": 1})))
        .unwrap();
    assert_eq!(out.value(), &json!({"n": 4}));
}

#[test]
fn pipeline_error_names_the_failing_stage_and_its_script() {
    let failing = toy("fail");
    let stages = vec![Stage::new(toy("double")), Stage::new(failing.clone())];
    let err = Coordinator::new()
        .pipeline(&stages, &EvalContext::new(), map(json!({"n": 1})))
        .unwrap_err();
    match &err {
        Error::Step {
            kind: StepKind::Stage,
            index: 1,
            script_id,
            source,
            ..
        } => {
            assert_eq!(*script_id, failing.script_id());
            assert!(matches!(**source, Error::Runtime { .. }));
        }
        other => panic!("expected a stage error, got {other:?}"),
    }
    assert!(err.to_string().contains("stage 1"), "{err}");
}

fn pseudo_random_words(count: usize, mut seed: u64) -> Vec<Value> {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzAEIOU";
    (0..count)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 59) as usize + 1;
            let word: String = (0..len)
                .map(|k| LETTERS[((seed >> (k * 2)) % LETTERS.len() as u64) as usize] as char)
                .collect();
            Value::String(word)
        })
        .collect()
}

#[test]
fn map_reduce_equals_the_sequential_result() {
    let ev = toy("vowels");
    for seed in [1, 7, 42] {
        let items = pseudo_random_words(1_000, seed);
        let sequential: usize = items
            .iter()
            .map(|w| {
                w.as_str()
                    .unwrap()
                    .chars()
                    .filter(|c| "aeiouAEIOU".contains(*c))
                    .count()
            })
            .sum();
        for (workers, chunk) in [(1, 1000), (2, 7), (4, 100)] {
            let total = Coordinator::with_workers(workers)
                .map_reduce(&ev, &EvalContext::new(), &items, chunk, 0usize, |acc, v| {
                    Ok(acc + v["count"].as_u64().unwrap_or(0) as usize)
                })
                .unwrap();
            assert_eq!(
                total, sequential,
                "seed {seed}, {workers} workers, chunk {chunk}"
            );
        }
    }
}

#[test]
fn map_reduce_reports_the_failing_chunk_and_rejects_zero_chunks() {
    let err = Coordinator::new()
        .map_reduce(
            &toy("fail"),
            &EvalContext::new(),
            &[json!(1)],
            1,
            (),
            |_, _| Ok(()),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Step {
            kind: StepKind::Chunk,
            index: 0,
            ..
        }
    ));
    assert!(
        Coordinator::new()
            .map_reduce(&toy("vowels"), &EvalContext::new(), &[], 0, (), |_, _| Ok(
                ()
            ))
            .is_err()
    );
}

#[test]
fn cancellation_stops_the_remaining_work() {
    let ev = toy("sleepy");
    let token = CancelToken::new();
    let ctx = EvalContext::new().with_cancel_token(token.clone());
    let items: Vec<Value> = (0..200).map(Value::from).collect();
    let before = SLEEPY_CALLS.load(Ordering::SeqCst);
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(60));
        token.cancel();
    });
    let err = Coordinator::with_workers(2)
        .map_reduce(&ev, &ctx, &items, 1, 0, |acc, _| Ok(acc + 1))
        .unwrap_err();
    canceller.join().unwrap();
    let started = SLEEPY_CALLS.load(Ordering::SeqCst) - before;
    assert!(started < 200, "all {started} chunks ran despite the cancel");
    match err {
        Error::Step { source, .. } => assert!(matches!(*source, Error::Cancelled { .. })),
        other => panic!("expected a cancelled chunk, got {other:?}"),
    }
}

#[test]
fn a_deadline_applies_to_the_whole_broadcast() {
    let evaluators = vec![toy("spin"), toy("spin")];
    let ctx = EvalContext::new().with_timeout(Duration::from_millis(50));
    for result in Coordinator::with_workers(2).broadcast(&evaluators, &ctx) {
        assert!(matches!(result, Err(Error::Timeout { .. })));
    }
}
