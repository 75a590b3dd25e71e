//! Host functions from JavaScript: calls, values both ways, errors, names
//! that are not registered, the frozen `host`, limits around host calls,
//! host data, calls from callbacks and promise jobs — in both thread modes.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::MODES;
use polyscript_core::host::{CallContext, HostError, HostFunctions};
use polyscript_core::serde_json::{Value, json};
use polyscript_core::{
    CancelToken, Error, EvalContext, Evaluator, LimitKind, Limits, PoolConfig, Source, testkit,
};
use polyscript_js::{JsEngine, ThreadMode};

/// Generous bound for "stopped promptly" (only catches a hang).
const PROMPTLY: Duration = Duration::from_secs(5);

/// The conformance kit's functions (`add`, `user`, `fail`, `slow`,
/// `tenant`) plus:
///
/// * `echo(v)` → `v`; `count(...)` → how many arguments
/// * `cmp(a, b)` → `a - b`, for sort comparators
/// * `deep(n)` → a list nested `n` levels; `big(n)` → `n` bytes of `x`;
///   `huge_int()` → `u64::MAX`
/// * `boom()` panics; `later(n)` is async and returns `n + 1`; `never()`
///   is async and never completes; `stop()` stops the eval with its own
///   error
fn registry() -> HostFunctions {
    testkit::host_functions()
        .register("echo", |(v,): (Value,)| Ok(v))
        .register("count", |args: Vec<Value>| Ok(args.len()))
        .register("cmp", |(a, b): (i64, i64)| Ok(a - b))
        .register("deep", |(n,): (usize,)| {
            let mut v = json!(0);
            for _ in 0..n {
                v = json!([v]);
            }
            Ok(v)
        })
        .register("big", |(n,): (usize,)| Ok("x".repeat(n)))
        .register("huge_int", |(): ()| Ok(u64::MAX))
        .register("boom", |(): ()| -> Result<(), HostError> {
            panic!("kaboom")
        })
        .register_async("later", |(n,): (i64,)| async move { Ok(n + 1) })
        .register_async("never", |(): ()| {
            std::future::pending::<Result<(), HostError>>()
        })
        .register_with_context(
            "stop",
            |call: &CallContext<'_>, (): ()| -> Result<(), HostError> {
                Err(HostError::interrupt(call.guard().limit_error(
                    LimitKind::Operations,
                    "the host's own reason",
                )))
            },
        )
}

fn engine(mode: ThreadMode, registry: HostFunctions) -> JsEngine {
    JsEngine::builder()
        .thread_mode(mode)
        .host_functions(registry)
        .build()
}

/// An evaluator of `script` (one pooled instance) offering `registry`.
fn evaluator_with(
    script: &str,
    mode: ThreadMode,
    limits: Limits,
    registry: HostFunctions,
) -> Evaluator<JsEngine> {
    Evaluator::builder(engine(mode, registry), Source::from_text(script))
        .limits(limits)
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
        .unwrap_or_else(|e| panic!("build failed: {e}"))
}

/// An evaluator of `script` offering [`registry`].
fn evaluator(script: &str, mode: ThreadMode) -> Evaluator<JsEngine> {
    evaluator_with(script, mode, Limits::default(), registry())
}

/// Runs `script` once with [`registry`] and `data` as `ctx`.
fn run(script: &str, mode: ThreadMode, data: Value) -> polyscript_core::Result<Value> {
    common::run(&evaluator(script, mode), data)
}

/// The message of a runtime error, or a panic naming what came instead.
fn runtime_message(outcome: polyscript_core::Result<Value>) -> String {
    match outcome {
        Err(Error::Runtime { message, .. }) => message,
        other => panic!("expected Error::Runtime, got {other:?}"),
    }
}

