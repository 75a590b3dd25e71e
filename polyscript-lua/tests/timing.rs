//! Rough per-eval and per-instance figures (ignored; not a benchmark suite):
//! `cargo test --release -p polyscript-lua --test timing -- --ignored --nocapture`

use std::time::{Duration, Instant};

use mlua::LuaSerdeExt;
use polyscript_core::serde_json::{Value, json};
use polyscript_core::{Engine, EvalContext, Evaluator, Limits, Source};
use polyscript_lua::LuaEngine;

const GREETING: &str = r#"
local greeting = "Hello, " .. ctx.name .. "!"
return { greeting = greeting, length = #greeting }
"#;

fn per_iteration(n: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..n / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

#[test]
#[ignore = "timing figures, run by hand in release"]
fn figures() {
    let n = 200_000;
    let data = json!({"name": "World"});

    // Raw mlua: a preloaded chunk, ctx set as a global, result through serde.
    let lua = mlua::Lua::new();
    let chunk = lua.load(GREETING).into_function().unwrap();
    let input = data.as_object().unwrap().clone();
    let raw = per_iteration(n, || {
        let ctx = lua.to_value(&input).unwrap();
        lua.globals().raw_set("ctx", ctx).unwrap();
        let out: mlua::Value = chunk.call(()).unwrap();
        let _: Value = lua.from_value(out).unwrap();
    });

    let ev = Evaluator::new(LuaEngine::new(), Source::from_text(GREETING)).unwrap();
    let ctx = EvalContext::with_data(data).unwrap();
    let evaluator = per_iteration(n, || {
        ev.eval(&ctx).unwrap();
    });

    let unlimited = Evaluator::builder(LuaEngine::new(), Source::from_text(GREETING))
        .limits(Limits::unlimited())
        .build()
        .unwrap();
    let evaluator_unlimited = per_iteration(n, || {
        unlimited.eval(&ctx).unwrap();
    });

    let engine = LuaEngine::new();
    let program = engine
        .compile(&Source::from_text(GREETING), &Limits::default())
        .unwrap();
    let instantiate = per_iteration(2_000, || {
        engine.instantiate(&program, &Limits::default()).unwrap();
    });
    let compile = per_iteration(2_000, || {
        engine
            .compile(&Source::from_text(GREETING), &Limits::default())
            .unwrap();
    });

    // Per-eval environment: reuse one table and clear it, or a new table
    // bound as the chunk's _ENV each time (mlua's set_environment).
    let mt = lua.create_table().unwrap();
    mt.set("__index", lua.globals()).unwrap();
    let env = lua.create_table().unwrap();
    env.set_metatable(Some(mt.clone())).unwrap();
    chunk.set_environment(env.clone()).unwrap();
    let reuse_env = per_iteration(n, || {
        env.raw_set("ctx", lua.to_value(&input).unwrap()).unwrap();
        let out: mlua::Value = chunk.call(()).unwrap();
        let _: Value = lua.from_value(out).unwrap();
        env.clear().unwrap();
    });
    let new_env = per_iteration(n, || {
        let env = lua.create_table().unwrap();
        env.set_metatable(Some(mt.clone())).unwrap();
        chunk.set_environment(env.clone()).unwrap();
        env.raw_set("ctx", lua.to_value(&input).unwrap()).unwrap();
        let out: mlua::Value = chunk.call(()).unwrap();
        let _: Value = lua.from_value(out).unwrap();
    });

    println!("raw mlua call of a preloaded chunk: {raw:?}");
    println!("  + reused env table, cleared:      {reuse_env:?}");
    println!("  + new env table per call:         {new_env:?}");
    println!("Evaluator::eval (default limits):   {evaluator:?}");
    println!("Evaluator::eval (no limits):        {evaluator_unlimited:?}");
    println!("instantiate (one Lua state):        {instantiate:?}");
    println!("compile:                            {compile:?}");
}
