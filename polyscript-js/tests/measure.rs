//! Figures for the crate docs and reports, not assertions:
//! `cargo test -p polyscript-js --release --test measure -- --ignored --nocapture`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use boa_engine::{Context, JsValue, Script, Source as JsSource, js_string};
use polyscript_core::serde_json::json;
use polyscript_core::{
    CancelToken, Engine, EngineKind, EvalContext, Evaluator, Guard, Limits, Map, PoolConfig, Source,
};
use polyscript_js::JsEngine;

const GREETING: &str =
    "const greeting = `Hello, ${ctx.name}!`;\n({ greeting, length: greeting.length })";

fn per_iter(n: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..(n / 10).max(1) {
        f();
    }
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

fn input(context: &mut Context) -> JsValue {
    JsValue::from_json(&json!({"name": "World"}), context).unwrap()
}

#[test]
#[ignore = "measurement; run in release with --nocapture"]
fn figures() {
    // 1. Evaluator::eval of the greeting (warm pool, one instance).
    let ev = Evaluator::builder(JsEngine::new(), Source::from_text(GREETING))
        .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
        .build()
        .unwrap();
    let ctx = EvalContext::with_data(json!({"name": "World"})).unwrap();
    let mut rounds: Vec<Duration> = (0..7)
        .map(|_| {
            per_iter(5_000, || {
                black_box(ev.eval(&ctx).unwrap());
            })
        })
        .collect();
    rounds.sort();
    println!(
        "Evaluator::eval greeting: median {:?} (min {:?}, max {:?} of 7 rounds)",
        rounds[3], rounds[0], rounds[6]
    );

    // 2. Engine-level: instantiate (thread + Context + parse + compile) and a
    //    trivial eval (channel round trip + setup + restore).
    let engine = JsEngine::new();
    let program = engine
        .compile(&Source::from_text(GREETING), &Limits::default())
        .unwrap();
    let inst = per_iter(200, || {
        black_box(engine.instantiate(&program, &Limits::default()).unwrap());
    });
    println!("instantiate (worker thread + Context + parse + compile): {inst:?}");
    let trivial = engine
        .compile(&Source::from_text("1"), &Limits::default())
        .unwrap();
    let mut instance = engine.instantiate(&trivial, &Limits::default()).unwrap();
    let token = CancelToken::new();
    let map: Map = Map::new();
    let script_id = polyscript_core::ScriptId::of(b"1");
    let rt = per_iter(20_000, || {
        let guard = Guard::new(
            EngineKind::JavaScript,
            script_id,
            Limits::default(),
            None,
            &token,
        );
        black_box(engine.eval(&mut instance, &trivial, &map, &guard).unwrap());
    });
    println!("Engine::eval of `1` (handoff to the worker + ctx + restore): {rt:?}");

    // 3. Isolation mechanisms, raw boa on one thread.
    let wrapped = format!("{{{GREETING}\n}}");
    let fresh = per_iter(300, || {
        let mut context = Context::default();
        let v = input(&mut context);
        context
            .register_global_property(js_string!("ctx"), v, boa_engine::property::Attribute::all())
            .unwrap();
        let script = Script::parse(JsSource::from_bytes(GREETING), None, &mut context).unwrap();
        black_box(script.evaluate(&mut context).unwrap());
    });
    println!("isolation: fresh Context + parse + eval per eval: {fresh:?}");

    let mut context = Context::default();
    context
        .register_global_property(
            js_string!("ctx"),
            JsValue::undefined(),
            boa_engine::property::Attribute::all(),
        )
        .unwrap();
    let script =
        Script::parse(JsSource::from_bytes(wrapped.as_bytes()), None, &mut context).unwrap();
    let global = context.global_object();
    let baseline: std::collections::HashSet<_> = global
        .own_property_keys(&mut context)
        .unwrap()
        .into_iter()
        .collect();
    let values: Vec<_> = baseline
        .iter()
        .map(|k| (k.clone(), global.get(k.clone(), &mut context).unwrap()))
        .collect();
    let block = per_iter(20_000, || {
        let v = input(&mut context);
        global
            .set(js_string!("ctx"), v, false, &mut context)
            .unwrap();
        black_box(script.evaluate(&mut context).unwrap());
    });
    println!("isolation: block-wrapped script re-run (no restore): {block:?}");
    let restore = per_iter(20_000, || {
        for key in global.own_property_keys(&mut context).unwrap() {
            if !baseline.contains(&key) {
                let _ = global.delete_property_or_throw(key, &mut context);
            }
        }
        for (k, v) in &values {
            let cur = global.get(k.clone(), &mut context).unwrap();
            black_box(JsValue::same_value(&cur, v));
        }
    });
    println!("isolation: restore globals, full diff (keys diff + value compare): {restore:?}");
    let expected = baseline.len();
    let count = per_iter(20_000, || {
        black_box(global.own_property_keys(&mut context).unwrap().len() == expected);
    });
    println!("isolation: restore globals, locked built-ins (own-key count only): {count:?}");
    let budgeted = per_iter(20_000, || {
        let v = input(&mut context);
        global
            .set(js_string!("ctx"), v, false, &mut context)
            .unwrap();
        let fut = script.evaluate_async_with_budget(&mut context, 4096);
        let mut fut = std::pin::pin!(fut);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(r) = std::future::Future::poll(fut.as_mut(), &mut cx) {
                black_box(r.unwrap());
                break;
            }
        }
    });
    println!("isolation: block script via budgeted (interruptible) evaluation: {budgeted:?}");

    let func_src = "(function (ctx) { const greeting = `Hello, ${ctx.name}!`; return { greeting, length: greeting.length }; })";
    let mut context = Context::default();
    let f = Script::parse(JsSource::from_bytes(func_src), None, &mut context)
        .unwrap()
        .evaluate(&mut context)
        .unwrap();
    let f = f.as_object().unwrap().clone();
    let call = per_iter(20_000, || {
        let v = input(&mut context);
        black_box(f.call(&JsValue::undefined(), &[v], &mut context).unwrap());
    });
    println!("isolation: function wrapper, compiled once, called per eval: {call:?}");

    // 4. Deadline check granularity: a busy loop with different budgets.
    for budget in [256_u32, 4096, 65_536] {
        let mut context = Context::default();
        let script = Script::parse(
            JsSource::from_bytes("let s = 0; for (let i = 0; i < 1e6; i++) { s += i; } s"),
            None,
            &mut context,
        )
        .unwrap();
        let t = per_iter(5, || {
            let fut = script.evaluate_async_with_budget(&mut context, budget);
            let mut fut = std::pin::pin!(fut);
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            loop {
                if let std::task::Poll::Ready(r) = std::future::Future::poll(fut.as_mut(), &mut cx)
                {
                    black_box(r.unwrap());
                    break;
                }
                black_box(Instant::now());
            }
        });
        println!("1e6-iteration loop, budget {budget}: {t:?}");
    }
    let mut context = Context::default();
    let script = Script::parse(
        JsSource::from_bytes("let s = 0; for (let i = 0; i < 1e6; i++) { s += i; } s"),
        None,
        &mut context,
    )
    .unwrap();
    let t = per_iter(5, || {
        black_box(script.evaluate(&mut context).unwrap());
    });
    println!("1e6-iteration loop, plain evaluate: {t:?}");
}