#[test]
fn arguments_and_results_cross_by_the_value_table() {
    for mode in MODES {
        let got = run(
            r#"({
  sum: host.add(ctx.a, 40),
  user: host.user("u1"),
  float: host.echo(1.5),
  int: host.echo(3.0),
  null: host.echo(null),
  undefined_arg: host.echo(undefined),
  function_arg: host.echo(() => 1),
  empty_list: host.echo([]),
  empty_map: host.echo({}),
  nested: host.echo({ list: [1, 2.5, "x", undefined], map: { k: false, skipped: undefined } }),
  ctx: host.echo(ctx),
  to_json: host.echo({ toJSON() { return "custom"; } }),
  count: host.count(1, undefined, 3),
  none: host.count(),
  many: host.count(...Array.from({ length: 20 }, (_, i) => i)),
})"#,
            mode,
            json!({"a": 2}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "sum": 42,
                "user": {"id": "u1", "name": "User u1", "tags": ["a", "b"]},
                "float": 1.5,
                "int": 3,
                "null": null,
                "undefined_arg": null,
                "function_arg": null,
                "empty_list": [],
                "empty_map": {},
                "nested": {"list": [1, 2.5, "x", null], "map": {"k": false}},
                "ctx": {"a": 2},
                "to_json": "custom",
                "count": 3,
                "none": 0,
                "many": 20,
            }),
            "{mode:?}"
        );
        // The number rule both ways: 3.0 is an integer, 1.5 a float.
        assert!(got["float"].is_f64() && got["int"].is_i64(), "{mode:?}");
    }
}

#[test]
fn results_are_javascript_values_the_script_can_use() {
    for mode in MODES {
        let got = run(
            r#"
const u = host.user("u2");
const tags = host.echo(["a", "b", "c"]);
tags.push("d");
({
  name: u.name.toUpperCase(),
  tags: u.tags.length,
  is_array: Array.isArray(tags),
  proto: Object.getPrototypeOf(u) === Object.prototype,
  appended: tags,
  typeof_sum: typeof host.add(1, 2),
  detached: (() => { const f = host.add; return f(2, 3); })(),
  called: host.add.call(null, 3, 3),
  construct: (() => { try { new host.add(1, 2); return "constructed"; } catch (e) { return e.name; } })(),
  fn_name: host.add.name,
})"#,
            mode,
            json!({}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "name": "USER U2", "tags": 2, "is_array": true, "proto": true,
                "appended": ["a", "b", "c", "d"], "typeof_sum": "number",
                "detached": 5, "called": 6, "construct": "TypeError", "fn_name": "add",
            }),
            "{mode:?}"
        );
    }
}

#[test]
fn a_failing_host_call_is_a_catchable_error_named_after_the_function() {
    for mode in MODES {
        let got = run(
            r#"
function caught(f) {
  try { f(); return null; } catch (e) { return { name: e.name, message: e.message, error: e instanceof Error }; }
}
({
  failed: caught(() => host.fail("out of stock")),
  count: caught(() => host.add(1)),
  typed: caught(() => host.add(1, "x")),
  float: caught(() => host.add(1, 2.5)),
  after: host.add(1, 1),
})"#,
            mode,
            json!({}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "failed": {"name": "Error", "message": "fail: out of stock", "error": true},
                "count": {"name": "TypeError", "message": "add: takes 2 arguments, got 1", "error": true},
                "typed": {
                    "name": "TypeError",
                    "message": "add: argument 2: invalid type: string \"x\", expected i64",
                    "error": true,
                },
                "float": {
                    "name": "TypeError",
                    "message": "add: argument 2: invalid type: floating point `2.5`, expected i64",
                    "error": true,
                },
                "after": 2,
            }),
            "{mode:?}"
        );
    }
}

#[test]
fn an_uncaught_host_error_ends_the_eval_naming_the_function_and_the_line() {
    for mode in MODES {
        let ev = evaluator("const x = 1;\nhost.fail(ctx.why);\nx", mode);
        let err = common::run(&ev, json!({"why": "no such user"})).unwrap_err();
        match &err {
            Error::Runtime {
                message,
                location,
                script_id,
                ..
            } => {
                assert_eq!(message, "Error: fail: no such user", "{mode:?}");
                assert_eq!(location.map(|l| l.line), Some(2), "{mode:?}: {err}");
                assert_eq!(*script_id, ev.script_id());
            }
            other => panic!("{mode:?}: expected Error::Runtime, got {other:?}"),
        }
        // The evaluator keeps working.
        assert_eq!(common::run(&ev, json!({"why": null})).ok(), None);
        let ok = evaluator("host.add(ctx.a, 1)", mode);
        assert_eq!(common::run(&ok, json!({"a": 1})).unwrap(), json!(2));
    }
}

