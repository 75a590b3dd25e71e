//! Host functions in Rhai: `host.NAME(...)` from everywhere a script can
//! run code, the errors scripts can and cannot catch, limits around and
//! inside host calls, bounded arguments and results, isolation, sharing.
//! Runs without the accounting allocator (memory bounded by rhai's per-value
//! limits and the converters' budget); `host_metered.rs` runs it again with
//! the allocator.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::kind;
use polyscript_core::host::{CallContext, HostError, HostFunctions};
use polyscript_core::testkit;
use polyscript_core::{
    CancelToken, Error, EvalContext, Evaluator, LimitKind, Limits, PoolConfig, Source, Value,
};
use polyscript_rhai::{RhaiEngine, rhai};
use serde_json::json;

/// Generous bound for "stopped promptly" (debug builds, a shared machine).
const MARGIN: Duration = Duration::from_secs(15);

/// The conformance kit's functions, and more:
///
/// * `echo(args...)`: its arguments, as a list
/// * `nested(n)`: a list nested `n` levels around 0
/// * `text(n)`: a string of `n` bytes
/// * `records(n)`: a list of `n` small maps
/// * `boom()`: panics
/// * `stop()`: asks to stop the eval with its own error
/// * `wait(ms)`: async, waits `ms` milliseconds on a timer
/// * `stack()`: how much stack `stacker` sees where host functions run
fn registry() -> HostFunctions {
    testkit::host_functions()
        .register("echo", |args: Vec<Value>| Ok(args))
        .register("nested", |(depth,): (usize,)| {
            Ok((0..depth).fold(json!(0), |inner, _| json!([inner])))
        })
        .register("text", |(bytes,): (usize,)| Ok("x".repeat(bytes)))
        .register("records", |(n,): (usize,)| {
            Ok((0..n)
                .map(|i| json!({"i": i, "name": format!("r{i}")}))
                .collect::<Vec<_>>())
        })
        .register("boom", |(): ()| -> Result<(), HostError> {
            panic!("the host gave up")
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
        .register_async("wait", |(ms,): (u64,)| async move {
            futures_timer::Delay::new(Duration::from_millis(ms)).await;
            Ok(ms)
        })
        .register("stack", |(): ()| {
            Ok(stacker::remaining_stack().unwrap_or(0) as u64)
        })
}

fn engine() -> RhaiEngine {
    RhaiEngine::builder().host_functions(registry()).build()
}

fn evaluator_with(engine: RhaiEngine, script: &str, limits: Limits) -> Evaluator<RhaiEngine> {
    Evaluator::builder(engine, Source::from_text(script))
        .limits(limits)
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

fn evaluator(script: &str) -> Evaluator<RhaiEngine> {
    evaluator_with(engine(), script, Limits::default())
}

fn eval_on(ev: &Evaluator<RhaiEngine>, data: Value) -> Result<Value, Error> {
    ev.eval(&EvalContext::with_data(data)?)
        .map(|r| r.into_value())
}

fn eval(script: &str) -> Result<Value, Error> {
    eval_on(&evaluator(script), json!({}))
}

fn runtime_message(outcome: Result<Value, Error>) -> String {
    match outcome {
        Err(Error::Runtime { message, .. }) => message,
        other => panic!("expected Error::Runtime, got {other:?}"),
    }
}

#[test]
fn calls_with_arguments_and_results_of_every_kind() {
    let got = eval(
        r#"
        let user = host.user("u7");
        #{
            sum: host.add(40, 2),
            name: user.name,
            tags: user.tags.len(),
            echo: host.echo(1, 2.5, "s", true, (), [1, [2]], #{ a: #{ b: 'c' } }),
            none: host.echo(),
            eight: host.echo(1, 2, 3, 4, 5, 6, 7, 8).len(),
            plain: add(host, 1, 2),
        }
        "#,
    )
    .unwrap();
    assert_eq!(
        got,
        json!({
            "sum": 42, "name": "User u7", "tags": 2,
            "echo": [1, 2.5, "s", true, null, [1, [2]], {"a": {"b": "c"}}],
            "none": [], "eight": 8, "plain": 3,
        })
    );
}

#[test]
fn host_calls_work_from_callbacks_closures_functions_and_function_pointers() {
    let script = r#"
        fn in_function(x) { host.add(x, 100) }
        fn closure_in_function(list) { list.map(|x| host.add(x, 1000)) }
        let list = [3, 1, 2];
        let sorted = list;
        sorted.sort(|a, b| host.add(a, -b));
        let closure = |x| host.add(x, 10);
        let nested = |x| [x].map(|y| host.add(y, host.add(1, 1)));
        #{
            map: list.map(|x| host.add(x, 1)),
            filter: list.filter(|x| host.add(x, 0) > 1),
            reduce: list.reduce(|sum, x| host.add(sum, x), 0),
            sort: sorted,
            some: list.some(|x| host.add(x, 0) == 2),
            all: list.all(|x| host.add(x, 0) > 0),
            function: in_function(1),
            closure_in_function: closure_in_function([1]),
            closure: closure.call(1),
            nested: nested.call(5),
            pointer: Fn("add").call(host, 2, 3),
            curried: Fn("add").curry(host).call(4, 5),
            tenant: list.map(|x| host.tenant()),
        }
    "#;
    let ev = evaluator(script);
    let ctx = EvalContext::with_data(json!({}))
        .unwrap()
        .with_host_data("tenant-9".to_owned());
    let got = ev.eval(&ctx).unwrap().into_value();
    assert_eq!(
        got,
        json!({
            "map": [4, 2, 3], "filter": [3, 2], "reduce": 6, "sort": [1, 2, 3],
            "some": true, "all": true, "function": 101, "closure_in_function": [1001],
            "closure": 11, "nested": [7], "pointer": 5, "curried": 9,
            "tenant": ["tenant-9", "tenant-9", "tenant-9"],
        })
    );
}

#[test]
fn strict_variables_and_full_optimization_keep_host_calls_at_eval_time() {
    let calls = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let registry = HostFunctions::new().register("count", move |(): ()| {
        Ok(counted.fetch_add(1, Ordering::SeqCst) + 1)
    });
    let engine = RhaiEngine::builder()
        .strict_variables(true)
        .optimization_level(rhai::OptimizationLevel::Full)
        .host_functions(registry)
        .build();
    let script = r#"
        fn f() { host.count() }
        let g = || host.count();
        [host.count(), f(), g.call()]
    "#;
    let ev = evaluator_with(engine, script, Limits::default());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "nothing ran while compiling"
    );
    assert_eq!(eval_on(&ev, json!({})).unwrap(), json!([1, 2, 3]));
    assert_eq!(eval_on(&ev, json!({})).unwrap(), json!([4, 5, 6]));
}

#[test]
fn a_host_error_is_catchable_and_uncaught_names_the_function() {
    let caught = eval(
        r#"
        let caught = [];
        try { host.fail("out of stock"); } catch (e) { caught.push(e); }
        try { host.add(1); } catch (e) { caught.push(e); }
        try { host.add("1", 2); } catch (e) { caught.push(e); }
        try { host.boom(); } catch (e) { caught.push(e); }
        try { host.nested(200); } catch (e) { caught.push(e); }
        caught
        "#,
    )
    .unwrap();
    let caught: Vec<&str> = caught
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(caught[0], "fail: out of stock");
    assert_eq!(caught[1], "add: takes 2 arguments, got 1");
    assert!(
        caught[2].starts_with("add: argument 1: invalid type: string"),
        "{}",
        caught[2]
    );
    assert_eq!(caught[3], "boom: panicked: the host gave up");
    assert!(
        caught[4].starts_with("nested: its result: ") && caught[4].contains("deeper than 128"),
        "{}",
        caught[4]
    );

    match eval("let a = 1;\nhost.fail(\"no such user\");\na") {
        Err(Error::Runtime {
            message,
            location,
            script_id,
            ..
        }) => {
            assert!(message.contains("fail: no such user"), "{message}");
            assert_eq!(location.map(|l| l.line), Some(2));
            assert_eq!(
                script_id,
                Source::from_text("let a = 1;\nhost.fail(\"no such user\");\na").id()
            );
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    let message = runtime_message(eval("host.add(1)"));
    assert!(
        message.contains("add: takes 2 arguments, got 1"),
        "{message}"
    );
}

#[test]
fn a_panicking_host_function_leaves_the_instance_working() {
    let ev = evaluator("if ctx.panic { host.boom() } else { host.add(1, 2) }");
    let message = runtime_message(eval_on(&ev, json!({"panic": true})));
    assert!(
        message.contains("boom: panicked: the host gave up"),
        "{message}"
    );
    assert_eq!(eval_on(&ev, json!({"panic": false})).unwrap(), json!(3));
    assert_eq!(ev.pool_stats().created, 1, "the same instance");
}

#[test]
fn an_argument_with_no_json_form_is_a_catchable_error_naming_it() {
    let cases = [
        (
            "host.echo(1, Fn(\"add\"))",
            "echo: argument 2: a rhai function pointer (Fn(add))",
        ),
        (
            "host.echo(|x| x)",
            "echo: argument 1: a rhai function pointer",
        ),
        (
            "host.echo(timestamp())",
            "echo: argument 1: a rhai timestamp",
        ),
        ("host.echo(1..3)", "echo: argument 1: a rhai range"),
        ("host.echo(host)", "echo: argument 1: the `host` object"),
        (
            "host.echo(#{ a: [1, Fn(\"f\")] })",
            "echo: argument 1.a[1]: a rhai function pointer",
        ),
        (
            "host.echo(0.0 / 0.0)",
            "echo: argument 1: the number NaN has no JSON form",
        ),
    ];
    for (call, expected) in cases {
        let script = format!("let e = (); try {{ {call}; }} catch (err) {{ e = err; }} e");
        let got = eval(&script).unwrap();
        assert!(
            got.as_str().is_some_and(|s| s.starts_with(expected)),
            "{call}: {got}"
        );
        let message = runtime_message(eval(call));
        assert!(message.contains(expected), "{call}: {message}");
    }
}

#[test]
fn missing_functions_and_too_many_arguments_are_clear_errors() {
    let message = runtime_message(eval("host.nope(1)"));
    assert!(
        message.starts_with("no host function named `nope` (registered: add, boom, echo,"),
        "{message}"
    );
    let message = runtime_message(eval("host.echo(1, 2, 3, 4, 5, 6, 7, 8, 9)"));
    assert!(
        message.contains("echo: called with 9 arguments; Rhai scripts can pass at most 8"),
        "{message}"
    );
    // Inside the script, rhai's own error, catchable.
    let caught =
        eval("let e = (); try { host.nope(); } catch (err) { e = err.message; } e").unwrap();
    assert_eq!(caught, json!("Function not found: nope (host)"));
    // Without a registry `host` exists, with nothing in it.
    for engine in [
        RhaiEngine::new(),
        RhaiEngine::builder()
            .host_functions(HostFunctions::new())
            .build(),
    ] {
        let ev = evaluator_with(engine, "host.add(1, 2)", Limits::default());
        let message = runtime_message(eval_on(&ev, json!({})));
        assert_eq!(message, "no host function named `add` (none is registered)");
    }
}

#[test]
fn the_deadline_stops_a_slow_or_async_call_and_try_cannot_catch_it() {
    let limits = Limits::default().with_timeout(Duration::from_millis(300));
    for script in [
        "loop { try { host.slow(50); } catch (e) { } }",
        "loop { try { host.wait(60000); } catch (e) { } }",
        "[1, 2].map(|x| { try { host.wait(60000) } catch (e) { 0 } })",
    ] {
        let ev = evaluator_with(engine(), script, limits);
        let start = Instant::now();
        let outcome = eval_on(&ev, json!({}));
        assert_eq!(kind(&outcome), "timeout", "{script}: {outcome:?}");
        assert!(start.elapsed() < MARGIN, "{script}: {:?}", start.elapsed());
    }
    // An async function that is quick returns its value.
    let ev = evaluator_with(engine(), "host.wait(5) + host.wait(1)", limits);
    assert_eq!(eval_on(&ev, json!({})).unwrap(), json!(6));
}

#[test]
fn a_loop_of_host_calls_is_stopped_by_every_limit() {
    let script = "loop { try { host.add(1, 1); } catch (e) { } }";
    let ops = Limits::default().with_operations(10_000);
    assert_eq!(
        kind(&eval_on(&evaluator_with(engine(), script, ops), json!({}))),
        "operations"
    );

    let timeout = Limits::default()
        .with_timeout(Duration::from_millis(200))
        .without_operation_limit();
    let start = Instant::now();
    let outcome = eval_on(&evaluator_with(engine(), script, timeout), json!({}));
    assert_eq!(kind(&outcome), "timeout");
    assert!(start.elapsed() < MARGIN);

    let ev = evaluator_with(
        engine(),
        script,
        Limits::default()
            .with_timeout(Duration::from_secs(60))
            .without_operation_limit(),
    );
    let token = CancelToken::new();
    let ctx = EvalContext::with_data(json!({}))
        .unwrap()
        .with_cancel_token(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        token.cancel();
    });
    let start = Instant::now();
    let outcome = ev.eval(&ctx).map(|r| r.into_value());
    canceller.join().unwrap();
    assert_eq!(kind(&outcome), "cancelled");
    assert!(start.elapsed() < MARGIN);

    // Runaway recursion through host calls.
    let deep = "fn down(n) { host.add(n, 1); down(n + 1) }\ndown(0)";
    assert_eq!(kind(&eval(deep)), "call_depth");
}

#[test]
fn a_host_function_can_stop_the_eval_with_its_own_error() {
    match eval("loop { try { host.stop(); } catch (e) { } }") {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            message,
            ..
        }) => assert_eq!(message, "the host's own reason"),
        other => panic!("expected the host's error, got {other:?}"),
    }
}

