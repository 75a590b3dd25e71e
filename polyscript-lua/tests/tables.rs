//! polyscript's bounded `table.insert/remove/move/concat/sort` against the
//! vendored Lua's C implementation: the same scripts, in a plain Lua state and
//! in one with [`install_bounded_functions`], must give the same results and
//! errors.

use mlua::Lua;
use polyscript_lua::{install_bounded_functions, mlua};
use proptest::prelude::*;

/// Helpers every case script can use: `show(v)` describes any value (tables
/// by their contents, 1..n first, then other keys sorted), `try(f, ...)` the
/// results or the error of a call.
const PRELUDE: &str = r#"
local function show(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t == "number" then return math.type(v) .. ":" .. tostring(v) end
  if t ~= "table" or depth > 3 then return tostring(t == "table" and "table" or v) end
  local parts, n = {}, rawlen(v)
  for i = 1, n do parts[#parts + 1] = show(rawget(v, i), depth + 1) end
  local keys = {}
  for k in next, v do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do parts[#parts + 1] = "[" .. show(k) .. "]=" .. show(rawget(v, k), depth + 1) end
  return "{" .. table.concat(parts, ",") .. "}"
end
local function try(f, ...)
  local r = table.pack(pcall(f, ...))
  local out = {}
  for i = 2, r.n do out[#out + 1] = show(r[i]) end
  return (r[1] and "ok(" or "error(") .. table.concat(out, ",") .. ")"
end
"#;

fn state(bounded: bool) -> Lua {
    let lua = Lua::new();
    if bounded {
        install_bounded_functions(&lua).unwrap();
    }
    lua
}

fn run(lua: &Lua, body: &str) -> String {
    lua.load(format!("{PRELUDE}\n{body}"))
        .set_name("=case")
        .eval::<String>()
        .unwrap_or_else(|e| format!("failed: {e}"))
}

fn check(c: &Lua, rust: &Lua, body: &str) {
    assert_eq!(run(rust, body), run(c, body), "{body}");
}

/// Cases for every branch and error of the five functions, on plain tables
/// and on tables that only behave like ones (metamethods).
const CASES: &[&str] = &[
    "local t = {1, 2, 3}; return try(table.insert, t, 'x') .. show(t)",
    "local t = {1, 2, 3}; return try(table.insert, t, 1, 'x') .. show(t)",
    "local t = {1, 2, 3}; return try(table.insert, t, 4, 'x') .. show(t)",
    "local t = {1, 2, 3}; return try(table.insert, t, 5, 'x') .. show(t)",
    "local t = {1, 2, 3}; return try(table.insert, t, 0, 'x') .. show(t)",
    "local t = {1, 2, 3}; return try(table.insert, t, -1, 'x') .. show(t)",
    "local t = {}; return try(table.insert, t, 1, 2, 3) .. show(t)",
    "local t = {}; return try(table.insert, t) .. show(t)",
    "return try(table.insert, nil, 1)",
    "return try(table.insert, 'str', 1)",
    "local t = {1, 2}; return try(table.insert, t, 1.5, 'x') .. try(table.insert, t, '2', 'y') .. show(t)",
    "local t = {1, 2, 3}; return try(table.remove, t) .. show(t)",
    "local t = {1, 2, 3}; return try(table.remove, t, 1) .. show(t)",
    "local t = {1, 2, 3}; return try(table.remove, t, 4) .. show(t)",
    "local t = {1, 2, 3}; return try(table.remove, t, 5) .. show(t)",
    "local t = {}; return try(table.remove, t) .. try(table.remove, t, 0) .. try(table.remove, t, 1) .. show(t)",
    "local t = {[0] = 'z'}; return try(table.remove, t, 0) .. show(t)",
    "local t = {1, 2, 3, 4, 5}; return try(table.move, t, 2, 4, 1) .. show(t)",
    "local t = {1, 2, 3, 4, 5}; return try(table.move, t, 1, 3, 3) .. show(t)",
    "local t = {1, 2, 3}; local u = {}; return try(table.move, t, 1, 3, 2, u) .. show(u)",
    "local t = {1, 2, 3}; return try(table.move, t, 3, 1, 1) .. show(t)",
    "return try(table.move, {}, 1, math.maxinteger, 2)",
    "return try(table.move, {}, -1, math.maxinteger, 1)",
    "return try(table.move, {}, math.mininteger, -1, 1)",
    "return try(table.move, {1}, 1, 1, math.maxinteger)",
    "return try(table.move, {1}, 1, 2, math.maxinteger)",
    "return try(table.move, {1}, 1, 1, 1, 'x')",
    "return try(table.move, {1}, 'a', 1, 1)",
    "return try(table.concat, {1, 2, 3}) .. try(table.concat, {1, 2, 3}, ', ') .. try(table.concat, {'a', 'b', 'c'}, '-', 2)",
    "return try(table.concat, {'a', 'b', 'c'}, '-', 2, 3) .. try(table.concat, {'a', 'b'}, '-', 3) .. try(table.concat, {}, 'x')",
    "return try(table.concat, {1, {}, 3}) .. try(table.concat, {1, 2}, '', 1, 3) .. try(table.concat, {1.5, 2}, 0)",
    "return try(table.concat, {'a'}, nil, 1, 1) .. try(table.concat, {'a'}, {}, 1, 1)",
    "local t = {5, 2, 8, 1, 9, 3}; return try(table.sort, t) .. show(t)",
    "local t = {5, 2, 8, 1, 9, 3}; return try(table.sort, t, function(a, b) return a > b end) .. show(t)",
    "local t = {'b', 'a', 'c'}; return try(table.sort, t) .. show(t)",
    "local t = {3, 'a', 1}; return try(table.sort, t) .. show(t)",
    "local t = {3, 1, 2}; return try(table.sort, t, 'x') .. show(t)",
    "local t = {}; for i = 1, 300 do t[i] = (i * 37) % 101 end; return try(table.sort, t) .. show(t)",
    "local t = {}; for i = 1, 300 do t[i] = (i * 37) % 101 end; return try(table.sort, t, function(a, b) return true end)",
    "local t = {}; for i = 1, 50 do t[i] = {k = i % 7, i = i} end; table.sort(t, function(a, b) return a.k < b.k end); local o = {} for i = 1, 50 do o[i] = t[i].i end; return show(o)",
    "local t = {3, 2, 1}; return try(table.sort, t, function(a, b) error('cmp') end) .. show(t)",
    "local p = setmetatable({}, {__index = function(_, i) return i * 10 end, __newindex = function(t, k, v) rawset(t, 'set' .. k, v) end, __len = function() return 4 end}); return try(table.insert, p, 2, 'x') .. show(p)",
    "local p = setmetatable({}, {__index = function(_, i) return i end, __len = function() return 3 end}); return try(table.concat, p, ',')",
    "local p = setmetatable({}, {__index = function(_, i) return 'v' .. i end, __newindex = function() end, __len = function() return 3 end}); return try(table.remove, p, 1)",
    "local log = {}; local p = setmetatable({}, {__index = function(_, i) return -i end, __newindex = function(_, k, v) log[#log + 1] = k .. '=' .. v end, __len = function() return 5 end}); table.sort(p); return show(log)",
    "local ud = setmetatable({}, {__index = function(_, i) return i end}); return try(table.move, ud, 1, 3, 1, {})",
    "return try(table.insert, setmetatable({}, {__len = function() return 'x' end}), 1)",
    "return try(table.sort, setmetatable({}, {__len = function() return math.maxinteger end}))",
    "return try(table.remove, setmetatable({}, {__len = function() return 2^63 end}))",
];

#[test]
fn the_cases_match_lua_exactly() {
    let (c, rust) = (state(false), state(true));
    for case in CASES {
        check(&c, &rust, case);
    }
}

#[test]
fn loops_driven_by_c_metamethods_are_bounded_by_the_eval() {
    use polyscript_core::serde_json::json;
    use polyscript_core::{Error, EvalContext, Evaluator, Limits, PoolConfig, Source};
    use polyscript_lua::LuaEngine;
    use std::time::{Duration, Instant};

    // Each of these runs for ever in C: the metamethods are C functions (no
    // Lua instruction, so no hook) or the range is just huge.
    for script in [
        "table.concat(setmetatable({}, {__index = table.concat}), '', 1, math.maxinteger)",
        "table.move({}, 1, math.maxinteger - 1, 1, {})",
        "table.move(setmetatable({}, {__index = rawlen}), 1, math.maxinteger - 1, 1, setmetatable({}, {__newindex = rawequal}))",
        "table.sort(setmetatable({}, {__len = function() return 2^31 - 2 end, __index = rawlen, __newindex = rawequal}))",
        "table.insert(setmetatable({}, {__len = function() return math.maxinteger - 1 end, __index = rawlen, __newindex = rawequal}), 1, 'x')",
        "table.remove(setmetatable({}, {__len = function() return math.maxinteger - 1 end, __index = rawlen, __newindex = rawequal}), 1)",
    ] {
        let limits = Limits::default()
            .with_timeout(Duration::from_millis(300))
            .without_operation_limit();
        let ev = Evaluator::builder(LuaEngine::new(), Source::from_text(script))
            .limits(limits)
            .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
            .build()
            .unwrap();
        let start = Instant::now();
        let outcome = ev.eval(&EvalContext::with_data(json!({})).unwrap());
        assert!(
            matches!(outcome, Err(Error::Timeout { .. })),
            "{script}: {outcome:?}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{script}: {:?}",
            start.elapsed()
        );
        // And as operations.
        let limits = Limits::default().with_operations(100_000);
        let ev = Evaluator::builder(LuaEngine::new(), Source::from_text(script))
            .limits(limits)
            .build()
            .unwrap();
        match ev.eval(&EvalContext::with_data(json!({})).unwrap()) {
            Err(Error::LimitExceeded { .. }) => {}
            other => panic!("{script}: expected LimitExceeded, got {other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(i64, i64),
    Push(i64),
    Remove(Option<i64>),
    Move(i64, i64, i64),
    Concat(i64, i64),
    Sort(bool),
    SortBy(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (-2i64..14, 0i64..100).prop_map(|(p, v)| Op::Insert(p, v)),
        (0i64..100).prop_map(Op::Push),
        prop::option::of(-2i64..14).prop_map(Op::Remove),
        (-3i64..14, -3i64..14, -3i64..16).prop_map(|(f, e, t)| Op::Move(f, e, t)),
        (-2i64..14, -2i64..14).prop_map(|(i, j)| Op::Concat(i, j)),
        any::<bool>().prop_map(Op::Sort),
        (1u8..6).prop_map(Op::SortBy),
    ]
}

fn script(items: &[i64], ops: &[Op]) -> String {
    let mut body = format!(
        "local t = {{{}}}\nlocal out = {{}}\n",
        items
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    for op in ops {
        let call = match op {
            Op::Insert(p, v) => format!("try(table.insert, t, {p}, {v})"),
            Op::Push(v) => format!("try(table.insert, t, {v})"),
            Op::Remove(None) => "try(table.remove, t)".to_owned(),
            Op::Remove(Some(p)) => format!("try(table.remove, t, {p})"),
            Op::Move(f, e, to) => format!("try(table.move, t, {f}, {e}, {to})"),
            Op::Concat(i, j) => format!("try(table.concat, t, ',', {i}, {j})"),
            Op::Sort(desc) if *desc => {
                "try(table.sort, t, function(a, b) return a > b end)".to_owned()
            }
            Op::Sort(_) => "try(table.sort, t)".to_owned(),
            // By a key with many ties: the order of equal keys shows the
            // algorithm's exact steps.
            Op::SortBy(m) => format!(
                "try(table.sort, t, function(a, b) return (a or 0) % {m} < (b or 0) % {m} end)"
            ),
        };
        body.push_str(&format!("out[#out + 1] = {call} .. show(t)\n"));
    }
    body.push_str("return table.concat(out, '\\n')");
    body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generated_operations_match_lua(
        items in prop::collection::vec(0i64..50, 0..12),
        ops in prop::collection::vec(op(), 1..8),
    ) {
        let (c, rust) = (state(false), state(true));
        check(&c, &rust, &script(&items, &ops));
    }
}
