//! The repros of issue 15 ("Lua walls"), each with what it gives now.

mod common;

use std::time::{Duration, Instant};

use common::{eval, evaluator, evaluator_with};
use polyscript_core::serde_json::json;
use polyscript_core::{CancelToken, Error, EvalContext, LimitKind, Limits, Value};
use polyscript_lua::LuaEngine;

/// Generous: these check that nothing hangs, not how fast the engine is.
const MARGIN: Duration = Duration::from_secs(3);

/// The pattern bomb of the issue, in each pattern function.
const BOMBS: [&str; 4] = [
    "return string.find(string.rep('a', 3000), string.rep('a*', 25) .. 'b')",
    "return string.match(string.rep('a', 3000), string.rep('a*', 25) .. 'b')",
    "for x in string.gmatch(string.rep('a', 3000), string.rep('a*', 25) .. 'b') do end",
    "return string.gsub(string.rep('a', 3000), string.rep('a*', 25) .. 'b', 'x')",
];

fn limit_of(result: polyscript_core::Result<Value>) -> LimitKind {
    match result {
        Err(Error::LimitExceeded { limit, .. }) => limit,
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

#[test]
fn pattern_bombs_end_at_the_deadline_and_the_state_is_reused() {
    let timeout = Duration::from_millis(300);
    for bomb in BOMBS {
        let script = format!("if ctx.bomb then {bomb} end\nreturn 'clean'");
        let limits = Limits::default()
            .with_timeout(timeout)
            .without_operation_limit();
        let ev = evaluator_with(LuaEngine::new(), &script, limits).unwrap();
        let start = Instant::now();
        let outcome = eval(&ev, json!({"bomb": true}));
        let took = start.elapsed();
        assert!(
            matches!(outcome, Err(Error::Timeout { .. })),
            "{bomb}: {outcome:?}"
        );
        assert!(
            took < timeout + MARGIN,
            "{bomb}: stopped only after {took:?}"
        );
        // Same state (pool of one, not discarded), clean eval.
        assert_eq!(eval(&ev, json!({"bomb": false})).unwrap(), json!("clean"));
        assert_eq!(ev.pool_stats().discarded, 0, "{bomb}");
    }
}

#[test]
fn pattern_bombs_count_against_the_operation_budget() {
    for bomb in BOMBS {
        let limits = Limits::default()
            .with_timeout(Duration::from_secs(60))
            .with_operations(2_000_000);
        let ev = evaluator_with(LuaEngine::new(), bomb, limits).unwrap();
        assert_eq!(
            limit_of(eval(&ev, json!({}))),
            LimitKind::Operations,
            "{bomb}"
        );
    }
}

#[test]
fn pattern_bombs_can_be_cancelled() {
    let limits = Limits::default()
        .with_timeout(Duration::from_secs(60))
        .without_operation_limit();
    let ev = evaluator_with(LuaEngine::new(), BOMBS[3], limits).unwrap();
    let token = CancelToken::new();
    let ctx = EvalContext::with_data(json!({}))
        .unwrap()
        .with_cancel_token(token.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        token.cancel();
    });
    let start = Instant::now();
    let outcome = ev.eval(&ctx);
    canceller.join().unwrap();
    assert!(
        matches!(outcome, Err(Error::Cancelled { .. })),
        "{outcome:?}"
    );
    assert!(start.elapsed() < MARGIN, "{:?}", start.elapsed());
}

#[test]
fn pcall_cannot_catch_an_interrupted_pattern() {
    let limits = Limits::default()
        .with_timeout(Duration::from_millis(200))
        .without_operation_limit();
    let script = format!(
        "while true do pcall(function() {} end) end",
        BOMBS[0].trim_start_matches("return ")
    );
    let ev = evaluator_with(LuaEngine::new(), &script, limits).unwrap();
    let start = Instant::now();
    assert!(matches!(eval(&ev, json!({})), Err(Error::Timeout { .. })));
    assert!(start.elapsed() < Duration::from_millis(200) + MARGIN);
}

#[test]
fn a_looping_gsub_replacement_is_stopped() {
    let limits = Limits::default().with_timeout(Duration::from_millis(200));
    let ev = evaluator_with(
        LuaEngine::new(),
        "return (string.gsub('abc', '%w', function(c) while true do end end))",
        limits,
    )
    .unwrap();
    assert!(matches!(eval(&ev, json!({})), Err(Error::Timeout { .. })));
}

/// Runs `hostile` and then `clean` on the same state (pool of one).
fn hostile_then_clean(hostile: &str, clean: &str, data: Value) -> Value {
    let script = format!("if ctx.hostile then\n{hostile}\nreturn 'hostile done' end\n{clean}");
    let ev = evaluator(&script).unwrap();
    let mut hostile_data = data.clone();
    hostile_data["hostile"] = json!(true);
    let _ = eval(&ev, hostile_data);
    let got = eval(&ev, data).unwrap();
    assert_eq!(ev.pool_stats().created, 1, "the same state ran both");
    got
}

#[test]
fn rawset_on_a_library_does_not_outlive_the_eval() {
    let got = hostile_then_clean(
        "rawset(math, 'pi', 3)",
        "return { pi = math.pi, raw = rawget(math, 'pi') }",
        json!({}),
    );
    assert_eq!(got, json!({"pi": std::f64::consts::PI}));
}

#[test]
fn string_methods_cannot_be_replaced() {
    for hostile in [
        "rawset(string, 'upper', function() return 'pwned' end)",
        "local _, lib = pairs(string); rawset(lib, 'upper', function() return 'pwned' end)",
        "for k in pairs(string) do end; local it, t = pairs(string); rawset(t, 'upper', print)",
        "local f = next(string); rawset(string, f or 'upper', print)",
    ] {
        let got = hostile_then_clean(
            &format!("pcall(function() {hostile} end)"),
            "return { ('abc'):upper(), string.upper('abc') }",
            json!({}),
        );
        assert_eq!(got, json!(["ABC", "ABC"]), "{hostile}");
    }
}

#[test]
fn one_callers_secret_does_not_reach_the_next() {
    let got = hostile_then_clean(
        "pcall(rawset, math, 'leak', ctx.secret)\npcall(function() math.leak = ctx.secret end)",
        "return { leak = math.leak, secret = ctx.secret }",
        json!({"secret": "mine"}),
    );
    // The clean eval sees its own secret and nothing else.
    assert_eq!(got, json!({"secret": "mine"}));
}

#[test]
fn pairs_does_not_hand_out_the_real_table() {
    let got = common::run(
        r#"
local iter, state, first = pairs(string)
local names = 0
for k, v in pairs(string) do names = names + 1 end
return {
  state_is_view = rawequal(state, string),
  raw_next = next(string) == nil,
  names = names > 10,
  set = pcall(rawset, state, "x", 1),
}
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"state_is_view": true, "raw_next": true, "names": true, "set": false})
    );
}

