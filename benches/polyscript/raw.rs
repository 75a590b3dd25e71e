//! The physical limit for the abstraction: the same work written directly
//! against each engine's own API, no polyscript code. Input goes in from a
//! `serde_json::Value`, the precompiled script runs, the output comes back as a
//! `serde_json::Value` — what a polyscript eval does, minus polyscript.

use std::hint::black_box;

use criterion::Criterion;
use serde_json::Value;

use polyscript_js::boa_engine;
use polyscript_lua::mlua;
use polyscript_rhai::rhai;
use polyscript_wasm::deps::{extism, wasmtime, wasmtime_wasi};

use crate::workload::{self, check};

/// One raw eval of the greeting, with its engine state built once.
pub type Runner = Box<dyn FnMut() -> Value>;

pub fn rhai_runner() -> Runner {
    let engine = rhai::Engine::new();
    let ast = engine.compile(workload::RHAI).expect("compiles");
    let input = workload::input();
    Box::new(move || -> Value {
        let mut scope = rhai::Scope::new();
        let ctx: rhai::Dynamic = rhai::serde::to_dynamic(&input).expect("converts");
        scope.push_constant("ctx", ctx);
        let out: rhai::Dynamic = engine.eval_ast_with_scope(&mut scope, &ast).expect("runs");
        rhai::serde::from_dynamic(&out).expect("converts back")
    })
}

/// Benchmarks `runner` as `group/name`, after checking its answer.
fn bench_runner(c: &mut Criterion, group: &str, name: &str, mut run: Runner) {
    check(&format!("raw {group}/{name}"), &run());
    c.benchmark_group(group)
        .bench_function(name, |b| b.iter(|| black_box(run())));
}

pub fn lua_runner() -> Runner {
    use mlua::LuaSerdeExt;
    let lua = mlua::Lua::new();
    let chunk = lua.load(workload::LUA).into_function().expect("compiles");
    let input = workload::input();
    Box::new(move || -> Value {
        let ctx = lua.to_value(&input).expect("converts");
        lua.globals().set("ctx", ctx).expect("sets ctx");
        let out: mlua::Value = chunk.call(()).expect("runs");
        lua.from_value(out).expect("converts back")
    })
}

pub fn js_runner() -> Runner {
    use boa_engine::{Context, JsValue, Source};
    let mut context = Context::default();
    // The same body as the polyscript script, compiled once as a function.
    let function = context
        .eval(Source::from_bytes(
            r#"(function (ctx) { const greeting = "Hello, " + ctx.name + "!";
                return { greeting: greeting, length: greeting.length }; })"#,
        ))
        .expect("compiles");
    let function = function.as_callable().expect("a function").clone();
    let input = workload::input();
    Box::new(move || -> Value {
        let ctx = JsValue::from_json(&input, &mut context).expect("converts");
        let out = function
            .call(&JsValue::undefined(), &[ctx], &mut context)
            .expect("runs");
        out.to_json(&mut context)
            .expect("converts back")
            .unwrap_or(Value::Null)
    })
}

/// The script itself, parsed and compiled once as a boa `Script` and run
/// again per call with `ctx` as a global: what boa costs for re-running a
/// script (global declaration instantiation, the completion value) rather
/// than calling a function. The body is in a block so that its top-level
/// `const` can be declared again on the next run.
pub fn js_script_runner() -> Runner {
    use boa_engine::property::Attribute;
    use boa_engine::{Context, JsString, JsValue, Script, Source};
    let mut context = Context::default();
    context
        .register_global_property(
            JsString::from("ctx"),
            JsValue::undefined(),
            Attribute::WRITABLE,
        )
        .expect("declares ctx");
    let text = format!("{{{}\n}}", workload::JS);
    let script =
        Script::parse(Source::from_bytes(text.as_bytes()), None, &mut context).expect("compiles");
    let input = workload::input();
    Box::new(move || -> Value {
        let ctx = JsValue::from_json(&input, &mut context).expect("converts");
        context
            .global_object()
            .set(JsString::from("ctx"), ctx, false, &mut context)
            .expect("sets ctx");
        let out = script.evaluate(&mut context).expect("runs");
        out.to_json(&mut context)
            .expect("converts back")
            .unwrap_or(Value::Null)
    })
}

