//! Many evaluators of distinct scripts on one thread (caller-thread mode):
//! each stays correct, and rotating over them reuses the thread's context
//! instead of building one per eval.

use polyscript_core::serde_json::json;
use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_js::{JsEngine, contexts_built};

/// Distinct per tenant: the tenant number is part of the result.
fn script(tenant: usize) -> String {
    format!(
        "const g = \"Hello, \" + ctx.name + \"!\"; ({{greeting: g, tenant: {tenant}, seen: typeof seen}})\n\
         var seen = true;"
    )
}

/// One eval of each evaluator in turn, each answering as its own tenant.
fn rotate_once(evaluators: &[Evaluator<JsEngine>], input: &EvalContext, round: usize) {
    for (i, ev) in evaluators.iter().enumerate() {
        let response = ev.eval(input).expect("eval");
        assert_eq!(
            response.value(),
            &json!({"greeting": "Hello, World!", "tenant": i, "seen": "undefined"}),
            "round {round}, tenant {i}"
        );
    }
}

#[test]
fn a_thousand_evaluators_rotate_without_rebuilding_contexts() {
    const TENANTS: usize = 1_000;
    let engine = JsEngine::new();
    let evaluators: Vec<_> = (0..TENANTS)
        .map(|i| Evaluator::new(engine.clone(), Source::from_text(script(i))).expect("build"))
        .collect();
    let input = EvalContext::with_data(json!({"name": "World"})).expect("input");
    let mut built_after_first = 0;
    for round in 0..2 {
        rotate_once(&evaluators, &input, round);
        if round == 0 {
            built_after_first = contexts_built();
        }
    }
    // `contexts_built` counts this thread's: the old per-program cache of 16
    // built one per evaluator, 1 000 in each rotation.
    assert!(
        built_after_first <= 2,
        "building and one rotation built {built_after_first} contexts"
    );
    assert_eq!(
        contexts_built(),
        built_after_first,
        "the second rotation built contexts"
    );
}

/// Evaluators built each with its own `JsEngine::new()` (what the facade's
/// `from_js_*` constructors do) share contexts as those of one engine do:
/// separate default engines once meant a context per evaluator, rebuilt on
/// nearly every eval of a rotation over more than 16 of them.
#[test]
fn evaluators_of_separate_default_engines_share_contexts() {
    const TENANTS: usize = 100;
    let evaluators: Vec<_> = (0..TENANTS)
        .map(|i| Evaluator::new(JsEngine::new(), Source::from_text(script(i))).expect("build"))
        .collect();
    let input = EvalContext::with_data(json!({"name": "World"})).expect("input");
    let built_before = contexts_built();
    for round in 0..2 {
        rotate_once(&evaluators, &input, round);
    }
    assert!(
        contexts_built() - built_before <= 1,
        "two rotations over {TENANTS} evaluators of default engines built {} contexts",
        contexts_built() - built_before
    );
}

/// Programs sharing a context see none of each other's globals: a `var` of
/// one is not a global of another, sloppy assignments are gone, and a
/// program that leaves a non-deletable global it did not declare gets the
/// context rebuilt rather than shared.
#[test]
fn programs_on_one_thread_see_none_of_each_others_globals() {
    let engine = JsEngine::new();
    let build = |text: &str| Evaluator::new(engine.clone(), Source::from_text(text)).expect(text);
    let declares = build("var secret = ctx.n; leaked = ctx.n; secret");
    let defines =
        build("Object.defineProperty(globalThis, 'pinned', {value: 1, writable: true}); 1");
    let probe = build(
        "[typeof secret, 'secret' in globalThis, typeof leaked, 'pinned' in globalThis, \
         Object.keys(globalThis).length]",
    );
    let input = EvalContext::with_data(json!({"n": 7})).expect("input");
    let alone = probe.eval(&input).expect("probe").into_value();
    assert_eq!(alone[0], json!("undefined"));
    assert_eq!(alone[1], json!(false));
    for _ in 0..3 {
        assert_eq!(
            declares.eval(&input).expect("declares").into_value(),
            json!(7)
        );
        assert_eq!(
            defines.eval(&input).expect("defines").into_value(),
            json!(1)
        );
        assert_eq!(probe.eval(&input).expect("probe").into_value(), alone);
    }
}

/// The inner evaluator of [`a_script_evaluated_inside_another_reuses_a_spare_context`].
static INNER: std::sync::OnceLock<Evaluator<JsEngine>> = std::sync::OnceLock::new();

/// A host function that evaluates another script of the same engine on the
/// same thread: the outer eval holds the thread's context, so the inner one
/// needs a second; it is kept as a spare, not built on every call.
#[test]
fn a_script_evaluated_inside_another_reuses_a_spare_context() {
    use polyscript_core::host::{HostError, HostFunctions};
    let registry = HostFunctions::new().register("inner", |(n,): (i64,)| {
        let input = EvalContext::with_data(json!({ "n": n })).map_err(HostError::new)?;
        let inner = INNER.get().ok_or_else(|| HostError::new("no inner"))?;
        let response = inner.eval(&input).map_err(HostError::new)?;
        Ok(response.into_value())
    });
    let engine = JsEngine::builder().host_functions(registry).build();
    let outer =
        Evaluator::new(engine.clone(), Source::from_text("host.inner(ctx.n) + 1")).expect("outer");
    let inner = Evaluator::new(engine, Source::from_text("ctx.n * 2")).expect("inner");
    assert!(INNER.set(inner).is_ok(), "set once");
    let input = EvalContext::with_data(json!({"n": 20})).expect("input");
    assert_eq!(outer.eval(&input).expect("first").into_value(), json!(41));
    let built = contexts_built();
    for _ in 0..5 {
        assert_eq!(outer.eval(&input).expect("again").into_value(), json!(41));
    }
    assert_eq!(contexts_built(), built, "nested evals built contexts");
}