#[test]
fn wrong_arguments_uncaught_name_the_function_and_the_argument() {
    for mode in MODES {
        let message = runtime_message(run("host.add(1)", mode, json!({})));
        assert_eq!(
            message, "TypeError: add: takes 2 arguments, got 1",
            "{mode:?}"
        );
        let message = runtime_message(run("host.user(7)", mode, json!({})));
        assert_eq!(
            message, "TypeError: user: argument 1: invalid type: integer `7`, expected a string",
            "{mode:?}"
        );
    }
}

#[test]
fn an_unregistered_name_is_an_error_naming_it_not_undefined() {
    for mode in MODES {
        let got = run(
            r#"
function caught(f) { try { return { value: f() }; } catch (e) { return { name: e.name, message: e.message }; } }
({
  read: caught(() => host.nope),
  typeof_read: caught(() => typeof host.nope),
  call: caught(() => host.nope(1)),
  index: caught(() => host["no pe"]),
  inherited: caught(() => host.toString),
  has: "nope" in host,
  has_known: "add" in host,
  own: Object.hasOwn(host, "add"),
  known: typeof host.add,
  keys: Object.keys(host).length,
  symbol: host[Symbol.iterator] === undefined,
})"#,
            mode,
            json!({}),
        )
        .unwrap();
        let registry = registry();
        let names: Vec<&str> = registry.names().collect();
        let error = |name: &str| {
            json!({
                "name": "TypeError",
                "message": format!(
                    "host.{name} is not a registered host function (registered: {})",
                    names.join(", ")
                ),
            })
        };
        assert_eq!(got["read"], error("nope"), "{mode:?}");
        assert_eq!(got["typeof_read"], error("nope"), "{mode:?}");
        assert_eq!(got["call"], error("nope"), "{mode:?}");
        assert_eq!(got["index"], error("no pe"), "{mode:?}");
        assert_eq!(got["inherited"], error("toString"), "{mode:?}");
        assert_eq!(got["has"], json!(false));
        assert_eq!(got["has_known"], json!(true));
        assert_eq!(got["own"], json!(true));
        assert_eq!(got["known"], json!("function"));
        assert_eq!(got["keys"], json!(names.len()));
        assert_eq!(got["symbol"], json!(true));
        // Uncaught.
        let message = runtime_message(run("host.nope(1)", mode, json!({})));
        assert!(
            message.starts_with("TypeError: host.nope is not a registered host function"),
            "{message}"
        );
    }
}

#[test]
fn without_a_registry_host_is_an_empty_frozen_object() {
    for mode in MODES {
        let ev = common::evaluator(
            r#"
let message = null;
try { host.add(1, 2); } catch (e) { message = e.message; }
({ kind: typeof host, keys: Object.keys(host).length, frozen: Object.isFrozen(host), message })"#,
            mode,
            Limits::default(),
        );
        assert_eq!(
            common::run(&ev, json!({})).unwrap(),
            json!({
                "kind": "object", "keys": 0, "frozen": true,
                "message": "host.add is not a registered host function (none is registered)",
            }),
            "{mode:?}"
        );
    }
}

