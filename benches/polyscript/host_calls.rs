//! The cost of calling the host: a script making [`CALLS`] calls of
//! `add(i, 1)` per eval, through polyscript's host functions (`host.add`,
//! one registry for every engine) and through the engine's own registration
//! API on the same closure body, with no polyscript code (`native`).
//!
//! Group `host_call/<engine>`: `polyscript` and `native` per engine; one
//! host call costs (time / CALLS), the loop around it being the same in
//! both. For Extism both variants are polyscript evals of one WAT plugin
//! (the per-eval cost is the same): `polyscript` imports `add` from the
//! `polyscript` namespace (the registry), `native` from Extism's own
//! `extism:host/user` (an `extism::Function` given to
//! `ExtismEngineBuilder::extism_function`) doing the same JSON work.
//! BENCHMARKS.md has the figures and the ratio.

use std::hint::black_box;

use criterion::Criterion;
use polyscript::host::{HostError, HostFunctions};
use polyscript::{AnyEvaluator, EvalContext, Evaluator, JsEngine, LuaEngine, RhaiEngine, Source};
use serde_json::{Value, json};

use polyscript::ExtismEngine;
use polyscript_js::boa_engine;
use polyscript_lua::mlua;
use polyscript_rhai::rhai;
use polyscript_wasm::deps::extism;

/// Host calls per eval.
const CALLS: i64 = 1000;

/// What every variant returns: the sum of `i + 1` for `i` in `0..CALLS`.
fn expected() -> Value {
    json!(CALLS * (CALLS + 1) / 2)
}

fn registry() -> HostFunctions {
    HostFunctions::new().register("add", |(a, b): (i64, i64)| Ok::<_, HostError>(a + b))
}

const RHAI_HOST: &str = "let s = 0; for i in 0..1000 { s += host.add(i, 1); } s";
const RHAI_NATIVE: &str = "let s = 0; for i in 0..1000 { s += add(i, 1); } s";
const LUA_HOST: &str = "local s = 0 for i = 0, 999 do s = s + host.add(i, 1) end return s";
const LUA_NATIVE: &str = "local s = 0 for i = 0, 999 do s = s + add(i, 1) end return s";
const JS_HOST: &str = "let s = 0; for (let i = 0; i < 1000; i++) { s += host.add(i, 1); } s";
const JS_NATIVE: &str = "let s = 0; for (let i = 0; i < 1000; i++) { s += add(i, 1); } s";

fn polyscript_evaluators() -> Vec<(&'static str, AnyEvaluator)> {
    let host = registry();
    let build = |engine_name, evaluator: polyscript::Result<AnyEvaluator>| {
        (engine_name, evaluator.expect("compiles"))
    };
    vec![
        build(
            "rhai",
            Evaluator::new(
                RhaiEngine::builder().host_functions(host.clone()).build(),
                Source::from_text(RHAI_HOST),
            )
            .map(Evaluator::into_any),
        ),
        build(
            "lua",
            Evaluator::new(
                LuaEngine::builder().host_functions(host.clone()).build(),
                Source::from_text(LUA_HOST),
            )
            .map(Evaluator::into_any),
        ),
        build(
            "js",
            Evaluator::new(
                JsEngine::builder().host_functions(host).build(),
                Source::from_text(JS_HOST),
            )
            .map(Evaluator::into_any),
        ),
    ]
}

/// An Extism plugin whose `calls` export calls `NAMESPACE.add([1,2])`
/// [`CALLS`] times and outputs `[]`.
fn extism_plugin(namespace: &str) -> String {
    format!(
        r#"(module
  (import "{namespace}" "add" (func $add (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "calls") (result i32) (local $p i64) (local $i i32)
    (local.set $p (call $alloc (i64.const 5)))
    (call $store (local.get $p) (i32.const 91))
    (call $store (i64.add (local.get $p) (i64.const 1)) (i32.const 49))
    (call $store (i64.add (local.get $p) (i64.const 2)) (i32.const 44))
    (call $store (i64.add (local.get $p) (i64.const 3)) (i32.const 50))
    (call $store (i64.add (local.get $p) (i64.const 4)) (i32.const 93))
    (loop $again
      (call $free (call $add (local.get $p)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const {CALLS}))))
    (call $store (local.get $p) (i32.const 91))
    (call $store (i64.add (local.get $p) (i64.const 1)) (i32.const 93))
    (call $output (local.get $p) (i64.const 2))
    (i32.const 0)))"#
    )
}

