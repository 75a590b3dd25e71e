//! The Lua items of issue 14 ("data bounds"): deep input and results, shared
//! (DAG) results, cycles and the number rule, both ways.

mod common;

use std::time::{Duration, Instant};

use common::{eval, evaluator, evaluator_with, run};
use polyscript_core::serde_json::{self, json};
use polyscript_core::testkit::nested_list;
use polyscript_core::{Error, LimitKind, Limits, Value};
use polyscript_lua::LuaEngine;

fn invalid_data(result: polyscript_core::Result<Value>) -> (String, String) {
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
fn a_dag_result_is_a_memory_limit_fast() {
    // The repro: 41 tables, 2^41 - 1 nodes once expanded.
    let ev = evaluator("local x = {} for i = 1, 40 do x = {x, x} end return x").unwrap();
    let start = Instant::now();
    match eval(&ev, json!({})) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            message,
            ..
        }) => assert!(message.contains("converting the result"), "{message}"),
        other => panic!("expected LimitExceeded(Memory), got {other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

/// The DAG's conversion stays near the memory limit: run in a child process
/// (so that a runaway shows as this test failing, not as the test runner
/// dying), reading its peak resident memory afterwards.
#[test]
fn a_dag_result_keeps_resident_memory_bounded() {
    const CHILD: &str = "POLYSCRIPT_LUA_DAG_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let limits = Limits::default().with_memory_bytes(16 * 1024 * 1024);
        let ev = evaluator_with(
            LuaEngine::new(),
            "local x = {} for i = 1, 40 do x = {x, x} end return x",
            limits,
        )
        .unwrap();
        let outcome = eval(&ev, json!({}));
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let peak_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        println!(
            "outcome={} peak_kib={peak_kib}",
            matches!(
                outcome,
                Err(Error::LimitExceeded {
                    limit: LimitKind::Memory,
                    ..
                })
            )
        );
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_dag_result_keeps_resident_memory_bounded",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the child failed: {stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("outcome="))
        .unwrap_or_else(|| panic!("no report from the child: {stdout}"));
    assert!(line.starts_with("outcome=true"), "{line}");
    let peak_kib: u64 = line.rsplit('=').next().unwrap().parse().unwrap();
    // A 16 MiB limit; the test binary itself takes some tens of MiB.
    if peak_kib > 0 {
        assert!(peak_kib < 256 * 1024, "peak resident memory {peak_kib} KiB");
    }
}

#[test]
fn deep_results_are_invalid_data_with_the_path() {
    let ev = evaluator("local v = 0 for i = 1, ctx.n do v = { v } end return v").unwrap();
    for n in [129, 10_000, 100_000] {
        let (path, message) = invalid_data(eval(&ev, json!({ "n": n })));
        assert!(path.starts_with("result[0][0]"), "{n}: {path}");
        assert!(message.contains("128"), "{message}");
    }
    assert_eq!(eval(&ev, json!({"n": 127})).unwrap(), nested_list(127));
    // The bound follows Limits::data_depth.
    let shallow = evaluator_with(
        LuaEngine::new(),
        "local v = 0 for i = 1, ctx.n do v = { v } end return v",
        Limits::default().with_data_depth(8),
    )
    .unwrap();
    assert_eq!(eval(&shallow, json!({"n": 8})).unwrap(), nested_list(8));
    invalid_data(eval(&shallow, json!({"n": 9})));
}

#[test]
fn deep_input_is_invalid_data_with_the_path() {
    let ev = evaluator_with(
        LuaEngine::new(),
        "return 1",
        Limits::default().with_data_depth(16),
    )
    .unwrap();
    let (path, _) = invalid_data(eval(&ev, json!({ "a": nested_list(40) })));
    assert!(path.starts_with("ctx.a[0][0]"), "{path}");
    assert_eq!(
        eval(&ev, json!({ "a": nested_list(14) })).unwrap(),
        json!(1)
    );
}

#[test]
fn cycles_are_invalid_data_with_the_path() {
    let (path, message) = invalid_data(run(
        "local t = { a = { b = {} } } t.a.b.c = t return t",
        json!({}),
    ));
    assert_eq!(path, "result.a.b.c");
    assert!(message.contains("cycle"), "{message}");
    let (path, _) = invalid_data(run("local l = {} l[1] = {1, l} return l", json!({})));
    assert_eq!(path, "result[0][1]");
}

#[test]
fn shared_values_that_are_not_cycles_are_fine() {
    assert_eq!(
        run(
            "local s = {1} return { a = s, b = s, c = {s, s} }",
            json!({})
        )
        .unwrap(),
        json!({"a": [1], "b": [1], "c": [[1], [1]]})
    );
}

#[test]
fn the_number_rule_in_lua() {
    // Integers above i64::MAX cannot be Lua integers: refused, not rounded.
    let (path, message) = invalid_data(run("return 1", json!({"n": [1, u64::MAX]})));
    assert_eq!(path, "ctx.n[1]");
    assert!(message.contains("18446744073709551615"), "{message}");
    // Non-finite results name their path.
    for (script, want) in [
        ("return { n = 0/0 }", "result.n"),
        ("return { a = { 1/0 } }", "result.a[0]"),
        ("return -math.huge", "result"),
    ] {
        let (path, message) = invalid_data(run(script, json!({})));
        assert_eq!(path, want, "{script}");
        assert!(message.contains("no JSON form"), "{message}");
    }
    // Integers stay integers, floats floats, -0.0 keeps its sign.
    let got = run(
        "return { ctx.i, ctx.f, ctx.z, math.mininteger, math.maxinteger, 2^63, 3 / 1, -0.0 }",
        json!({"i": i64::MIN, "f": 1.5, "z": -0.0}),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&got).unwrap(),
        "[-9223372036854775808,1.5,-0.0,-9223372036854775808,9223372036854775807,9.223372036854776e+18,3.0,-0.0]"
    );
}

#[test]
fn strings_must_be_utf8_and_keys_strings_or_list_indices() {
    for (script, want_path) in [
        ("return string.char(0xff)", "result"),
        (
            "return { name = 'ok', bad = string.char(0xc3) }",
            "result.bad",
        ),
        ("return { [string.char(0xff)] = 1 }", "result"),
        ("return { [true] = 1 }", "result"),
        ("return { [1.5] = 1 }", "result"),
        ("return { x = { [{}] = 1 } }", "result.x"),
    ] {
        let (path, _) = invalid_data(run(script, json!({})));
        assert!(path.starts_with(want_path), "{script}: {path}");
    }
}

#[test]
fn the_result_conversion_counts_against_the_memory_limit() {
    let limits = Limits::default().with_memory_bytes(4 * 1024 * 1024);
    let ev = evaluator_with(
        LuaEngine::new(),
        "local t = {} for i = 1, ctx.n do t[i] = 'item ' .. i end return t",
        limits,
    )
    .unwrap();
    // 200 000 short strings fit the state's 4 MiB, not the conversion's.
    match eval(&ev, json!({"n": 200_000})) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(Memory), got {other:?}"),
    }
    assert_eq!(
        eval(&ev, json!({"n": 2})).unwrap(),
        json!(["item 1", "item 2"])
    );
}
