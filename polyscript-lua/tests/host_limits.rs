//! Host calls under the eval's limits: time inside a call counts against
//! the deadline, interrupts cannot be caught, loops of host calls are still
//! stopped, async functions are bounded, results and arguments are charged
//! against the memory limit, and the hook's state survives a call (also one
//! that runs another eval on the same thread).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::host::{engine, evaluator_with, registry};
use polyscript_core::host::{CallContext, HostError, HostFunctions};
use polyscript_core::serde_json::{Value, json};
use polyscript_core::{CancelToken, Engine, Error, EvalContext, LimitKind, Limits, Source};

/// Generous: the checks are about stopping at all, not about precision.
const MARGIN: Duration = Duration::from_secs(5);

fn timeout(ms: u64) -> Limits {
    Limits::default()
        .with_timeout(Duration::from_millis(ms))
        .without_operation_limit()
}

fn eval(
    ev: &polyscript_core::Evaluator<polyscript_lua::LuaEngine>,
    ctx: &EvalContext,
) -> Result<Value, Error> {
    ev.eval(ctx).map(|r| r.into_value())
}

fn empty() -> EvalContext {
    EvalContext::with_data(json!({})).unwrap()
}

fn assert_timeout(outcome: Result<Value, Error>, start: Instant, what: &str) {
    match outcome {
        Err(Error::Timeout { .. }) if start.elapsed() < MARGIN => {}
        other => panic!(
            "{what}: expected a prompt Timeout, got {other:?} after {:?}",
            start.elapsed()
        ),
    }
}

#[test]
fn a_slow_host_call_times_out_and_no_protected_call_swallows_it() {
    let scripts = [
        "host.slow(60000) return 'done'",
        "local ok = pcall(host.slow, 60000) return 'swallowed'",
        "local ok = xpcall(host.slow, function(e) return e end, 60000) return 'swallowed'",
        "local co = coroutine.create(function() host.slow(60000) end) coroutine.resume(co) return 'swallowed'",
        "pcall(coroutine.wrap(function() host.slow(60000) end)) return 'swallowed'",
        "pcall(string.gsub, 'a', 'a', function() host.slow(60000) end) return 'swallowed'",
        "pcall(table.sort, { 2, 1 }, function(a, b) host.slow(60000) return a < b end) return 'swallowed'",
        // A `__close` runs while the error unwinds: its host call fails at once.
        "do local x <close> = setmetatable({}, { __close = function() host.slow(60000) end }) host.slow(60000) end",
    ];
    for script in scripts {
        let ev = evaluator_with(script, timeout(300)).unwrap();
        let start = Instant::now();
        assert_timeout(eval(&ev, &empty()), start, script);
        // The state is reused afterwards and works.
        let ok = evaluator_with("return host.add(1, 2)", timeout(300)).unwrap();
        assert_eq!(eval(&ok, &empty()).unwrap(), json!(3));
    }
}

#[test]
fn the_evaluator_keeps_working_after_a_host_call_timed_out() {
    let ev = evaluator_with("host.slow(ctx.ms) return host.add(1, 1)", timeout(300)).unwrap();
    let start = Instant::now();
    let long = EvalContext::with_data(json!({"ms": 60_000})).unwrap();
    assert_timeout(eval(&ev, &long), start, "slow");
    let quick = EvalContext::with_data(json!({"ms": 1})).unwrap();
    assert_eq!(eval(&ev, &quick).unwrap(), json!(2));
}

#[test]
fn loops_of_host_calls_are_stopped_by_every_limit() {
    for script in [
        "while true do host.add(1, 1) end",
        "while true do pcall(host.add, 1, 1) end",
        "while true do pcall(host.fail, 'again') end",
        "while true do host.echo({ 1, 2, 3 }) end",
    ] {
        let ev = evaluator_with(script, timeout(200)).unwrap();
        let start = Instant::now();
        assert_timeout(eval(&ev, &empty()), start, script);

        let ops = Limits::default()
            .with_timeout(Duration::from_secs(60))
            .with_operations(200_000);
        let ev = evaluator_with(script, ops).unwrap();
        match eval(&ev, &empty()) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Operations,
                ..
            }) => {}
            other => panic!("{script}: expected the operation limit, got {other:?}"),
        }

        let ev = evaluator_with(script, timeout(60_000)).unwrap();
        let token = CancelToken::new();
        let ctx = empty().with_cancel_token(token.clone());
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            token.cancel();
        });
        let start = Instant::now();
        let outcome = eval(&ev, &ctx);
        canceller.join().unwrap();
        match outcome {
            Err(Error::Cancelled { .. }) if start.elapsed() < MARGIN => {}
            other => panic!("{script}: expected Cancelled, got {other:?}"),
        }
    }
}