#[test]
fn results_are_bounded_by_the_data_depth_and_the_memory_limit() {
    // Too deep: the script's to catch.
    let message = runtime_message(eval("host.nested(200)"));
    assert!(message.contains("nested: its result: "), "{message}");
    assert_eq!(kind(&eval("host.nested(100)")), "ok");
    // Larger than the memory limit: the eval stops, whatever catches.
    let limits = Limits::default().with_memory_bytes(1 << 20);
    for script in [
        "try { host.text(4000000) } catch (e) { 0 }",
        "try { host.records(100000) } catch (e) { 0 }",
    ] {
        match eval_on(&evaluator_with(engine(), script, limits), json!({})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                message,
                ..
            }) => assert!(
                message.starts_with("host function ") && message.contains("converting its result"),
                "{message}"
            ),
            other => panic!("{script}: expected LimitExceeded(Memory), got {other:?}"),
        }
    }
    // Within it, fine.
    let ev = evaluator_with(engine(), "host.text(100000).len()", limits);
    assert_eq!(eval_on(&ev, json!({})).unwrap(), json!(100_000));
}

#[test]
fn arguments_are_bounded_by_the_data_depth_and_the_memory_limit() {
    let deep = "let a = 0; for i in 0..200 { a = [a]; } host.echo(a)";
    let message = runtime_message(eval(deep));
    assert!(
        message.contains("echo: argument 1[0][0]") && message.contains("deeper than 128"),
        "{message}"
    );
    // One captured (shared) string referred to 2 000 times expands past the
    // limit when converted (a map's new keys are not size-checked by rhai,
    // so this holds without the accounting allocator too).
    let expanding = r#"
        let s = "x";
        s.pad(10000, "y");
        let f = || s;
        let m = #{};
        for i in 0..2000 { m["k" + i] = f.call(); }
        try { host.echo(1, m) } catch (e) { 0 }
    "#;
    let limits = Limits::default().with_memory_bytes(4 << 20);
    match eval_on(&evaluator_with(engine(), expanding, limits), json!({})) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            message,
            ..
        }) => assert!(
            message.contains("host function echo: converting argument 2"),
            "{message}"
        ),
        other => panic!("expected LimitExceeded(Memory), got {other:?}"),
    }
}

