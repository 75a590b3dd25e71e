//! A large input is converted as the script reads it (issue 26): a script
//! sees the same `ctx` as with an eagerly converted input, whichever way it
//! looks at it, and bad data in it is still the eval's input error.

mod common;

use common::{eval, evaluator, run};
use polyscript_core::serde_json::{Value, json};
use polyscript_core::{Error, LimitKind, Limits};

/// An input of `n` keys `k0`..: numbers, plus a nested map and a list.
fn wide(n: usize) -> Value {
    let mut map = polyscript_core::Map::new();
    for i in 0..n {
        map.insert(format!("k{i}"), json!(i));
    }
    map.insert("user".into(), json!({"name": "Ada", "tags": ["a", "b"]}));
    map.insert("empty_list".into(), json!([]));
    map.insert("empty_map".into(), json!({}));
    map.insert("nothing".into(), Value::Null);
    Value::Object(map)
}

/// Both sizes: small inputs are converted before the script runs, large
/// ones lazily; every behaviour below must be the same for both.
const SIZES: [usize; 2] = [3, 500];

#[test]
fn reads_see_the_input() {
    for n in SIZES {
        let out = run(
            "return {ctx.k1, ctx.user.name, ctx.user.tags[2], ctx.missing == nil, \
             ctx.nothing == null, ctx[1] == nil, ctx.k1 == ctx.k1}",
            wide(n),
        )
        .unwrap();
        assert_eq!(
            out,
            json!([1, "Ada", "b", true, true, true, true]),
            "{n} keys"
        );
    }
}

#[test]
fn reads_from_a_coroutine() {
    for n in SIZES {
        let out = run(
            "local f = coroutine.wrap(function() coroutine.yield(ctx.k2) return ctx.user.name end) \
             return {f(), f()}",
            wide(n),
        )
        .unwrap();
        assert_eq!(out, json!([2, "Ada"]), "{n} keys");
    }
}

#[test]
fn returning_ctx_gives_back_the_input_read_or_not() {
    for n in SIZES {
        let input = wide(n);
        assert_eq!(run("return ctx", input.clone()).unwrap(), input, "{n} keys");
        // Some entries converted, some not.
        assert_eq!(
            run("local _ = ctx.k2, ctx.user return ctx", input.clone()).unwrap(),
            input,
            "{n} keys"
        );
        assert_eq!(
            run("return {inner = ctx}", input.clone()).unwrap(),
            json!({ "inner": input }),
            "{n} keys"
        );
    }
}

#[test]
fn changes_to_a_read_entry_show_in_the_result() {
    for n in SIZES {
        let out = run("ctx.user.name = 'Grace' return ctx.user", wide(n)).unwrap();
        assert_eq!(
            out,
            json!({"name": "Grace", "tags": ["a", "b"]}),
            "{n} keys"
        );
        let out = run("local u = ctx.user u.name = 'Grace' return ctx", wide(n)).unwrap();
        assert_eq!(out["user"]["name"], "Grace", "{n} keys");
    }
}

#[test]
fn writes_and_deletes_stick() {
    for n in SIZES {
        let out = run(
            "ctx.k1 = nil ctx.new = 7 ctx.k2 = 'two' \
             return {ctx.k1 == nil, ctx.new, ctx.k2, rawget(ctx, 'k1') == nil}",
            wide(n),
        )
        .unwrap();
        assert_eq!(out, json!([true, 7, "two", true]), "{n} keys");
        let out = run("ctx.k1 = nil return ctx", wide(n)).unwrap();
        assert!(out.get("k1").is_none(), "{n} keys: {out}");
        assert_eq!(out.as_object().unwrap().len(), n + 3, "{n} keys");
        let out = run("rawset(ctx, 'k0', nil) return ctx.k0 == nil", wide(n)).unwrap();
        assert_eq!(out, json!(true), "{n} keys");
    }
}

