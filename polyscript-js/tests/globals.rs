//! The global object between evals: built-ins are locked, what a script adds
//! or changes never reaches the next eval on the same instance.

use polyscript_core::serde_json::json;
use polyscript_core::{Error, EvalContext, Evaluator, PoolConfig, Source, Value};
use polyscript_js::JsEngine;

fn evaluator(script: &str) -> Evaluator<JsEngine> {
    match Evaluator::builder(JsEngine::new(), Source::from_text(script))
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
    {
        Ok(ev) => ev,
        Err(e) => panic!("build failed: {e}"),
    }
}

fn run(ev: &Evaluator<JsEngine>, n: u32) -> polyscript_core::Result<Value> {
    ev.eval(&EvalContext::with_data(json!({ "n": n }))?)
        .map(|r| r.into_value())
}

/// Runs the script for n = 1..=3 and expects `expected` every time; returns
/// how many instances served them.
fn same_every_eval(script: &str, expected: Value) -> u64 {
    let ev = evaluator(script);
    for n in 1..=3 {
        assert_eq!(run(&ev, n).unwrap(), expected, "eval {n} of {script}");
    }
    ev.pool_stats().created
}

#[test]
fn replacing_a_builtin_fails_silently_in_sloppy_code_and_does_not_leak() {
    let created = same_every_eval(
        "const seen = [typeof JSON.stringify, typeof Math.max, typeof globalThis.Array];\n\
         JSON = null; globalThis.Math = { leaked: ctx.n }; Array = 1;\n\
         seen.concat([JSON === null, Math.leaked === undefined, typeof Array])",
        json!(["function", "function", "function", false, true, "function"]),
    );
    assert_eq!(created, 1, "the instance was kept");
}

#[test]
fn replacing_a_builtin_throws_in_strict_code() {
    let ev = evaluator("'use strict';\nJSON = null;");
    for n in 1..=2 {
        match run(&ev, n) {
            Err(Error::Runtime { message, .. }) => {
                assert!(message.starts_with("TypeError"), "{message}")
            }
            other => panic!("expected a TypeError, got {other:?}"),
        }
    }
}

#[test]
fn builtins_cannot_be_deleted_or_redefined() {
    same_every_eval(
        "const seen = typeof JSON;\n\
         const deleted = delete globalThis.JSON;\n\
         let redefined = true;\n\
         try { Object.defineProperty(globalThis, 'Math', { value: 1 }); } catch (e) { redefined = false; }\n\
         [seen, deleted, redefined, typeof JSON, typeof Math]",
        json!(["object", false, false, "object", "object"]),
    );
}

#[test]
fn block_scoped_declarations_may_shadow_builtins() {
    same_every_eval(
        "const JSON = { stringify: () => 'mine' };\nfunction Map() { return ctx.n; }\n[JSON.stringify(), Map() > 0]",
        json!(["mine", true]),
    );
}

#[test]
fn added_globals_and_vars_are_removed() {
    let created = same_every_eval(
        "const seen = [typeof a, typeof b, typeof v, typeof f, typeof globalThis[0], typeof globalThis[Symbol.for('s')]];\n\
         globalThis.a = ctx.n; b = ctx.n; var v = ctx.n; { function f() {} }\n\
         globalThis[0] = ctx.n; globalThis[Symbol.for('s')] = ctx.n;\n\
         seen",
        json!([
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined",
            "undefined"
        ]),
    );
    assert_eq!(created, 1, "vars are reset in place, the instance was kept");
}

#[test]
fn a_read_only_var_does_not_carry_over() {
    same_every_eval(
        "var v;\nconst seen = v === undefined;\nv = ctx.n;\nObject.defineProperty(globalThis, 'v', { writable: false });\nseen",
        json!(true),
    );
}

#[test]
fn a_read_only_ctx_does_not_carry_over() {
    let ev = evaluator(
        "const seen = ctx.n;\nObject.defineProperty(globalThis, 'ctx', { writable: false });\nseen",
    );
    for n in 1..=3 {
        assert_eq!(run(&ev, n).unwrap(), json!(n));
    }
}

#[test]
fn a_non_extensible_or_frozen_global_does_not_carry_over() {
    for lock in ["preventExtensions", "seal", "freeze"] {
        same_every_eval(
            &format!(
                "const seen = Object.isExtensible(globalThis);\nObject.{lock}(globalThis);\nseen"
            ),
            json!(true),
        );
    }
}

#[test]
fn a_swapped_global_prototype_does_not_carry_over() {
    same_every_eval(
        "const seen = typeof fromProto;\nObject.setPrototypeOf(globalThis, { fromProto: ctx.n });\nseen",
        json!("undefined"),
    );
}