#[test]
fn host_functions_run_on_a_stack_stacker_knows() {
    // On the eval's own stack `stacker` would see no room at all (and map a
    // new segment for every level of every walk over data).
    let left = eval("host.stack()").unwrap().as_u64().unwrap();
    assert!(left >= 256 << 10, "{left} bytes");
    let left = eval("[1].map(|x| host.stack())[0]")
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(left >= 256 << 10, "{left} bytes");
    // Many records back and forth.
    let got = eval("let r = host.records(2000); host.echo(r, r)[1][1999].name").unwrap();
    assert_eq!(got, json!("r1999"));
}

#[test]
fn nothing_a_script_does_to_host_survives_the_eval() {
    let ev = evaluator(
        r#"
        switch ctx.step {
            1 => { let host = 5; host }
            2 => { try { host.x = 1; } catch (e) { } try { host = 1; } catch (e) { } "tried" }
            3 => { const host = "mine"; host }
            _ => host.add(1, 2),
        }
        "#,
    );
    for step in [1, 0, 2, 0, 3, 0] {
        let got = eval_on(&ev, json!({"step": step})).unwrap();
        let expected = match step {
            1 => json!(5),
            2 => json!("tried"),
            3 => json!("mine"),
            _ => json!(3),
        };
        assert_eq!(got, expected, "step {step}");
    }
    assert_eq!(ev.pool_stats().created, 1, "one instance for all");
    let message = runtime_message(eval("host = 1"));
    assert!(message.contains("Cannot modify constant host"), "{message}");
    // A script's own `let host` shadows it in closures and functions too.
    let got =
        eval("let host = #{ add: 1 }; let f = || host.add; fn g(host) { host } [f.call(), g(7)]")
            .unwrap();
    assert_eq!(got, json!([1, 7]));
}

