//! A large input becomes a lazy `ctx` whose entries are converted as the
//! script reads them (issue 26): every script sees the same answers as with
//! the whole input converted first, and what it does not read costs nothing.

use polyscript_core::host::HostFunctions;
use polyscript_core::serde_json::{Value, json};
use polyscript_core::{Error, EvalContext, Evaluator, LimitKind, Limits, Source};
use polyscript_js::{JsEngine, set_lazy_min_keys};

/// An input of `n` numbered keys `k0`.., index-like keys (`"10"`, `"0"`,
/// which objects list first), a nested object and a null.
fn wide(n: usize) -> Value {
    let mut map = polyscript_core::Map::new();
    for i in 0..n {
        map.insert(format!("k{i}"), json!(i));
    }
    map.insert("10".into(), json!("ten"));
    map.insert("user".into(), json!({"name": "Ada", "tags": ["a", "b"]}));
    map.insert("0".into(), json!("zero"));
    map.insert("nothing".into(), Value::Null);
    Value::Object(map)
}

/// Runs `script` once with `input` on a thread that converts inputs of at
/// least `lazy_from` keys lazily. The thread has a big stack, so the eval
/// runs on it (and not on a worker, which would not see the setting).
fn run_on(lazy_from: usize, script: &str, input: Value, limits: Limits) -> Result<Value, Error> {
    run_with(JsEngine::new(), lazy_from, script, input, limits)
}

fn run_with(
    engine: JsEngine,
    lazy_from: usize,
    script: &str,
    input: Value,
    limits: Limits,
) -> Result<Value, Error> {
    let script = script.to_owned();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            set_lazy_min_keys(lazy_from);
            let evaluator = Evaluator::new(engine, Source::from_text(script))?;
            let ctx = EvalContext::with_data(input)?.with_limits(limits);
            evaluator.eval(&ctx).map(|r| r.into_value())
        })
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn lazy(script: &str, input: Value) -> Result<Value, Error> {
    run_on(0, script, input, Limits::default())
}

fn eager(script: &str, input: Value) -> Result<Value, Error> {
    run_on(usize::MAX, script, input, Limits::default())
}

/// An error as the test compares it: its kind and its message.
fn shown(outcome: Result<Value, Error>) -> Result<Value, String> {
    outcome.map_err(|e| format!("{e:?}"))
}

#[test]
fn the_setting_chooses_the_conversion() {
    // An unread entry the number rule refuses fails only when converted
    // eagerly: proof that the two runs below take different paths.
    let mut input = wide(20);
    input["huge"] = json!(u64::MAX);
    assert_eq!(lazy("ctx.k1", input.clone()).unwrap(), json!(1));
    let err = eager("ctx.k1", input).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
}

#[test]
fn by_default_inputs_of_eight_keys_or_more_are_lazy() {
    let outcome = |keys: usize| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || {
                let mut data = polyscript_core::Map::new();
                for i in 0..keys - 1 {
                    data.insert(format!("k{i}"), json!(i));
                }
                data.insert("huge".into(), json!(u64::MAX));
                let evaluator =
                    Evaluator::new(JsEngine::new(), Source::from_text("ctx.k0")).unwrap();
                evaluator
                    .eval(&EvalContext::with_data(Value::Object(data)).unwrap())
                    .map(|r| r.into_value())
            })
            .unwrap()
            .join()
            .unwrap()
    };
    assert!(matches!(outcome(7), Err(Error::InvalidData { .. })));
    assert_eq!(outcome(8).unwrap(), json!(0));
}