#[test]
fn iteration_sees_every_key() {
    for n in SIZES {
        let expected = json!(n + 4);
        for script in [
            "local c = 0 for _ in pairs(ctx) do c = c + 1 end return c",
            "local c = 0 for _ in next, ctx do c = c + 1 end return c",
            "local _ = ctx.k0 local c = 0 for _ in pairs(ctx) do c = c + 1 end return c",
            "local c, k = 0, next(ctx) while k do c = c + 1 k = next(ctx, k) end return c",
        ] {
            assert_eq!(
                run(script, wide(n)).unwrap(),
                expected,
                "{n} keys: {script}"
            );
        }
    }
}

#[test]
fn raw_and_metatable_functions_see_a_plain_table() {
    for n in SIZES {
        let out = run(
            "return {rawget(ctx, 'k2'), getmetatable(ctx) == nil, #ctx, rawlen(ctx), \
             type(ctx), select('#', table.unpack(ctx))}",
            wide(n),
        )
        .unwrap();
        assert_eq!(out, json!([2, true, 0, 0, "table", 0]), "{n} keys");
        // A metatable of the script's own replaces none of the input.
        let out = run(
            "setmetatable(ctx, {__index = function() return 'dflt' end}) \
             return {ctx.k2, ctx.absent}",
            wide(n),
        )
        .unwrap();
        assert_eq!(out, json!([2, "dflt"]), "{n} keys");
        // As a metatable, the input's keys are all there (here `__index`).
        let mut input = wide(n);
        input["__index"] = json!({"via": "meta"});
        let out = run("return setmetatable({}, ctx).via", input).unwrap();
        assert_eq!(out, json!("meta"), "{n} keys");
    }
}

#[test]
fn ctx_as_an_environment() {
    for n in SIZES {
        let out = run("return load('return k2 + 1', 'chunk', 't', ctx)()", wide(n)).unwrap();
        assert_eq!(out, json!(3), "{n} keys");
    }
}

#[test]
fn nothing_of_one_eval_reaches_the_next() {
    let ev = evaluator("local seen = ctx.k1 ctx.k2 = 'changed' return {seen, ctx.k2}").unwrap();
    for round in 0..3 {
        let mut input = wide(200);
        input["k1"] = json!(round);
        assert_eq!(eval(&ev, input).unwrap(), json!([round, "changed"]));
    }
    // A script that keeps the proxy where the next eval could find it: the
    // environment is emptied after every eval, so it cannot.
    let ev = evaluator("local old = kept kept = ctx return {old == nil, ctx.k1}").unwrap();
    for _ in 0..2 {
        assert_eq!(eval(&ev, wide(200)).unwrap(), json!([true, 1]));
    }
}

#[test]
fn an_integer_lua_cannot_hold_is_an_input_error_when_read() {
    for n in SIZES {
        let mut input = wide(n);
        input["huge"] = json!(u64::MAX);
        for script in [
            "return ctx.huge",
            "return pcall(function() return ctx.huge end)",
            "return ctx",
            "for k in pairs(ctx) do end return 1",
        ] {
            match run(script, input.clone()) {
                Err(Error::InvalidData { path, .. }) => {
                    assert_eq!(path.as_deref(), Some("ctx.huge"), "{n} keys: {script}")
                }
                other => panic!("{n} keys, {script}: expected InvalidData, got {other:?}"),
            }
        }
    }
}

#[test]
fn a_large_unread_entry_costs_nothing_and_a_read_one_counts() {
    let mut input = wide(100);
    input["blob"] = json!("x".repeat(2 << 20));
    let limits = Limits::default().with_memory_bytes(1 << 20);
    let ev =
        common::evaluator_with(polyscript_lua::LuaEngine::new(), "return ctx.k7", limits).unwrap();
    assert_eq!(eval(&ev, input.clone()).unwrap(), json!(7));
    let ev = common::evaluator_with(polyscript_lua::LuaEngine::new(), "return #ctx.blob", limits)
        .unwrap();
    match eval(&ev, input) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(Memory), got {other:?}"),
    }
}

#[test]
fn host_functions_get_the_whole_input() {
    let input = wide(300);
    let out = common::host::run("return host.echo(ctx)", input.clone()).unwrap();
    assert_eq!(out, input);
    let out = common::host::run(
        "local _ = ctx.user return host.echo({c = ctx})",
        input.clone(),
    )
    .unwrap();
    assert_eq!(out, json!({ "c": input }));
}