#[test]
fn nothing_a_script_does_to_host_survives_the_eval() {
    // Sloppy mode: every attempt fails silently or throws; strict mode
    // (below) throws for each. A script's own `host` binding shadows the
    // global in that eval only.
    let sloppy = r#"
const seen = { add: host.add(1, 2), frozen: Object.isFrozen(host) && Object.isFrozen(host.add) };
const original = host.add;
function refused(f) { try { f(); } catch (e) { return e.name; } return "silent"; }
seen.assign = refused(() => { host.add = () => 0; });
seen.new_key = refused(() => { host.extra = 1; });
seen.remove = refused(() => { delete host.add; });
seen.define = refused(() => Object.defineProperty(host, "add", { value: () => 0 }));
seen.proto = refused(() => Object.setPrototypeOf(host, {}));
seen.proto_key = refused(() => { Object.getPrototypeOf(host).add2 = 1; });
seen.proto_define = refused(() => Object.defineProperty(Object.getPrototypeOf(host), "x", { value: 1 }));
seen.fn_prop = refused(() => { host.add.extra = 1; });
seen.global = refused(() => { globalThis.host = {}; });
seen.global_define = refused(() => Object.defineProperty(globalThis, "host", { value: {} }));
seen.global_delete = refused(() => { delete globalThis.host; });
seen.reassign = refused(() => { host = { add: () => 0 }; });
seen.same = host.add === original && globalThis.host.add === original && host.add(2, 2) === 4;
seen.extra = "extra" in host || "add2" in host;
seen
"#;
    let strict = r#"
"use strict";
function refused(f) { try { f(); } catch (e) { return e.name; } return "silent"; }
({
  assign: refused(() => { host.add = () => 0; }),
  new_key: refused(() => { host.extra = 1; }),
  remove: refused(() => { delete host.add; }),
  reassign: refused(() => { host = {}; }),
  global: refused(() => { globalThis.host = {}; }),
  add: host.add(1, 2),
})
"#;
    let shadow = "{ let host = { add: () => 'mine' }; globalThis.leak = host; }\nvar host2 = host;\n({ mine: leak.add(), real: host.add(1, 1) })";
    for mode in MODES {
        let ev = evaluator(sloppy, mode);
        for round in 0..3 {
            let got = common::run(&ev, json!({})).unwrap();
            assert_eq!(got["add"], json!(3), "{mode:?} {round}: {got}");
            assert_eq!(got["frozen"], json!(true), "{got}");
            assert_eq!(got["same"], json!(true), "{got}");
            assert_eq!(got["extra"], json!(false), "{got}");
            for key in ["define", "proto", "proto_define", "global_define"] {
                assert_eq!(got[key], json!("TypeError"), "{key}: {got}");
            }
            for key in [
                "assign",
                "new_key",
                "remove",
                "proto_key",
                "fn_prop",
                "global",
                "global_delete",
                "reassign",
            ] {
                assert_eq!(got[key], json!("silent"), "{key}: {got}");
            }
        }
        let ev = evaluator(strict, mode);
        for _ in 0..2 {
            assert_eq!(
                common::run(&ev, json!({})).unwrap(),
                json!({
                    "assign": "TypeError", "new_key": "TypeError", "remove": "TypeError",
                    "reassign": "TypeError", "global": "TypeError", "add": 3,
                }),
                "{mode:?}"
            );
        }
        let ev = evaluator(shadow, mode);
        for _ in 0..2 {
            assert_eq!(
                common::run(&ev, json!({})).unwrap(),
                json!({"mine": "mine", "real": 2}),
                "{mode:?}"
            );
        }
    }
}

#[test]
fn a_slow_host_call_counts_against_the_deadline() {
    let limits = Limits::default().with_timeout(Duration::from_millis(300));
    for mode in MODES {
        for script in [
            "host.slow(60000); 'done'",
            // A catch does not swallow the deadline, and a finally runs no
            // more host code.
            "try { host.slow(60000); } catch (e) { 'caught' } finally { host.add(1, 1); }",
            // Time spent in many short calls adds up.
            "while (true) { host.slow(20); }",
        ] {
            let ev = evaluator_with(script, mode, limits, registry());
            let start = Instant::now();
            let outcome = common::run(&ev, json!({}));
            assert!(
                matches!(outcome, Err(Error::Timeout { .. })),
                "{mode:?} {script}: {outcome:?}"
            );
            assert!(
                start.elapsed() < PROMPTLY,
                "{mode:?}: {:?}",
                start.elapsed()
            );
            // The evaluator keeps working.
            let ok = evaluator_with("host.slow(1)", mode, limits, registry());
            assert_eq!(common::run(&ok, json!({})).unwrap(), json!(1));
        }
    }
}