#[test]
fn lazy_and_eager_inputs_answer_the_same() {
    let scripts = [
        "ctx.k1",
        "[ctx.k1, ctx.user.name, ctx['user'].tags[1], ctx.missing === undefined, ctx.nothing]",
        "['k3' in ctx, 'nope' in ctx, 'toString' in ctx, '0' in ctx, 10 in ctx]",
        "Object.keys(ctx)",
        "ctx.k5; ctx.user; ctx[0]; Object.keys(ctx)",
        "ctx.k5; JSON.stringify(ctx)",
        "JSON.stringify(ctx, null, 1).length",
        "ctx",
        "ctx.k3; ctx",
        "({...ctx})",
        "Object.assign({}, ctx)",
        "let ks = []; for (const k in ctx) ks.push(k); ks",
        "Object.entries(ctx)[3]",
        "Object.values(ctx).length",
        "Reflect.ownKeys(ctx)",
        "Object.getOwnPropertyNames(ctx).length",
        "Object.getOwnPropertyDescriptor(ctx, 'k2')",
        "Object.getOwnPropertyDescriptor(ctx, 'nope') === undefined",
        "Object.getOwnPropertyDescriptors(ctx).user",
        "[ctx.hasOwnProperty('k2'), Object.prototype.hasOwnProperty.call(ctx, 'nope')]",
        "delete ctx.k1; [ctx.k1, 'k1' in ctx, Object.keys(ctx).length]",
        "ctx.k1; delete ctx.k1; ctx.k1",
        "ctx.k1 = 9; [ctx.k1, Object.keys(ctx).indexOf('k1')]",
        "ctx.added = 1; Object.keys(ctx).slice(-2)",
        "ctx.k1++; ctx.k1",
        "Object.freeze(ctx); ctx.k1 = 5; [Object.isFrozen(ctx), ctx.k1]",
        "'use strict'; Object.freeze(ctx); ctx.k1 = 5",
        "Object.preventExtensions(ctx); [Object.isExtensible(ctx), ctx.k2]",
        "Object.seal(ctx); delete ctx.k2; ctx.k2",
        "Object.getPrototypeOf(ctx) === Object.prototype",
        "Object.setPrototypeOf(ctx, null); [typeof ctx.toString, ctx.k3]",
        "[ctx.toString(), String(ctx), Object.prototype.toString.call(ctx)]",
        "ctx.__proto__ === Object.prototype",
        "[typeof ctx, Array.isArray(ctx), ctx instanceof Object]",
        "ctx.user === ctx.user",
        "const u = ctx.user; JSON.stringify(ctx); u === ctx.user",
        "const u = ctx.user; delete ctx.k0; u === ctx.user",
        "ctx.user.tags.push('c'); ctx.user.tags",
        "Object.defineProperty(ctx, 'x', {get() { return this === ctx }}); ctx.x",
        "Object.defineProperty(ctx, 'k1', {value: 7, writable: false}); ctx.k1 = 8; ctx.k1",
        "Object.create(ctx).k2",
        "const o = Object.create(ctx); o.k2 = 5; [o.k2, ctx.k2]",
        "with (ctx) { k1 + k2 }",
        "ctx.user.name.x.y",
        "ctx.self = ctx; ctx",
        "const {k1, user: {name}, ...rest} = ctx; [k1, name, Object.keys(rest).length]",
        "Object.keys(ctx).map(k => typeof ctx[k])",
        "new Map(Object.entries(ctx)).get('user')",
        "JSON.parse(JSON.stringify(ctx)).k4",
        "[ctx == ctx, ctx === globalThis.ctx]",
        "ctx = 5; ctx",
        "function f(n) { try { ctx.k1; return f(n + 1) } catch (e) { return [n, String(e)] } } f(0)",
        "function g(n) { try { return g(n + 1) } catch (e) { return n } } [ctx.k1, g(0)]",
    ];
    for script in scripts {
        let (l, e) = (lazy(script, wide(20)), eager(script, wide(20)));
        assert_eq!(shown(l), shown(e), "{script}");
    }
}

#[test]
fn host_functions_get_the_whole_lazy_ctx() {
    let engine = || {
        JsEngine::builder()
            .host_functions(HostFunctions::new().register("echo", |(v,): (Value,)| Ok(v)))
            .build()
    };
    for script in [
        "host.echo(ctx)",
        "ctx.k2; host.echo(ctx.user); host.echo(ctx)",
        "const c = host.echo(ctx); c.k2 = 5; [c.k2, ctx.k2]",
    ] {
        let l = run_with(engine(), 0, script, wide(20), Limits::default());
        let e = run_with(engine(), usize::MAX, script, wide(20), Limits::default());
        assert!(l.is_ok(), "{script}: {l:?}");
        assert_eq!(shown(l), shown(e), "{script}");
    }
}