#[test]
fn finalizers_cannot_be_set() {
    match common::run("setmetatable({}, {__gc = function() end})", json!({})) {
        Err(Error::Runtime { message, .. }) => assert!(message.contains("__gc"), "{message}"),
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn a_finalizer_cannot_rewrite_the_next_input() {
    let got = hostile_then_clean(
        "pcall(setmetatable, {}, {__gc = function() ctx = {n = -1} end})\n\
         setmetatable({}, {__gc = function() ctx = {n = -1} end})",
        "collectgarbage()\ncollectgarbage()\nreturn ctx.n",
        json!({"n": 7}),
    );
    assert_eq!(got, json!(7));
}

#[test]
fn a_looping_finalizer_cannot_hang_the_next_eval() {
    let script = "if ctx.hostile then setmetatable({}, {__gc = function() while true do end end}) end\n\
                  collectgarbage()\nreturn 'done'";
    let ev = evaluator_with(
        LuaEngine::new(),
        script,
        Limits::default().with_timeout(Duration::from_secs(2)),
    )
    .unwrap();
    assert!(matches!(
        eval(&ev, json!({"hostile": true})),
        Err(Error::Runtime { .. })
    ));
    let start = Instant::now();
    assert_eq!(eval(&ev, json!({"hostile": false})).unwrap(), json!("done"));
    assert!(start.elapsed() < MARGIN);
}

#[test]
fn a_caught_memory_error_ends_the_eval() {
    for script in [
        "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end) end",
        "while true do pcall(function() local s = 'x' while true do s = s .. s end end) end",
        "while true do pcall(string.rep, 'x', 1 << 30) end",
        "while true do xpcall(function() local s = 'x' while true do s = s .. s end end, print) end",
        "while true do coroutine.resume(coroutine.create(function() local s = 'x' while true do s = s .. s end end)) end",
        "while true do pcall(coroutine.wrap(function() local s = 'x' while true do s = s .. s end end)) end",
    ] {
        let ev = evaluator(script).unwrap();
        let start = Instant::now();
        let outcome = eval(&ev, json!({}));
        let took = start.elapsed();
        assert_eq!(limit_of(outcome), LimitKind::Memory, "{script}");
        // Well before the 5 s deadline: the first caught error ends it.
        assert!(took < Duration::from_secs(4), "{script}: {took:?}");
    }
}

#[test]
fn a_memory_error_through_coroutine_wrap_is_a_memory_error() {
    let ev =
        evaluator("coroutine.wrap(function() local s = 'x' while true do s = s .. s end end)()")
            .unwrap();
    assert_eq!(limit_of(eval(&ev, json!({}))), LimitKind::Memory);
}

fn invalid_data_at(result: polyscript_core::Result<Value>) -> (String, String) {
    match result {
        Err(Error::InvalidData {
            message,
            path: Some(path),
            ..
        }) => (path, message),
        other => panic!("expected InvalidData with a path, got {other:?}"),
    }
}

#[test]
fn mixed_and_sparse_tables_are_refused_not_truncated() {
    let (path, message) = invalid_data_at(common::run("return {1, 2, x = 3}", json!({})));
    assert_eq!(path, "result");
    assert!(
        message.contains("both list items") && message.contains("\"x\""),
        "{message}"
    );

    let (path, message) = invalid_data_at(common::run("return {[1] = 'a', [3] = 'c'}", json!({})));
    assert_eq!(path, "result");
    assert!(
        message.contains("sparse") && message.contains("index 2"),
        "{message}"
    );

    let (path, _) = invalid_data_at(common::run("return {a = {b = {1, nil, 3}}}", json!({})));
    assert_eq!(path, "result.a.b");
}