#[test]
fn an_async_host_function_is_bounded_by_the_deadline_and_a_function_may_stop_the_eval() {
    let limits = Limits::default().with_timeout(Duration::from_millis(300));
    for mode in MODES {
        let ev = evaluator_with(
            "try { host.never(); } catch (e) { 'caught' }",
            mode,
            limits,
            registry(),
        );
        let start = Instant::now();
        let outcome = common::run(&ev, json!({}));
        assert!(
            matches!(outcome, Err(Error::Timeout { .. })),
            "{mode:?}: {outcome:?}"
        );
        assert!(start.elapsed() < PROMPTLY);
        let ev = evaluator("try { host.stop(); } catch (e) { 'caught' }", mode);
        match common::run(&ev, json!({})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Operations,
                message,
                ..
            }) => assert_eq!(message, "the host's own reason"),
            other => panic!("{mode:?}: expected the function's own error, got {other:?}"),
        }
        // The evaluator keeps working.
        let ev = evaluator_with("host.later(ctx.n)", mode, limits, registry());
        assert_eq!(common::run(&ev, json!({"n": 1})).unwrap(), json!(2));
    }
}

#[test]
fn a_cancelled_eval_fails_its_next_host_call_at_once() {
    for mode in MODES {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let registry = HostFunctions::new().register("tick", move |(): ()| {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let limits = Limits::default()
            .with_timeout(Duration::from_secs(60))
            .without_operation_limit();
        // The loop catches every catchable error: only a stop ends it.
        let ev = evaluator_with(
            "while (true) { try { host.tick(); } catch (e) {} }",
            mode,
            limits,
            registry,
        );
        // Cancelled before the eval: the function is never called.
        let token = CancelToken::new();
        token.cancel();
        let ctx = EvalContext::with_data(json!({}))
            .unwrap()
            .with_cancel_token(token);
        assert!(matches!(ev.eval(&ctx), Err(Error::Cancelled { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 0, "{mode:?}");
        // Cancelled while it loops on host calls.
        let token = CancelToken::new();
        let ctx = EvalContext::with_data(json!({}))
            .unwrap()
            .with_cancel_token(token.clone());
        let canceller = {
            let calls = Arc::clone(&calls);
            std::thread::spawn(move || {
                while calls.load(Ordering::SeqCst) < 100 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                token.cancel();
                calls.load(Ordering::SeqCst)
            })
        };
        let start = Instant::now();
        let outcome = ev.eval(&ctx);
        let at_cancel = canceller.join().unwrap();
        assert!(
            matches!(outcome, Err(Error::Cancelled { .. })),
            "{mode:?}: {outcome:?}"
        );
        assert!(start.elapsed() < PROMPTLY);
        // At most the call running when the token fired, and the one the
        // loop had started, come after it.
        let after = calls.load(Ordering::SeqCst) - at_cancel;
        assert!(after <= 2, "{mode:?}: {after} calls after the cancel");
    }
}

#[test]
fn host_functions_see_the_host_data_of_their_own_eval() {
    for mode in MODES {
        let ev = evaluator("host.tenant()", mode);
        for tenant in ["t-1", "t-2"] {
            let ctx = EvalContext::with_data(json!({}))
                .unwrap()
                .with_host_data(tenant.to_owned());
            assert_eq!(
                ev.eval(&ctx).unwrap().into_value(),
                json!(tenant),
                "{mode:?}"
            );
        }
        let plain = EvalContext::with_data(json!({})).unwrap();
        assert_eq!(
            ev.eval(&plain).unwrap().into_value(),
            json!(null),
            "{mode:?}"
        );
    }
}

#[test]
fn host_calls_work_from_sort_comparators_callbacks_and_promise_jobs() {
    for mode in MODES {
        let got = run(
            r#"
async function main(ctx) {
  const sorted = [5, 3, 9, 1, 7].sort((a, b) => host.cmp(a, b));
  const mapped = [1, 2].map((n) => host.add(n, 10));
  const getter = { get v() { return host.add(2, 2); } }.v;
  const job = await Promise.resolve(1).then((x) => host.add(x, 41));
  const rejected = await Promise.resolve().then(() => host.fail("in a job")).catch((e) => e.message);
  const awaited = await (async () => host.user(await "u3").name)();
  return { sorted, mapped, getter, job, rejected, awaited, later: host.later(1) };
}"#,
            mode,
            json!({}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({
                "sorted": [1, 3, 5, 7, 9], "mapped": [11, 12], "getter": 4, "job": 42,
                "rejected": "fail: in a job", "awaited": "User u3", "later": 2,
            }),
            "{mode:?}"
        );
        // Uncaught in a job: the eval's rejection names the function.
        let message = runtime_message(run(
            "Promise.resolve().then(() => host.fail('late'))",
            mode,
            json!({}),
        ));
        assert_eq!(message, "Error: fail: late", "{mode:?}");
    }
}

#[test]
fn a_panicking_host_function_is_a_catchable_error() {
    for mode in MODES {
        let ev = evaluator(
            "let err = null;\ntry { host.boom(); } catch (e) { err = e.message; }\n({ err, after: host.add(1, 1) })",
            mode,
        );
        for _ in 0..2 {
            assert_eq!(
                common::run(&ev, json!({})).unwrap(),
                json!({"err": "boom: panicked: kaboom", "after": 2}),
                "{mode:?}"
            );
        }
        let message = runtime_message(run("host.boom()", mode, json!({})));
        assert_eq!(message, "Error: boom: panicked: kaboom");
    }
}

#[test]
fn arguments_without_a_json_form_are_catchable_errors_naming_the_argument() {
    for mode in MODES {
        let got = run(
            r#"
function why(...args) {
  try { host.echo(...args); } catch (e) { return e.name + ": " + e.message; }
  return "accepted";
}
const cycle = {};
cycle.self = cycle;
({
  cycle: why(cycle),
  nan: why({ a: [NaN] }),
  infinity: why(Infinity),
  bigint: why(2n ** 70n),
  second: (() => { try { host.add(1, { x: 1 }); } catch (e) { return e.message; } })(),
  getter: (() => { try { host.echo({ get x() { throw new RangeError("from a getter"); } }); } catch (e) { return e.name + ": " + e.message; } })(),
})"#,
            mode,
            json!({}),
        )
        .unwrap();
        let text = |k: &str| got[k].as_str().unwrap_or_default().to_owned();
        assert!(
            text("cycle").starts_with("TypeError: echo: argument 1.self: ")
                && text("cycle").contains("cycle"),
            "{got}"
        );
        assert!(
            text("nan").starts_with("TypeError: echo: argument 1.a[0]: ")
                && text("nan").contains("NaN"),
            "{got}"
        );
        assert!(
            text("infinity").starts_with("TypeError: echo: argument 1: "),
            "{got}"
        );
        assert!(
            text("bigint").starts_with("TypeError: echo: argument 1: "),
            "{got}"
        );
        assert!(
            text("second").starts_with("add: argument 2: invalid type: map"),
            "{got}"
        );
        // Script code the conversion runs throws its own error.
        assert_eq!(text("getter"), "RangeError: from a getter", "{got}");
    }
}

#[test]
fn arguments_nested_past_the_data_depth_are_refused() {
    let mut limits = Limits::default();
    limits.data_depth = 8;
    for mode in MODES {
        let ev = evaluator_with(
            "let v = 0;\nfor (let i = 0; i < ctx.n; i++) v = [v];\ntry { host.echo(v) } catch (e) { e.message }",
            mode,
            limits,
            registry(),
        );
        // Eight levels fit; nine do not.
        assert_eq!(
            common::run(&ev, json!({"n": 8})).unwrap(),
            json!([[[[[[[[0]]]]]]]])
        );
        let err = common::run(&ev, json!({"n": 9})).unwrap();
        let err = err.as_str().unwrap();
        assert!(
            err.starts_with("echo: argument 1[0][0][0][0][0][0][0][0]: nested deeper than 8"),
            "{err}"
        );
    }
}

#[test]
fn results_that_do_not_fit_are_errors_naming_the_function() {
    for mode in MODES {
        let got = run(
            r#"
function caught(f) { try { f(); return null; } catch (e) { return e.message; } }
({ deep: caught(() => host.deep(200)), int: caught(() => host.huge_int()), fits: host.deep(100).length })"#,
            mode,
            json!({}),
        )
        .unwrap();
        let deep = got["deep"].as_str().unwrap_or_default();
        assert!(
            deep.starts_with("deep: its result: nested deeper than 128"),
            "{got}"
        );
        // Beyond 2^53 a JavaScript number cannot hold it exactly.
        let int = got["int"].as_str().unwrap_or_default();
        assert!(
            int.starts_with("huge_int: its result: ") && int.contains("18446744073709551615"),
            "{got}"
        );
        assert_eq!(got["fits"], json!(1));
    }
}

#[test]
fn host_memory_counts_toward_the_memory_limit() {
    let limits = Limits::default().with_memory_bytes(1024 * 1024);
    for mode in MODES {
        // A result larger than the limit ends the eval; no catch sees it.
        let ev = evaluator_with(
            "try { host.big(ctx.n).length } catch (e) { 'caught' }",
            mode,
            limits,
            registry(),
        );
        match common::run(&ev, json!({"n": 4 * 1024 * 1024})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                message,
                ..
            }) => assert!(message.contains("host function big"), "{message}"),
            other => panic!("{mode:?}: expected LimitExceeded(Memory), got {other:?}"),
        }
        // An argument too: the script's own string passed in.
        let ev = evaluator_with(
            "const s = 'x'.repeat(600 * 1024);\ntry { host.echo([s, s]) } catch (e) { 'caught' }",
            mode,
            limits,
            registry(),
        );
        match common::run(&ev, json!({})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                message,
                ..
            }) => assert!(message.contains("host function echo"), "{message}"),
            other => panic!("{mode:?}: expected LimitExceeded(Memory), got {other:?}"),
        }
        // The same evaluator goes on with what fits.
        let ev = evaluator_with("host.big(ctx.n).length", mode, limits, registry());
        assert_eq!(
            common::run(&ev, json!({"n": 1000})).unwrap(),
            json!(1000),
            "{mode:?}"
        );
    }
}

#[test]
fn one_registry_serves_many_engines_and_both_thread_modes() {
    let shared = HostFunctions::new().register("twice", |(n,): (i64,)| Ok(n * 2));
    let caller = evaluator_with(
        "host.twice(ctx.n)",
        ThreadMode::CallerThread,
        Limits::default(),
        shared.clone(),
    );
    let dedicated = evaluator_with(
        "host.twice(host.twice(ctx.n))",
        ThreadMode::Dedicated,
        Limits::default(),
        shared.clone(),
    );
    assert_eq!(common::run(&caller, json!({"n": 2})).unwrap(), json!(4));
    assert_eq!(common::run(&dedicated, json!({"n": 2})).unwrap(), json!(8));
    assert!(
        engine(ThreadMode::Dedicated, shared)
            .host_functions()
            .contains("twice")
    );
    assert!(JsEngine::new().host_functions().is_empty());
    // From many threads at once, on one pooled evaluator per mode.
    for mode in MODES {
        let ev = Arc::new(
            Evaluator::builder(
                engine(mode, registry()),
                Source::from_text("host.add(ctx.n, 1)"),
            )
            .pool(PoolConfig::default().with_max_size(4))
            .build()
            .unwrap(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let ev = Arc::clone(&ev);
                std::thread::spawn(move || {
                    for i in 0..20 {
                        let n = t * 100 + i;
                        assert_eq!(common::run(&ev, json!({"n": n})).unwrap(), json!(n + 1));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}

#[test]
fn a_call_depth_that_needs_a_worker_still_reaches_host_functions() {
    // Caller-thread mode runs an eval with an unlimited call depth on a
    // worker thread: host calls work there too.
    let limits = Limits::default().without_call_depth_limit();
    let ev = evaluator_with(
        "host.add(1, 2)",
        ThreadMode::CallerThread,
        limits,
        registry(),
    );
    assert_eq!(common::run(&ev, json!({})).unwrap(), json!(3));
    let ctx = EvalContext::with_data(json!({}))
        .unwrap()
        .with_host_data("worker".to_owned());
    let ev = evaluator_with(
        "host.tenant()",
        ThreadMode::CallerThread,
        limits,
        registry(),
    );
    assert_eq!(ev.eval(&ctx).unwrap().into_value(), json!("worker"));
}

#[test]
fn the_uncaught_error_location_is_the_call() {
    for mode in MODES {
        let err = run("\n\n  host.add(1);", mode, json!({})).unwrap_err();
        match err {
            Error::Runtime { location, .. } => {
                let location = location.expect("a location");
                assert_eq!(location.line, 3, "{mode:?}");
                assert!(location.column.is_some(), "{mode:?}: {location:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}