#[test]
fn an_unread_entry_costs_nothing() {
    let mut input = wide(20);
    input["big"] = json!("x".repeat(2 << 20));
    let limits = Limits::default().with_memory_bytes(1 << 20);
    let out = run_on(0, "ctx.user.name", input.clone(), limits).unwrap();
    assert_eq!(out, json!("Ada"));
    let err = run_on(0, "ctx.big.length", input, limits).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: LimitKind::Memory,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn bad_data_is_an_input_error_where_it_is_read_even_when_caught() {
    let mut input = wide(20);
    input["huge"] = json!(u64::MAX);
    for script in [
        "ctx.huge",
        "try { ctx.huge } catch (e) { 'caught' }",
        "try { Object.keys(ctx) } catch (e) { 'caught' }",
        "try { JSON.stringify(ctx) } catch (e) { 'caught' } finally { 'finally' }",
        "ctx",
    ] {
        match lazy(script, input.clone()) {
            Err(Error::InvalidData { path, .. }) => {
                assert_eq!(path.as_deref(), Some("ctx.huge"), "{script}")
            }
            other => panic!("{script}: expected InvalidData, got {other:?}"),
        }
    }
}

#[test]
fn an_evaluator_goes_on_after_an_input_error_and_keeps_evals_apart() {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let evaluator = Evaluator::new(
                JsEngine::new(),
                Source::from_text("const before = ctx.k1; ctx.k1 = 99; delete ctx.k2; [before, ctx.bad === undefined]"),
            )
            .unwrap();
            let good = EvalContext::with_data(wide(20)).unwrap();
            let mut bad = wide(20);
            bad["bad"] = json!(u64::MAX);
            let bad = EvalContext::with_data(bad).unwrap();
            for _ in 0..3 {
                let out = evaluator.eval(&good).unwrap().into_value();
                assert_eq!(out, json!([1, true]));
                let err = evaluator.eval(&bad).unwrap_err();
                assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// One step of a generated script, `i` picking a key (`k10`, `k11` are
/// not in the input) and `v` a value; each step logs what it sees.
fn step(kind: u8, i: u8, v: u8) -> String {
    let k = format!("k{i}");
    let body = match kind % 18 {
        0 => format!("log.push(ctx.{k})"),
        1 => format!("log.push(ctx['{k}'])"),
        2 => format!("log.push('{k}' in ctx)"),
        3 => format!("log.push(ctx.hasOwnProperty('{k}'))"),
        4 => "log.push(Object.keys(ctx).join())".to_owned(),
        5 => "log.push(JSON.stringify(ctx))".to_owned(),
        6 => format!("ctx.{k} = {v}"),
        7 => format!("ctx.n{i} = {v}"),
        8 => format!("log.push(delete ctx.{k})"),
        9 => format!("log.push(Object.getOwnPropertyDescriptor(ctx, '{k}'))"),
        10 => [
            "Object.freeze(ctx)",
            "Object.seal(ctx)",
            "Object.preventExtensions(ctx)",
        ][usize::from(v % 3)]
        .to_owned(),
        11 => format!("log.push({{...ctx}}.{k})"),
        12 => "for (const k in ctx) log.push(k)".to_owned(),
        13 => format!("Object.defineProperty(ctx, '{k}', {{value: {v}, enumerable: false}})"),
        14 => format!("log.push(ctx.nested.a); ctx.nested.a = {v}"),
        15 => format!("log.push(ctx[0]); ctx[{}] = {v}", v % 3),
        16 => "log.push(Reflect.ownKeys(ctx).length, Object.isFrozen(ctx))".to_owned(),
        _ => format!("'use strict'; ctx.{k} = {v}; log.push(ctx.{k})"),
    };
    format!("try {{ {body} }} catch (e) {{ log.push(String(e)) }}\n")
}

/// The generated scripts' input: 12 top-level keys, lazy by default.
fn generated_input() -> Value {
    let mut map = polyscript_core::Map::new();
    for i in 0..10 {
        map.insert(format!("k{i}"), json!(i * 10));
    }
    map.insert("0".into(), json!("zero"));
    map.insert("nested".into(), json!({"a": 1}));
    Value::Object(map)
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(256))]

    /// Generated mixes of reads, writes, deletes, enumeration and freezing
    /// answer the same on the lazy and the eager `ctx`, step by step.
    #[test]
    fn generated_scripts_answer_the_same(
        steps in proptest::collection::vec((0u8..18, 0u8..12, 0u8..100), 1..10)
    ) {
        let mut script = String::from("const log = [];\n");
        for (kind, i, v) in steps {
            script.push_str(&step(kind, i, v));
        }
        script.push_str("[log, ctx]");
        let l = lazy(&script, generated_input());
        let e = eager(&script, generated_input());
        proptest::prop_assert!(l.is_ok(), "{script}: {l:?}");
        proptest::prop_assert_eq!(shown(l), shown(e), "{}", script);
    }
}
