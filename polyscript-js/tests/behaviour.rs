//! JavaScript-specific behaviour beyond the conformance kit.

use std::time::{Duration, Instant};

use polyscript_core::serde_json::json;
use polyscript_core::{
    Error, EvalContext, Evaluator, LimitKind, Limits, PoolConfig, Source, Value,
};
use polyscript_js::JsEngine;

fn evaluator(script: &str) -> Evaluator<JsEngine> {
    evaluator_with(script, Limits::default())
}

fn evaluator_with(script: &str, limits: Limits) -> Evaluator<JsEngine> {
    match Evaluator::builder(JsEngine::new(), Source::from_text(script))
        .limits(limits)
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
    {
        Ok(ev) => ev,
        Err(e) => panic!("build failed: {e}"),
    }
}

fn run(ev: &Evaluator<JsEngine>, data: Value) -> polyscript_core::Result<Value> {
    ev.eval(&EvalContext::with_data(data)?)
        .map(|r| r.into_value())
}

#[test]
fn completion_value_is_the_result() {
    let ev = evaluator("const n = ctx.n * 2;\nif (n > 4) { 'big' } else { 'small' }");
    assert_eq!(run(&ev, json!({"n": 3})).unwrap(), json!("big"));
    assert_eq!(run(&ev, json!({"n": 1})).unwrap(), json!("small"));
    let ev = evaluator("({ greeting: 'Hello, ' + ctx['name'] + '!' })");
    assert_eq!(
        run(&ev, json!({"name": "Ada"})).unwrap(),
        json!({"greeting": "Hello, Ada!"})
    );
}

#[test]
fn main_function_is_called_with_ctx() {
    let ev = evaluator(
        "function helper(x) { return x + 1; }\nfunction main(ctx) { return { v: helper(ctx.n) }; }",
    );
    assert_eq!(ev.engine(), polyscript_core::EngineKind::JavaScript);
    for n in 0..3 {
        assert_eq!(run(&ev, json!({"n": n})).unwrap(), json!({"v": n + 1}));
    }
}

#[test]
fn undefined_becomes_null() {
    let ev = evaluator("let x;\nx");
    assert_eq!(run(&ev, json!({})).unwrap(), Value::Null);
    let ev = evaluator("({ a: undefined, b: [undefined, 1] })");
    assert_eq!(run(&ev, json!({})).unwrap(), json!({"b": [null, 1]}));
}

#[test]
fn functions_and_symbols_in_results_are_left_out_as_json_stringify_does() {
    let ev = evaluator(
        "({ f: function () {}, s: Symbol('s'), a: [() => 1, Symbol()], [Symbol('k')]: 1, v: 1 })",
    );
    assert_eq!(
        run(&ev, json!({})).unwrap(),
        json!({"a": [null, null], "v": 1})
    );
    let ev = evaluator("Symbol('s')");
    assert_eq!(run(&ev, json!({})).unwrap(), Value::Null);
}

#[test]
fn numbers_keep_their_json_type() {
    let ev = evaluator("[ctx.big, ctx.big + 1, 0.5, 2 ** 60, -0]");
    let got = run(&ev, json!({"big": 1_i64 << 40})).unwrap();
    assert_eq!(got[0], json!(1_i64 << 40));
    assert!(got[0].is_i64());
    assert_eq!(got[1], json!((1_i64 << 40) + 1));
    assert_eq!(got[2], json!(0.5));
    assert!(got[3].is_f64(), "beyond 2^53 stays a float: {got}");
    assert!(got[4].is_f64(), "-0 stays a float: {got}");
}

