//! Host functions from Lua: calls, values both ways, errors, calls from
//! inside coroutines and the bounded library functions, isolation.

mod common;

use common::host::{evaluator, registry, run, runtime_message};
use polyscript_core::host::HostFunctions;
use polyscript_core::serde_json::json;
use polyscript_core::{Error, EvalContext, Location};

#[test]
fn arguments_and_results_cross_by_the_value_table() {
    let got = run(
        r#"
return {
  sum = host.add(ctx.a, 40),
  user = host.user("u1"),
  float = host.echo(3.0),
  int = host.echo(3),
  null = host.echo(null),
  nil_arg = host.echo(nil),
  empty_list = host.echo(array()),
  empty_map = host.echo({}),
  nested = host.echo({ list = { 1, 2.5, "x" }, map = { k = false } }),
  ctx = host.echo(ctx),
  count = host.count(1, nil, 3),
  none = host.count(),
}
"#,
        json!({"a": 2}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({
            "sum": 42,
            "user": {"id": "u1", "name": "User u1", "tags": ["a", "b"]},
            "float": 3.0,
            "int": 3,
            "null": null,
            "nil_arg": null,
            "empty_list": [],
            "empty_map": {},
            "nested": {"list": [1, 2.5, "x"], "map": {"k": false}},
            "ctx": {"a": 2},
            "count": 3,
            "none": 0,
        })
    );
    // Floats stay floats, integers integers (the number rule both ways).
    assert!(got["float"].is_f64() && got["int"].is_i64());
}

#[test]
fn results_are_lua_values_the_script_can_use() {
    let got = run(
        r#"
local u = host.user("u2")
local tags = host.echo(array({ "a", "b", "c" }))
tags[#tags + 1] = "d"
return {
  name = u.name:upper(),
  tags = #u.tags,
  int = math.type(host.add(1, 2)),
  float = math.type(host.echo(1.5)),
  mt = getmetatable(tags),
  appended = tags,
}
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({
            "name": "USER U2", "tags": 2, "int": "integer", "float": "float",
            "mt": false, "appended": ["a", "b", "c", "d"],
        })
    );
}

#[test]
fn a_failing_host_call_is_a_catchable_error_named_after_the_function() {
    let got = run(
        r#"
local ok1, direct = pcall(host.fail, "out of stock")
local ok2, wrapped = pcall(function() host.fail("no such user") end)
local ok3, args = pcall(host.add, 1)
local ok4, typed = pcall(host.add, 1, "x")
return { ok = ok1 or ok2 or ok3 or ok4, direct = direct, wrapped = wrapped, args = args, typed = typed }
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({
            "ok": false,
            // Called from pcall (a C function) there is no Lua position.
            "direct": "fail: out of stock",
            "wrapped": "script:3: fail: no such user",
            "args": "add: takes 2 arguments, got 1",
            "typed": "add: argument 2: invalid type: string \"x\", expected i64",
        })
    );
}

#[test]
fn an_uncaught_host_error_ends_the_eval_naming_the_function_and_the_line() {
    let ev = evaluator("local x = 1\nhost.fail(ctx.why)\nreturn x").unwrap();
    let err = ev
        .eval(&EvalContext::with_data(json!({"why": "no such user"})).unwrap())
        .unwrap_err();
    match &err {
        Error::Runtime {
            message,
            location,
            script_id,
            ..
        } => {
            assert_eq!(message, "fail: no such user");
            assert_eq!(*location, Some(Location::line(2)));
            assert_eq!(*script_id, ev.script_id());
        }
        other => panic!("expected Error::Runtime, got {other:?}"),
    }
    // Wrong arguments, uncaught.
    let message = runtime_message(run("return host.add(1)", json!({})));
    assert_eq!(message, "add: takes 2 arguments, got 1");
    // The evaluator keeps working.
    let ok = evaluator("return host.add(ctx.a, 1)").unwrap();
    assert_eq!(common::eval(&ok, json!({"a": 1})).unwrap(), json!(2));
}

#[test]
fn an_unregistered_name_reads_as_nil_and_calling_it_names_it() {
    let got = run(
        "return { missing = host.nope == nil, known = type(host.add) }",
        json!({}),
    )
    .unwrap();
    assert_eq!(got, json!({"missing": true, "known": "function"}));
    let message = runtime_message(run("return host.nope(1)", json!({})));
    assert!(message.contains("'nope'"), "{message}");
    assert!(message.contains("attempt to call a nil value"), "{message}");
}

#[test]
fn without_a_registry_host_is_an_empty_read_only_table() {
    let got = common::run(
        r#"
local ok, err = pcall(function() host.x = 1 end)
return { kind = type(host), empty = next(host) == nil, set = ok, err = err:find("read%-only") ~= nil }
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"kind": "table", "empty": true, "set": false, "err": true})
    );
    let message = runtime_message(common::run("return host.add(1, 2)", json!({})));
    assert!(message.contains("'add'"), "{message}");
}