fn extism_compiled() -> extism::CompiledPlugin {
    let manifest = extism::Manifest::new([extism::Wasm::data(workload::EXTISM_WASM)]);
    extism::CompiledPlugin::new(extism::PluginBuilder::new(manifest)).expect("compiles")
}

fn extism_call(plugin: &mut extism::Plugin, input: &[u8]) -> Value {
    let out: &[u8] = plugin.call(workload::EXTISM_ENTRY, input).expect("runs");
    serde_json::from_slice(out).expect("JSON output")
}

/// One plugin reused for every call: compare with polyscript's Stateful policy.
pub fn extism_reused_runner() -> Runner {
    let compiled = extism_compiled();
    let input = serde_json::to_vec(&workload::input()).expect("serializes");
    let mut plugin = extism::Plugin::new_from_compiled(&compiled).expect("instantiates");
    Box::new(move || extism_call(&mut plugin, &input))
}

/// A new plugin per call: compare with polyscript's Fresh policy.
pub fn extism_fresh_runner() -> Runner {
    let compiled = extism_compiled();
    let input = serde_json::to_vec(&workload::input()).expect("serializes");
    Box::new(move || {
        let mut plugin = extism::Plugin::new_from_compiled(&compiled).expect("instantiates");
        extism_call(&mut plugin, &input)
    })
}

pub fn wasi_runner() -> Runner {
    use wasmtime::{Config, Engine, InstanceAllocationStrategy, Linker, Module, Store};
    use wasmtime_wasi::WasiCtxBuilder;
    use wasmtime_wasi::p1::WasiP1Ctx;
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::pooling());
    let engine = Engine::new(&config).expect("engine");
    let module = Module::new(&engine, workload::WASI_WASM).expect("compiles");
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |ctx| ctx).expect("links");
    let pre = linker.instantiate_pre(&module).expect("pre-instantiates");
    let input = serde_json::to_vec(&workload::input()).expect("serializes");
    Box::new(move || -> Value {
        let stdout = MemoryOutputPipe::new(1 << 20);
        let wasi = WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new(input.clone()))
            .stdout(stdout.clone())
            .build_p1();
        let mut store = Store::new(&engine, wasi);
        let instance = pre.instantiate(&mut store).expect("instantiates");
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .expect("_start");
        if let Err(e) = start.call(&mut store, ()) {
            let exit = e.downcast_ref::<wasmtime_wasi::I32Exit>();
            assert!(matches!(exit, Some(wasmtime_wasi::I32Exit(0))), "{e:#}");
        }
        drop(store);
        serde_json::from_slice(&stdout.contents()).expect("JSON output")
    })
}

/// One engine's raw baseline.
pub struct RawCase {
    /// The polyscript engine case it is compared with (`parallel/<engine>`).
    pub engine: &'static str,
    /// The criterion group and bench id it is reported under.
    pub group: &'static str,
    pub id: &'static str,
    /// Builds the engine state and returns the eval.
    pub make: fn() -> Runner,
}

/// Every engine's raw baseline.
pub fn runners() -> Vec<RawCase> {
    let case = |engine, group, id, make| RawCase {
        engine,
        group,
        id,
        make,
    };
    vec![
        case("rhai", "eval/rhai", "raw", rhai_runner),
        case("lua", "eval/lua", "raw", lua_runner),
        case("js", "eval/js", "raw", js_runner),
        case(
            "extism",
            "eval/extism",
            "raw_fresh_instance",
            extism_fresh_runner,
        ),
        case(
            "extism_stateful",
            "eval/extism",
            "raw_reused_instance",
            extism_reused_runner,
        ),
        case("wasi", "eval/wasi", "raw", wasi_runner),
    ]
}

/// The raw baselines of the polyscript engine case `engine`. Called right
/// after that engine's `run_many` bench, so that the two figures a ratio is
/// made of are measured next to each other, not minutes apart on a machine
/// whose speed drifts.
pub fn bench_engine(c: &mut Criterion, engine: &str) {
    for case in runners().into_iter().filter(|case| case.engine == engine) {
        bench_runner(c, case.group, case.id, (case.make)());
    }
    if engine == "js" {
        bench_runner(c, "eval/js", "raw_script", js_script_runner());
    }
}