#[test]
fn one_registry_serves_engines_and_threads() {
    let calls = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&calls);
    let registry = HostFunctions::new()
        .register("count", move |(): ()| {
            Ok(counted.fetch_add(1, Ordering::SeqCst))
        })
        .register_with_context("tenant", |call: &CallContext<'_>, (): ()| {
            Ok(call.data::<String>().cloned())
        });
    let plain = RhaiEngine::builder()
        .host_functions(registry.clone())
        .build();
    let strict = RhaiEngine::builder()
        .strict_variables(true)
        .host_functions(registry)
        .build();
    let script = "host.count(); [1, 2].map(|x| host.tenant())";
    let evaluators: Vec<_> = [plain, strict]
        .into_iter()
        .map(|engine| {
            Evaluator::builder(engine, Source::from_text(script))
                .build()
                .unwrap()
        })
        .collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let ev = &evaluators[t % 2];
            s.spawn(move || {
                for i in 0..50 {
                    let tenant = format!("t{t}-{i}");
                    let ctx = EvalContext::with_data(json!({}))
                        .unwrap()
                        .with_host_data(tenant.clone());
                    let got = ev.eval(&ctx).unwrap().into_value();
                    assert_eq!(got, json!([tenant, tenant]));
                }
            });
        }
    });
    assert_eq!(calls.load(Ordering::SeqCst), 200);
}

#[test]
fn a_host_function_may_run_another_eval() {
    let inner = Arc::new(
        Evaluator::new(
            engine(),
            Source::from_text("host.add(ctx.n, 1) + host.tenant().len()"),
        )
        .unwrap(),
    );
    let registry =
        registry().register_with_context("inner", move |call: &CallContext<'_>, (n,): (i64,)| {
            let ctx = EvalContext::with_data(json!({"n": n}))
                .map_err(HostError::new)?
                .with_host_data("inner".to_owned());
            let value = inner.eval(&ctx).map_err(HostError::new)?.into_value();
            // The outer eval's data again, after the inner eval.
            Ok(json!([value, call.data::<String>()]))
        });
    let engine = RhaiEngine::builder().host_functions(registry).build();
    let ev = evaluator_with(
        engine,
        "let r = host.inner(1); r.push(host.tenant()); r",
        Limits::default(),
    );
    let ctx = EvalContext::with_data(json!({}))
        .unwrap()
        .with_host_data("outer".to_owned());
    let got = ev.eval(&ctx).unwrap().into_value();
    assert_eq!(got, json!([7, "outer", "outer"]));
}