#[test]
fn syntax_errors_have_line_and_column() {
    let source = Source::from_text("const a = 1;\n  let = = 2;\n");
    match Evaluator::new(JsEngine::new(), source) {
        Err(Error::Compile {
            message,
            location: Some(loc),
            ..
        }) => {
            assert_eq!(loc.line, 2, "{message}");
            assert!(loc.column.is_some_and(|c| c > 1), "{loc:?}");
            assert!(message.starts_with("SyntaxError"), "{message}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    // On line 1 the column is the script's own (the block brace is not counted).
    match Evaluator::new(JsEngine::new(), Source::from_text("let = = 1;")) {
        Err(Error::Compile {
            location: Some(loc),
            ..
        }) => assert_eq!(loc.line, 1),
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn type_errors_have_message_line_and_column() {
    let ev = evaluator("const a = 1;\nconst o = {};\no.missing();\n");
    match run(&ev, json!({})) {
        Err(Error::Runtime {
            message, location, ..
        }) => {
            assert!(message.starts_with("TypeError: "), "{message}");
            let loc = location.expect("a location");
            assert_eq!(loc.line, 3, "{message}");
            assert!(loc.column.is_some());
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    let ev = evaluator("throw new RangeError('nope');");
    match run(&ev, json!({})) {
        Err(Error::Runtime {
            message, location, ..
        }) => {
            assert_eq!(message, "RangeError: nope");
            assert_eq!(location.map(|l| l.line), Some(1));
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    let ev = evaluator("throw 'plain';");
    match run(&ev, json!({})) {
        Err(Error::Runtime { message, .. }) => assert!(message.contains("plain"), "{message}"),
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn top_level_let_const_class_can_run_twice() {
    let ev = evaluator(
        "let x = ctx.n;\nconst y = 2;\nclass C { v() { return x * y; } }\nfunction f() { return new C().v(); }\nf()",
    );
    for n in 1..=3 {
        assert_eq!(run(&ev, json!({"n": n})).unwrap(), json!(n * 2));
    }
    let stats = ev.pool_stats();
    assert_eq!(
        stats.created, 1,
        "one instance served every eval: {stats:?}"
    );
}

#[test]
fn globals_do_not_survive_an_eval() {
    let ev = evaluator(
        "const seen = [typeof a, typeof b, typeof c, typeof JSON.stringify, typeof ctx.n];\n\
         globalThis.a = 1; b = 2; var c = 3; JSON = null;\nseen",
    );
    let first = run(&ev, json!({"n": 1})).unwrap();
    assert_eq!(
        first,
        json!(["undefined", "undefined", "undefined", "function", "number"])
    );
    for _ in 0..2 {
        assert_eq!(run(&ev, json!({"n": 1})).unwrap(), first);
    }
}

#[test]
fn ctx_is_replaced_between_evals() {
    let ev = evaluator("ctx.only_first === undefined ? 'clean' : 'leaked'");
    assert_eq!(run(&ev, json!({"only_first": 1})).unwrap(), json!("leaked"));
    assert_eq!(run(&ev, json!({})).unwrap(), json!("clean"));
}

#[test]
fn memory_limit_covers_allocating_builtins() {
    let limits = Limits::default().with_memory_bytes(1024 * 1024);
    for script in [
        "'x'.repeat(10 * 1024 * 1024)",
        "let s = 'abcd'; while (true) { s = s.concat(s); }",
        "const a = []; while (true) { a.push(1, 2, 3, 4); }",
        "new ArrayBuffer(16 * 1024 * 1024)",
        "let a = ['x']; try { while (true) a = a.concat(a); } catch (e) { 'caught' }",
    ] {
        let ev = evaluator_with(script, limits);
        match run(&ev, json!({})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                ..
            }) => {}
            Err(Error::Runtime { message, .. })
                if script.contains("ArrayBuffer") && message.starts_with("RangeError") => {}
            other => panic!("{script}: expected LimitExceeded(memory), got {other:?}"),
        }
    }
    // Small allocations are fine.
    let ev = evaluator_with(
        "'ab'.repeat(100).length + [1, 2].concat([3]).length",
        limits,
    );
    assert_eq!(run(&ev, json!({})).unwrap(), json!(203));
}

#[test]
fn recursion_through_native_callbacks_is_bounded() {
    for limits in [
        Limits::default(),
        Limits::default().without_call_depth_limit(),
    ] {
        let ev = evaluator_with("function f(n) { return [n].map(f)[0] + 1; }\nf(0)", limits);
        match run(&ev, json!({})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::CallDepth,
                ..
            }) => {}
            other => panic!("expected LimitExceeded(call depth), got {other:?}"),
        }
    }
}

/// On a thread with the default 2 MiB stack: the default call depth runs on
/// that stack, an unlimited one on the instance's worker; neither overflows.
#[test]
fn deep_native_reentry_on_a_default_thread_is_bounded() {
    let scripts = [
        "function f(n) { return [n].map(f)[0] + 1; }\nf(0)",
        "const o = { get x() { return this.x; } };\no.x",
        "function f() { return JSON.stringify({ a: 1 }, () => f()); }\nf()",
    ];
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            for script in scripts {
                for call_depth in [Limits::default().call_depth, None] {
                    let mut limits = Limits::default();
                    limits.call_depth = call_depth;
                    match run(&evaluator_with(script, limits), json!({})) {
                        Err(Error::LimitExceeded {
                            limit: LimitKind::CallDepth,
                            ..
                        }) => {}
                        other => panic!("{script} ({call_depth:?}): got {other:?}"),
                    }
                }
            }
        })
        .expect("spawn")
        .join()
        .expect("no overflow, no panic");
}

#[test]
fn loops_inside_native_callbacks_still_time_out() {
    // The loop runs inside a `map` callback (a VM loop nested in a native
    // call); the operation limit is off, so only the deadline stops it,
    // through the context's interrupt flag.
    let limits = Limits::default()
        .with_timeout(Duration::from_millis(200))
        .without_operation_limit();
    let ev = evaluator_with("[1].map(() => { while (true) {} })", limits);
    let start = Instant::now();
    match run(&ev, json!({})) {
        Err(Error::Timeout { .. }) => {}
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(10), "did not hang");
    // A new instance replaces the discarded one.
    let ok = evaluator_with("1 + 1", limits);
    assert_eq!(run(&ok, json!({})).unwrap(), json!(2));
}

#[test]
fn console_goes_to_tracing_and_jobs_of_a_non_promise_result_do_not_run() {
    let ev = evaluator(
        "console.log('hi', ctx.n); Promise.resolve().then(() => { globalThis.late = 1; }); typeof late",
    );
    assert_eq!(run(&ev, json!({"n": 1})).unwrap(), json!("undefined"));
    assert_eq!(run(&ev, json!({"n": 1})).unwrap(), json!("undefined"));
}

#[test]
fn strict_scripts_stay_strict() {
    let ev = evaluator("'use strict';\nundeclared = 1;");
    match run(&ev, json!({})) {
        Err(Error::Runtime { message, .. }) => {
            assert!(message.starts_with("ReferenceError"), "{message}")
        }
        other => panic!("expected ReferenceError, got {other:?}"),
    }
}

/// A compile error for `script`, as (message, line, column).
fn compile_error(script: &str) -> (String, u32, Option<u32>) {
    match Evaluator::new(JsEngine::new(), Source::from_text(script)) {
        Err(Error::Compile {
            message,
            location: Some(loc),
            ..
        }) => (message, loc.line, loc.column),
        other => panic!("expected a compile error with a location, got {other:?}"),
    }
}

#[test]
fn a_script_cannot_close_the_block_it_is_wrapped_in() {
    // Wrapped, `} let leaked = 1; {` parses: a top-level `let` would
    // outlive the eval. The script as written does not parse, and the
    // error is its own, at its own position.
    let (message, line, column) = compile_error("} let leaked = 1; {");
    assert!(message.starts_with("SyntaxError"), "{message}");
    assert_eq!((line, column), (1, Some(1)), "{message}");
    let (message, line, _) = compile_error(
        "let a = 1;
}
{ a",
    );
    assert!(message.starts_with("SyntaxError"), "{message}");
    assert_eq!(line, 2, "{message}");
}

#[test]
fn block_only_early_errors_are_reported_as_such() {
    // Valid as a script, not inside the block every eval runs.
    let (message, _, _) = compile_error("var f;\nfunction f() {}");
    assert!(
        message.starts_with("SyntaxError: ")
            && !message.starts_with("SyntaxError: SyntaxError")
            && message.ends_with("(top-level declarations are block-scoped per eval)"),
        "{message}"
    );
}

#[test]
fn directive_prologues_keep_their_meaning() {
    for script in [
        "\"use strict\";\nundeclared = 1;",
        "// a comment first\n'use strict';\nundeclared = 1;",
        "'a directive';\n'use strict';\nundeclared = 1;",
    ] {
        match run(&evaluator(script), json!({})) {
            Err(Error::Runtime { message, .. }) => {
                assert!(message.starts_with("ReferenceError"), "{script}: {message}")
            }
            other => panic!("{script}: expected a ReferenceError, got {other:?}"),
        }
    }
    // Not a directive: a parenthesised string, or one after a statement.
    for script in [
        "('use strict');\nundeclared = 1;\nundeclared",
        "let x = 0;\n'use strict';\nundeclared = 1;\nundeclared",
        "'other';\nundeclared = 1;\nundeclared",
    ] {
        assert_eq!(
            run(&evaluator(script), json!({})).unwrap(),
            json!(1),
            "{script}"
        );
    }
}

#[test]
fn hashbang_and_main_survive_the_wrapping() {
    let ev = evaluator("#!/usr/bin/env node\nfunction main(ctx) { return ctx.n + 1; }");
    assert_eq!(run(&ev, json!({"n": 1})).unwrap(), json!(2));
    let ev = evaluator("async function main(ctx) { return ctx.n * 2; }");
    assert_eq!(run(&ev, json!({"n": 4})).unwrap(), json!(8));
    // `main` nested in a block is not the script's `main`.
    let ev = evaluator("{ function main(ctx) { return 'inner'; } }\n'outer'");
    assert_eq!(run(&ev, json!({})).unwrap(), json!("outer"));
}

#[test]
fn evaluator_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Evaluator<JsEngine>>();
    fn assert_send<T: Send>() {}
    assert_send::<polyscript_js::JsInstance>();
}