#[test]
fn a_cancelled_eval_fails_its_host_call_at_once() {
    let ev = evaluator_with(
        "local ok = pcall(host.add, 1, 1) return 'ran'",
        timeout(60_000),
    )
    .unwrap();
    let token = CancelToken::new();
    token.cancel();
    let start = Instant::now();
    match eval(&ev, &empty().with_cancel_token(token)) {
        Err(Error::Cancelled { .. }) if start.elapsed() < MARGIN => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

#[test]
fn a_host_function_that_gives_up_on_cancellation_ends_the_eval() {
    let registry = HostFunctions::new().register_with_context(
        "wait",
        |call: &CallContext<'_>, (): ()| -> Result<(), HostError> {
            loop {
                call.check().map_err(HostError::interrupt)?;
                std::thread::sleep(Duration::from_millis(5));
            }
        },
    );
    let ev = common::evaluator_with(
        engine(registry),
        "local ok = pcall(host.wait) return 'swallowed'",
        timeout(60_000),
    )
    .unwrap();
    let token = CancelToken::new();
    let ctx = empty().with_cancel_token(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        token.cancel();
    });
    let start = Instant::now();
    let outcome = eval(&ev, &ctx);
    canceller.join().unwrap();
    match outcome {
        Err(Error::Cancelled { .. }) if start.elapsed() < MARGIN => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

#[test]
fn a_stopped_eval_runs_no_host_function_while_it_unwinds() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = {
        let calls = calls.clone();
        registry().register("audit", move |(): ()| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    };
    let script = r#"
local x <close> = setmetatable({}, { __close = function() host.audit() end })
while true do end
"#;
    let limits = Limits::default()
        .with_timeout(Duration::from_secs(60))
        .with_operations(100_000);
    let ev = common::evaluator_with(engine(counted), script, limits).unwrap();
    match eval(&ev, &empty()) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            ..
        }) => {}
        other => panic!("expected the operation limit, got {other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "audit ran after the stop");
    // The same `__close` on a normal exit does call it.
    let ev = common::evaluator_with(
        engine(registry().register("audit", {
            let calls = calls.clone();
            move |(): ()| {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })),
        "local x <close> = setmetatable({}, { __close = function() host.audit() end })",
        Limits::default(),
    )
    .unwrap();
    eval(&ev, &empty()).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// A registry whose `nested` runs another Lua eval on the calling thread,
/// with `"inner"` as its host data.
fn nesting_registry() -> HostFunctions {
    let inner = common::evaluator_with(
        engine(registry()),
        "local n = 0 for i = 1, 10000 do n = n + i end return host.tenant()",
        Limits::default(),
    )
    .unwrap();
    registry().register("nested", move |(): ()| {
        let ctx = EvalContext::with_data(json!({}))
            .map_err(HostError::new)?
            .with_host_data("inner".to_owned());
        inner
            .eval(&ctx)
            .map(|r| r.into_value())
            .map_err(HostError::new)
    })
}

#[test]
fn an_eval_inside_a_host_call_leaves_the_outer_evals_checks_as_they_were() {
    let outer_ctx = || empty().with_host_data("outer".to_owned());
    let ev = common::evaluator_with(
        engine(nesting_registry()),
        "return { inner = host.nested(), outer = host.tenant() }",
        Limits::default(),
    )
    .unwrap();
    assert_eq!(
        eval(&ev, &outer_ctx()).unwrap(),
        json!({"inner": "inner", "outer": "outer"})
    );

    let looping = "host.nested() host.nested() while true do end";
    let ev = common::evaluator_with(engine(nesting_registry()), looping, timeout(300)).unwrap();
    let start = Instant::now();
    assert_timeout(eval(&ev, &outer_ctx()), start, "loop after nested evals");

    let ops = Limits::default()
        .with_timeout(Duration::from_secs(60))
        .with_operations(100_000);
    let ev = common::evaluator_with(engine(nesting_registry()), looping, ops).unwrap();
    match eval(&ev, &outer_ctx()) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Operations,
            ..
        }) => {}
        other => panic!("expected the operation limit, got {other:?}"),
    }

    let ev = common::evaluator_with(engine(nesting_registry()), looping, timeout(60_000)).unwrap();
    let token = CancelToken::new();
    let ctx = outer_ctx().with_cancel_token(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        token.cancel();
    });
    let outcome = eval(&ev, &ctx);
    canceller.join().unwrap();
    assert!(
        matches!(outcome, Err(Error::Cancelled { .. })),
        "{outcome:?}"
    );
}

fn async_registry() -> HostFunctions {
    HostFunctions::new()
        .register_async("later", |(n,): (i64,)| async move {
            std::thread::sleep(Duration::from_millis(20));
            Ok(n + 1)
        })
        .register_async("timer", |(ms,): (u64,)| async move {
            futures_timer::Delay::new(Duration::from_millis(ms)).await;
            Ok(json!({"waited": ms}))
        })
        .register_async("never", |(): ()| async {
            std::future::pending::<()>().await;
            Ok(())
        })
}