/// The native Extism host function: the JSON array of two integers in, the
/// sum out as JSON, like the registry's envelope without the `{"ok":...}`.
fn extism_native_add() -> extism::Function {
    extism::Function::new(
        "add",
        [extism::PTR],
        [extism::PTR],
        extism::UserData::new(()),
        |plugin, inputs, outputs, _| {
            let text: &str = plugin.memory_get_val(&inputs[0])?;
            let (a, b): (i64, i64) = serde_json::from_str(text)?;
            let reply = serde_json::to_string(&(a + b))?;
            let handle = plugin.memory_new(reply)?;
            outputs[0] = plugin.memory_to_val(handle);
            Ok(())
        },
    )
}

fn extism_evaluators() -> [AnyEvaluator; 2] {
    let polyscript = Evaluator::new(
        ExtismEngine::builder()
            .entry_point("calls")
            .host_functions(registry())
            .build(),
        Source::from_bytes(extism_plugin("polyscript").into_bytes()),
    )
    .expect("compiles");
    let native = Evaluator::new(
        ExtismEngine::builder()
            .entry_point("calls")
            .extism_function(extism_native_add())
            .build(),
        Source::from_bytes(extism_plugin("extism:host/user").into_bytes()),
    )
    .expect("compiles");
    [polyscript.into_any(), native.into_any()]
}

type Runner = Box<dyn FnMut() -> Value>;

/// An engine's name and how to make its native runner.
type Native = (&'static str, fn() -> Runner);

fn rhai_native() -> Runner {
    let mut engine = rhai::Engine::new();
    engine.register_fn("add", |a: i64, b: i64| a + b);
    let ast = engine.compile(RHAI_NATIVE).expect("compiles");
    Box::new(move || json!(engine.eval_ast::<i64>(&ast).expect("runs")))
}

fn lua_native() -> Runner {
    let lua = mlua::Lua::new();
    let add = lua
        .create_function(|_, (a, b): (i64, i64)| Ok(a + b))
        .expect("creates add");
    lua.globals().set("add", add).expect("sets add");
    let chunk = lua.load(LUA_NATIVE).into_function().expect("compiles");
    // The closure owns the state: a chunk only holds a weak reference.
    Box::new(move || {
        let _state = &lua;
        json!(chunk.call::<i64>(()).expect("runs"))
    })
}

fn js_native() -> Runner {
    use boa_engine::{Context, JsResult, JsString, JsValue, NativeFunction, Script, Source};
    fn add(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
        let a = args
            .first()
            .cloned()
            .unwrap_or_default()
            .to_number(context)?;
        let b = args
            .get(1)
            .cloned()
            .unwrap_or_default()
            .to_number(context)?;
        Ok(JsValue::from(a + b))
    }
    let mut context = Context::default();
    context
        .register_global_callable(JsString::from("add"), 2, NativeFunction::from_fn_ptr(add))
        .expect("registers add");
    let text = format!("{{{JS_NATIVE}\n}}");
    let script =
        Script::parse(Source::from_bytes(text.as_bytes()), None, &mut context).expect("compiles");
    Box::new(move || {
        let out = script.evaluate(&mut context).expect("runs");
        out.to_json(&mut context)
            .expect("converts")
            .unwrap_or(Value::Null)
    })
}

/// `host_call/<engine>`: `polyscript` then `native`, each checked first.
pub fn bench(c: &mut Criterion) {
    let ctx = EvalContext::new();
    let natives: [Native; 3] = [
        ("rhai", rhai_native),
        ("lua", lua_native),
        ("js", js_native),
    ];
    for ((engine, evaluator), (native_engine, native)) in
        polyscript_evaluators().into_iter().zip(natives)
    {
        assert_eq!(engine, native_engine);
        let got = evaluator.eval(&ctx).expect("runs").into_value();
        assert_eq!(
            got.as_f64(),
            expected().as_f64(),
            "polyscript {engine}: {got}"
        );
        let mut run = native();
        let got = run();
        assert_eq!(got.as_f64(), expected().as_f64(), "native {engine}: {got}");
        let mut group = c.benchmark_group(format!("host_call/{engine}"));
        group.bench_function("polyscript", |b| {
            b.iter(|| black_box(evaluator.eval(&ctx).expect("runs")))
        });
        group.bench_function("native", |b| b.iter(|| black_box(run())));
        group.finish();
    }
    let [polyscript, native] = extism_evaluators();
    for (name, evaluator) in [("polyscript", &polyscript), ("native", &native)] {
        let got = evaluator.eval(&ctx).expect("runs").into_value();
        assert_eq!(got, json!([]), "extism {name}");
    }
    let mut group = c.benchmark_group("host_call/extism");
    group.bench_function("polyscript", |b| {
        b.iter(|| black_box(polyscript.eval(&ctx).expect("runs")))
    });
    group.bench_function("native", |b| {
        b.iter(|| black_box(native.eval(&ctx).expect("runs")))
    });
    group.finish();
}
