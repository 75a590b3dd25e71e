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

/// Everything a clean eval can observe about the libraries and its
/// environment: every library's keys and values (functions by identity),
/// the base functions, the metatables a script can ask for, the raw keys of
/// `_ENV`, and its own input.
const FINGERPRINT: &str = r#"
local out = {}
for _, name in ipairs({ "string", "table", "math", "utf8", "coroutine", "os" }) do
  local lib = _ENV[name]
  local entries = {}
  for k, v in pairs(lib) do
    -- Bytes above 127 as decimal escapes (utf8.charpattern is not UTF-8).
    local shown = tostring(v):gsub("[\128-\255]", function(c) return "\\" .. c:byte() end)
    entries[#entries + 1] = tostring(k) .. "=" .. shown
  end
  table.sort(entries)
  out[name] = table.concat(entries, ",")
  out[name .. ".type"] = type(lib)
  out[name .. ".raw"] = tostring(next(lib))
end
for _, name in ipairs({ "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
    "print", "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber",
    "tostring", "type", "xpcall", "load", "collectgarbage", "array", "_VERSION", "null" }) do
  out["base." .. name] = tostring(_ENV[name])
end
local raw_keys = {}
for k in next, _ENV do raw_keys[#raw_keys + 1] = tostring(k) end
table.sort(raw_keys)
out.env_keys = table.concat(raw_keys, ",")
out.env_is_g = rawequal(_G, _ENV)
out.string_mt = tostring(getmetatable(""))
out.env_mt = tostring(getmetatable(_ENV))
out.list_mt = tostring(getmetatable(ctx.list))
out.methods = ("abc"):upper() .. ("abc"):gsub("b", "x") .. ("abc"):rep(2) .. ("a,b"):find(",")
out.ctx = ctx
return out
"#;

#[test]
fn hostile_evals_leave_nothing_for_a_clean_one() {
    use polyscript_core::{Error, Limits};
    use polyscript_lua::LuaEngine;
    use std::time::Duration;

    let hostile = [
        "string = nil; print = nil; math = {}; _G.table = 1; rawset(_ENV, 'os', 2)",
        "_ENV = setmetatable({ leaked = ctx.secret }, { __index = _ENV })",
        "local t = {}; _ENV = t",
        "rawset(math, 'pi', 3); rawset(string, 'upper', print)",
        "local _, lib = pairs(string); pcall(rawset, lib, 'upper', print)",
        "for k, v in pairs(string) do pcall(rawset, string, k, nil) end",
        "pcall(function() string.upper = print end); pcall(function() table.insert(string, 1) end)",
        "pcall(function() getmetatable('').__index = {} end)",
        "pcall(setmetatable, string, {}); pcall(setmetatable, _ENV, nil)",
        "pcall(function() getmetatable(ctx.list).__index = function() return 'pwned' end end)",
        "load('upper = 1; rawset(_ENV, \"x\", 1)', 'x', 't', string)",
        "pcall(load('rawset(string, \"upper\", print)'))",
        "pcall(load('string.upper = print', 'x', 't', { string = string }))",
        "local co = coroutine.create(function() coroutine.yield(); ctx.list[1] = 'late' end); coroutine.resume(co)",
        "local co = coroutine.wrap(function() local x <close> = setmetatable({}, { __close = function() ctx.list[1] = 'closed' end }); coroutine.yield() end); co()",
        "pcall(setmetatable, {}, { __gc = function() ctx.list[1] = 'gc' end })",
        "setmetatable({}, { __mode = 'k' }); collectgarbage('step')",
        "pcall(collectgarbage, 'stop'); pcall(collectgarbage, 'generational')",
        "ctx.list[1] = 'mutated'; ctx.secret = nil",
        "while true do end",
        "local s = 'x'; while true do s = s .. s end",
        "local function f() return f() + 1 end; f()",
        "string.find(string.rep('a', 3000), string.rep('a*', 25) .. 'b')",
        "error('boom')",
        "return print",
        "return { 1, 2, x = 3 }",
    ];
    let script = format!("if ctx.hostile then\n{}\nend\n{FINGERPRINT}", {
        // One branch per hostile script, chosen by index.
        hostile
            .iter()
            .enumerate()
            .map(|(i, h)| format!("if ctx.hostile == {i} then {h} end"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let limits = Limits::default().with_timeout(Duration::from_millis(300));
    let ev = common::evaluator_with(LuaEngine::new(), &script, limits).unwrap();
    let input = json!({"list": ["a", "b"], "secret": "mine"});
    let baseline = eval(&ev, input.clone()).unwrap();
    assert_eq!(baseline["ctx"], input);
    assert_eq!(baseline["env_keys"], json!("ctx"));
    let mut baseline = baseline;
    for (i, h) in hostile.iter().enumerate() {
        let mut data = input.clone();
        data["hostile"] = json!(i);
        data["secret"] = json!(format!("secret of eval {i}"));
        let discarded = ev.pool_stats().discarded;
        let outcome = eval(&ev, data);
        let got = eval(&ev, input.clone()).unwrap();
        if ev.pool_stats().discarded == discarded {
            // The same state: the very same function objects, too.
            assert_eq!(got, baseline, "after hostile eval {i}: {h}");
        } else {
            // A memory error replaced the state: new addresses, same rest.
            assert!(
                matches!(outcome, Err(Error::LimitExceeded { .. })),
                "{h}: {outcome:?}"
            );
            assert_eq!(without_addresses(&got), without_addresses(&baseline), "{h}");
            baseline = got;
        }
    }
}

/// `value` with every `0x...` address blanked.
fn without_addresses(value: &polyscript_core::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at + 2]);
        rest = rest[at + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

#[test]
fn a_seeded_generator_is_reseeded_for_the_next_eval() {
    let ev = evaluator("if ctx.seed then math.randomseed(42) end\nreturn math.random(1, 1 << 40)")
        .unwrap();
    let first_after_42 = eval(&ev, json!({"seed": true})).unwrap();
    let next = eval(&ev, json!({"seed": false})).unwrap();
    assert_ne!(next, first_after_42);
    // The seeding eval itself is deterministic, as Lua promises.
    assert_eq!(eval(&ev, json!({"seed": true})).unwrap(), first_after_42);
}