#[test]
fn async_host_functions_are_plain_calls_in_lua() {
    let ev = common::evaluator_with(
        engine(async_registry()),
        "return { later = host.later(41), timer = host.timer(30) }",
        Limits::default(),
    )
    .unwrap();
    assert_eq!(
        eval(&ev, &empty()).unwrap(),
        json!({"later": 42, "timer": {"waited": 30}})
    );
}

#[test]
fn async_host_functions_are_bounded_by_the_deadline_and_cancellation() {
    for script in [
        "host.never() return 'done'",
        "local ok = pcall(host.never) return 'swallowed'",
        "host.timer(60000) return 'done'",
    ] {
        let ev = common::evaluator_with(engine(async_registry()), script, timeout(300)).unwrap();
        let start = Instant::now();
        assert_timeout(eval(&ev, &empty()), start, script);
    }
    let ev = common::evaluator_with(
        engine(async_registry()),
        "local ok = pcall(host.never) return 'swallowed'",
        timeout(60_000),
    )
    .unwrap();
    let token = CancelToken::new();
    let ctx = empty().with_cancel_token(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        token.cancel();
    });
    let start = Instant::now();
    let outcome = eval(&ev, &ctx);
    canceller.join().unwrap();
    match outcome {
        Err(Error::Cancelled { .. }) if start.elapsed() < MARGIN => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
}

fn memory(bytes: u64) -> Limits {
    Limits::default().with_memory_bytes(bytes)
}

fn expect_memory_limit(outcome: Result<Value, Error>, needle: &str, what: &str) {
    match outcome {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            message,
            ..
        }) => assert!(message.contains(needle), "{what}: {message}"),
        other => panic!("{what}: expected the memory limit, got {other:?}"),
    }
}

#[test]
fn results_and_arguments_are_charged_against_the_memory_limit() {
    let cases = [
        (
            "local ok = pcall(host.big, 5000000) return 'swallowed'",
            "host function big: converting its result",
        ),
        (
            "local ok = pcall(host.many, 1000000) return 'swallowed'",
            "host function many: converting its result",
        ),
        (
            "local t = {} for i = 1, 100000 do t[i] = i end local ok = pcall(host.echo, 1, t) return 'swallowed'",
            "host function echo: converting argument 2",
        ),
    ];
    for (script, needle) in cases {
        let ev = evaluator_with(script, memory(4 << 20)).unwrap();
        expect_memory_limit(eval(&ev, &empty()), needle, script);
    }
    // Within the limit they are fine.
    let ev = evaluator_with(
        "return #host.big(100000) + #host.many(1000)",
        memory(4 << 20),
    )
    .unwrap();
    assert_eq!(eval(&ev, &empty()).unwrap(), json!(101_000));
}

#[test]
fn the_memory_limit_is_back_on_after_every_kind_of_host_call() {
    // Doubles a string up to 64 MiB and returns its length (a number: no
    // result budget involved). Under a 2 MiB limit it must fail.
    let bomb = "local s = 'x' for _ = 1, 26 do s = s .. s end return #s";
    for call in [
        "host.add(1, 2)",
        "host.big(1000)",
        "host.user('u1')",
        "pcall(host.fail, 'x')",
        "pcall(host.echo, print)",
        "pcall(host.boom)",
        "pcall(host.deep, 500)",
    ] {
        let script = format!("{call}\n{bomb}");
        let ev = evaluator_with(&script, memory(2 << 20)).unwrap();
        expect_memory_limit(eval(&ev, &empty()), "", call);
    }
}

/// A value that panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("dropped");
    }
}

const CHILD: &str = "POLYSCRIPT_LUA_HOST_CHILD";

/// The state's binding holds the last reference to a registry whose closure
/// panics when dropped: closing the state must not unwind into Lua's C code
/// (which would abort). Run in a child process, since that failure aborts.
#[test]
fn a_panic_while_the_state_drops_its_registry_does_not_abort() {
    if std::env::var_os(CHILD).is_some() {
        let held = PanicOnDrop;
        let registry = HostFunctions::new().register("held", move |(): ()| {
            let _ = &held;
            Ok(1)
        });
        let engine = engine(registry);
        let limits = Limits::default();
        let program = engine
            .compile(&Source::from_text("return host.held()"), &limits)
            .unwrap();
        let instance = engine.instantiate(&program, &limits).unwrap();
        drop(engine);
        drop(instance);
        println!("survived");
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_panic_while_the_state_drops_its_registry_does_not_abort",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("survived"),
        "the child failed ({:?}): {stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
