//! Runaway scripts end with typed errors, never a crash or a hang.

mod common;

use std::time::Duration;

use common::{eval, evaluator, evaluator_with};
use polyscript_core::serde_json::json;
use polyscript_core::{Error, LimitKind, Limits};
use polyscript_lua::LuaEngine;

fn limit_of(result: polyscript_core::Result<polyscript_core::Value>) -> LimitKind {
    match result {
        Err(Error::LimitExceeded { limit, .. }) => limit,
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

fn small_memory() -> Limits {
    Limits::default().with_memory_bytes(4 * 1024 * 1024)
}

#[test]
fn unbounded_recursion_hits_the_call_depth_limit() {
    let ev = evaluator("local function f() return f() + 1 end\nreturn f()").unwrap();
    assert_eq!(limit_of(eval(&ev, json!({}))), LimitKind::CallDepth);
    // The state is still usable.
    assert!(matches!(
        eval(&ev, json!({})),
        Err(Error::LimitExceeded { .. })
    ));
}

#[test]
fn without_a_depth_limit_lua_stack_overflow_is_a_call_depth_error() {
    // Lua's stack tops out near a million slots; give it the memory to get
    // there (with the default 64 MiB the memory limit may come first).
    let limits = Limits::default()
        .without_call_depth_limit()
        .with_memory_bytes(512 * 1024 * 1024);
    let ev = evaluator_with(
        LuaEngine::new(),
        "local function f() return f() + 1 end\nreturn f()",
        limits,
    )
    .unwrap();
    assert_eq!(limit_of(eval(&ev, json!({}))), LimitKind::CallDepth);
}

#[test]
fn c_stack_recursion_ends_cleanly() {
    let limits = Limits::default().without_call_depth_limit();
    for script in [
        // Each level goes through a C function (gsub calling back into Lua).
        "local function f(s) return (string.gsub(s, '.', f)) end\nreturn f('a')",
        "local function f() return pcall(f) end\nreturn f()",
        "local t = setmetatable({}, {})\ngetmetatable(t).__index = function(t, k) return t[k] end\nreturn t.x",
    ] {
        let ev = evaluator_with(LuaEngine::new(), script, limits).unwrap();
        match eval(&ev, json!({})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::CallDepth,
                ..
            })
            | Err(Error::Runtime { .. }) => {}
            // The innermost pcall catches "C stack overflow"; the others succeed.
            Ok(value) if script.contains("pcall") => assert_eq!(value, json!(true), "{script}"),
            other => panic!("{script}: expected an error, got {other:?}"),
        }
    }
}

#[test]
fn string_rep_bomb_is_a_memory_error() {
    let ev = evaluator_with(
        LuaEngine::new(),
        "return #string.rep('x', 1 << 30)",
        small_memory(),
    )
    .unwrap();
    assert_eq!(limit_of(eval(&ev, json!({}))), LimitKind::Memory);
}

#[test]
fn table_bomb_is_a_memory_error_and_the_state_is_replaced() {
    let ev = evaluator_with(
        LuaEngine::new(),
        "if ctx.bomb then local t = {} for i = 1, math.maxinteger do t[i] = i end end\nreturn 1",
        small_memory(),
    )
    .unwrap();
    assert_eq!(
        limit_of(eval(&ev, json!({"bomb": true}))),
        LimitKind::Memory
    );
    assert_eq!(eval(&ev, json!({"bomb": false})).unwrap(), json!(1));
    let stats = ev.pool_stats();
    assert!(stats.discarded >= 1, "{stats:?}");
}

#[test]
fn pcall_cannot_swallow_a_timeout() {
    let limits = Limits::default().with_timeout(Duration::from_millis(100));
    let ev = evaluator_with(
        LuaEngine::new(),
        r#"
while true do
  pcall(function() while true do end end)
  coroutine.resume(coroutine.create(function() while true do end end))
  xpcall(function() while true do end end, function(e) while true do end end)
end
"#,
        limits,
    )
    .unwrap();
    assert!(matches!(eval(&ev, json!({})), Err(Error::Timeout { .. })));
}

#[test]
fn a_loop_inside_a_coroutine_is_stopped() {
    let limits = Limits::default().with_operations(50_000);
    let ev = evaluator_with(
        LuaEngine::new(),
        "local co = coroutine.wrap(function() while true do end end)\nco()",
        limits,
    )
    .unwrap();
    assert_eq!(limit_of(eval(&ev, json!({}))), LimitKind::Operations);
}

#[test]
fn the_state_is_reused_after_a_timeout() {
    let ev = evaluator_with(
        LuaEngine::new(),
        "if ctx.spin then while true do end end\nreturn 'ok'",
        Limits::default().with_timeout(Duration::from_millis(50)),
    )
    .unwrap();
    assert!(matches!(
        eval(&ev, json!({"spin": true})),
        Err(Error::Timeout { .. })
    ));
    assert_eq!(eval(&ev, json!({"spin": false})).unwrap(), json!("ok"));
    assert_eq!(ev.pool_stats().discarded, 0, "{:?}", ev.pool_stats());
}
