//! Nothing one eval does is visible to the next on the same Lua state.

mod common;

use common::{eval, evaluator};
use polyscript_core::serde_json::json;

#[test]
fn globals_through_env_and_g_do_not_leak() {
    let ev = evaluator(
        r#"
local seen = { plain = plain, via_g = _G.via_g, raw = rawget(_ENV, "raw") }
plain = ctx.n
_G.via_g = ctx.n
rawset(_ENV, "raw", ctx.n)
return seen
"#,
    )
    .unwrap();
    for n in 1..=3 {
        assert_eq!(eval(&ev, json!({"n": n})).unwrap(), json!({}), "eval {n}");
    }
}

#[test]
fn libraries_are_read_only() {
    let ev = evaluator(
        r#"
local before = string.shout
local ok, err = pcall(function() string.shout = function(s) return s .. "!" end end)
return { before = before == nil, ok = ok, err = tostring(err):find("read%-only") ~= nil }
"#,
    )
    .unwrap();
    for _ in 0..2 {
        assert_eq!(
            eval(&ev, json!({})).unwrap(),
            json!({"before": true, "ok": false, "err": true})
        );
    }
}

#[test]
fn protected_metatables_cannot_be_changed() {
    let got = common::run(
        r#"
return {
  env_mt = getmetatable(_ENV),
  string_mt = getmetatable(""),
  set = pcall(setmetatable, _ENV, {}),
}
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"env_mt": false, "string_mt": false, "set": false})
    );
}

#[test]
fn a_global_shadowing_a_library_is_gone_next_time() {
    let ev = evaluator("local kind = type(string)\nstring = 42\nprint = nil\nreturn kind").unwrap();
    for _ in 0..3 {
        assert_eq!(eval(&ev, json!({})).unwrap(), json!("table"));
    }
}

#[test]
fn load_runs_text_in_the_script_environment() {
    let ev = evaluator(
        r#"
local f = load("marker = (marker or 0) + 1; return marker")
return { first = f(), global = marker }
"#,
    )
    .unwrap();
    for _ in 0..2 {
        assert_eq!(
            eval(&ev, json!({})).unwrap(),
            json!({"first": 1, "global": 1})
        );
    }
}