#[test]
fn a_registry_is_listed_by_pairs() {
    let got = run(
        r#"
local names = {}
for name, f in pairs(host) do
  if type(f) == "function" then names[#names + 1] = name end
end
table.sort(names)
return table.concat(names, ",")
"#,
        json!({}),
    )
    .unwrap();
    let registry = registry();
    let expected: Vec<&str> = registry.names().collect();
    assert_eq!(got, json!(expected.join(",")));
}

#[test]
fn arguments_without_a_json_form_are_catchable_errors_naming_the_argument() {
    let got = run(
        r#"
local function why(...)
  local ok, err = pcall(host.echo, ...)
  assert(not ok, "the call succeeded")
  return err
end
local cycle = {}
cycle.self = cycle
return {
  mixed = why({ 1, 2, x = 3 }),
  nested = why({ a = { b = { 1, nil, 3 } } }),
  func = why(print),
  cycle = why(cycle),
  nan = why(0 / 0),
  bytes = why("\xff"),
  second = select(2, pcall(host.add, 1, { x = 1 })),
}
"#,
        json!({}),
    )
    .unwrap();
    let text = |k: &str| got[k].as_str().unwrap().to_owned();
    assert!(
        text("mixed").starts_with("echo: argument 1: a table with both list items"),
        "{got}"
    );
    assert!(
        text("nested").starts_with("echo: argument 1.a.b: a sparse list"),
        "{got}"
    );
    assert!(
        text("func").starts_with("echo: argument 1: a Lua function"),
        "{got}"
    );
    assert!(
        text("cycle").starts_with("echo: argument 1.self:") && text("cycle").contains("cycle"),
        "{got}"
    );
    assert!(text("nan").starts_with("echo: argument 1: "), "{got}");
    assert!(text("nan").contains("NaN"), "{got}");
    assert!(text("bytes").contains("UTF-8"), "{got}");
    assert!(
        text("second").starts_with("add: argument 2: invalid type: map"),
        "{got}"
    );
}

#[test]
fn arguments_nested_past_the_data_depth_are_refused() {
    let ev = common::host::evaluator_with(
        "local v = 0 for _ = 1, ctx.n do v = { v } end return select(2, pcall(host.echo, v))",
        {
            let mut limits = polyscript_core::Limits::default();
            limits.data_depth = 8;
            limits
        },
    )
    .unwrap();
    // Eight levels fit; nine do not.
    assert_eq!(
        common::eval(&ev, json!({"n": 8})).unwrap(),
        json!([[[[[[[[0]]]]]]]])
    );
    let err = common::eval(&ev, json!({"n": 9})).unwrap();
    let err = err.as_str().unwrap();
    assert!(
        err.starts_with("echo: argument 1[0][0][0][0][0][0][0][0]: nested deeper than 8"),
        "{err}"
    );
}

#[test]
fn results_that_do_not_fit_are_errors_naming_the_function() {
    let got = run(
        r#"
local _, deep = pcall(host.deep, 200)
local _, int = pcall(host.huge_int)
return { deep = deep, int = int, fits = #host.deep(100) }
"#,
        json!({}),
    )
    .unwrap();
    let deep = got["deep"].as_str().unwrap();
    assert!(
        deep.starts_with("deep: its result: nested deeper than 128"),
        "{got}"
    );
    let int = got["int"].as_str().unwrap();
    assert!(
        int.starts_with("huge_int: its result: the integer 18446744073709551615"),
        "{got}"
    );
    assert_eq!(got["fits"], json!(1));
    let message = runtime_message(run("return host.deep(500)", json!({})));
    assert!(
        message.starts_with("deep: its result: nested deeper"),
        "{message}"
    );
}

#[test]
fn a_panicking_host_function_is_a_catchable_error() {
    let ev = evaluator(
        r#"
local ok, err = pcall(host.boom)
return { ok = ok, err = err, after = host.add(1, 1) }
"#,
    )
    .unwrap();
    for _ in 0..2 {
        assert_eq!(
            common::eval(&ev, json!({})).unwrap(),
            json!({"ok": false, "err": "boom: panicked: kaboom", "after": 2})
        );
    }
    let message = runtime_message(run("host.boom()", json!({})));
    assert_eq!(message, "boom: panicked: kaboom");
}

#[test]
fn host_functions_see_the_host_data_of_their_own_eval() {
    let ev = evaluator("return host.tenant()").unwrap();
    for tenant in ["t-1", "t-2"] {
        let ctx = EvalContext::with_data(json!({}))
            .unwrap()
            .with_host_data(tenant.to_owned());
        assert_eq!(ev.eval(&ctx).unwrap().into_value(), json!(tenant));
    }
    let plain = EvalContext::with_data(json!({})).unwrap();
    assert_eq!(ev.eval(&plain).unwrap().into_value(), json!(null));
}

#[test]
fn host_calls_work_inside_coroutines() {
    let got = run(
        r#"
local co = coroutine.create(function(a)
  local b = coroutine.yield(host.add(a, 1))
  return host.user(b).name
end)
local _, first = coroutine.resume(co, 1)
local _, second = coroutine.resume(co, "u9")
local wrapped = coroutine.wrap(function() return host.echo({ 1, 2 }) end)()
local ok, err = coroutine.resume(coroutine.create(function() host.fail("in a coroutine") end))
return { first = first, second = second, wrapped = wrapped, ok = ok, err = err }
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({
            "first": 2, "second": "User u9", "wrapped": [1, 2],
            "ok": false, "err": "script:9: fail: in a coroutine",
        })
    );
}

#[test]
fn host_calls_work_from_bounded_library_callbacks() {
    let got = run(
        r#"
local replaced = string.gsub("a b c", "%a", function(c) return host.upper(c) end)
local t = { 5, 3, 9, 1, 7 }
table.sort(t, function(a, b) return host.less(a, b) end)
local ok, err = pcall(string.gsub, "abc", "%a", function(c) host.fail(c) end)
local ok2, err2 = pcall(table.sort, { 2, 1 }, function() return host.add(1) end)
return { replaced = replaced, sorted = t, ok = ok or ok2, err = err, err2 = err2 }
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({
            "replaced": "A B C",
            "sorted": [1, 3, 5, 7, 9],
            "ok": false,
            "err": "script:5: fail: a",
            "err2": "script:6: add: takes 2 arguments, got 1",
        })
    );
}

#[test]
fn nothing_a_script_does_to_host_survives_the_eval() {
    let ev = evaluator(
        r#"
local seen = { add = host.add(1, 2), kind = type(host) }
local function refused(f) local ok, err = pcall(f) return not ok and err end
seen.assign = refused(function() host.add = function() return 0 end end)
seen.new_key = refused(function() host.extra = 1 end)
seen.rawset = refused(function() rawset(host, "add", print) end)
seen.setmt = refused(function() setmetatable(host, {}) end)
seen.mt = getmetatable(host)
seen.via_g = refused(function() _G.host.add = nil end)
-- Shadowing the global is the script's own business, and ends with the eval.
host = { add = function() return 0 end }
_ENV.cached = host.add
return seen
"#,
    )
    .unwrap();
    for _ in 0..3 {
        let got = common::eval(&ev, json!({})).unwrap();
        assert_eq!(got["add"], json!(3), "{got}");
        assert_eq!(got["kind"], json!("table"), "{got}");
        assert_eq!(got["mt"], json!(false), "{got}");
        for key in ["assign", "new_key", "rawset", "via_g"] {
            let err = got[key].as_str().unwrap_or_default();
            assert!(err.contains("'host' is read-only"), "{key}: {got}");
        }
        let err = got["setmt"].as_str().unwrap_or_default();
        assert!(err.contains("protected metatable"), "{got}");
    }
}

#[test]
fn one_registry_serves_many_engines_and_instances() {
    let shared = HostFunctions::new().register("twice", |(n,): (i64,)| Ok(n * 2));
    let a = common::evaluator_with(
        common::host::engine(shared.clone()),
        "return host.twice(ctx.n)",
        Default::default(),
    )
    .unwrap();
    let b = common::evaluator_with(
        common::host::engine(shared),
        "return host.twice(host.twice(ctx.n))",
        Default::default(),
    )
    .unwrap();
    assert_eq!(common::eval(&a, json!({"n": 2})).unwrap(), json!(4));
    assert_eq!(common::eval(&b, json!({"n": 2})).unwrap(), json!(8));
}

#[test]
fn a_function_named_like_a_lua_keyword_is_called_by_index() {
    let registry = HostFunctions::new().register("end", |(): ()| Ok("ended"));
    let ev = common::evaluator_with(
        common::host::engine(registry),
        r#"return host["end"]()"#,
        Default::default(),
    )
    .unwrap();
    assert_eq!(common::eval(&ev, json!({})).unwrap(), json!("ended"));
}

#[test]
fn many_arguments_are_passed_in_order() {
    let got = run(
        r#"
local t = {}
for i = 1, 5000 do t[i] = i end
return { n = host.count(table.unpack(t)), last = host.echo(select(5000, table.unpack(t))) }
"#,
        json!({}),
    )
    .unwrap();
    assert_eq!(got, json!({"n": 5000, "last": 5000}));
}
