//! A large input is converted only as far as the script can read it (issue
//! 26): a script sees the same answers as with the whole input converted,
//! whichever way it uses `ctx`, and what it cannot read costs nothing.

use polyscript_core::serde_json::{Value, json};
use polyscript_core::{Error, EvalContext, Evaluator, LimitKind, Limits, Source};
use polyscript_rhai::{RhaiEngine, rhai};

/// An input of `n` keys `k0`.. (numbers), plus a nested map and a list.
fn wide(n: usize) -> Value {
    let mut map = polyscript_core::Map::new();
    for i in 0..n {
        map.insert(format!("k{i}"), json!(i));
    }
    map.insert("user".into(), json!({"name": "Ada", "tags": ["a", "b"]}));
    map.insert("nothing".into(), Value::Null);
    Value::Object(map)
}

/// Both sizes: small inputs are always converted whole, large ones only as
/// far as the script can read; every answer must be the same for both.
const SIZES: [usize; 2] = [3, 500];

fn run_with(
    engine: RhaiEngine,
    script: &str,
    input: Value,
    limits: Limits,
) -> Result<Value, Error> {
    let evaluator = Evaluator::new(engine, Source::from_text(script))?;
    let ctx = EvalContext::with_data(input)?.with_limits(limits);
    evaluator.eval(&ctx).map(|response| response.into_value())
}

fn run(script: &str, input: Value) -> Result<Value, Error> {
    run_with(RhaiEngine::new(), script, input, Limits::default())
}

#[test]
fn named_reads_see_the_input() {
    for n in SIZES {
        let out = run(
            r#"[ctx.k1, ctx.user.name, ctx["user"].tags[1], ctx?.missing == (), ctx.nothing == (),
                ctx.user.tags.len(), ctx.k2 + ctx.k2]"#,
            wide(n),
        )
        .unwrap();
        assert_eq!(out, json!([1, "Ada", "b", true, true, 2, 4]), "{n} keys");
    }
}

#[test]
fn every_other_use_sees_the_whole_input() {
    let cases = [
        ("ctx.len()", json!(5), json!(502)),
        ("ctx.keys().len()", json!(5), json!(502)),
        (r#"let k = "k2"; ctx[k]"#, json!(2), json!(2)),
        (r#""k2" in ctx"#, json!(true), json!(true)),
        ("let c = ctx; c.k2", json!(2), json!(2)),
        ("let f = || ctx.k2; f.call()", json!(2), json!(2)),
        (
            "let n = 0; for k in ctx.keys() { n += 1 } n",
            json!(5),
            json!(502),
        ),
        ("type_of(ctx)", json!("map"), json!("map")),
        ("ctx.k0 + ctx.len()", json!(5), json!(502)),
    ];
    for (script, small, large) in cases {
        assert_eq!(run(script, wide(3)).unwrap(), small, "{script}, 3 keys");
        assert_eq!(run(script, wide(500)).unwrap(), large, "{script}, 500 keys");
    }
    // The whole map, as the result.
    let out = run("ctx", wide(500)).unwrap();
    assert_eq!(out, wide(500));
}

#[test]
fn functions_do_not_see_ctx_either_way() {
    // rhai functions do not capture the caller's variables; the walk also
    // looks inside them, so a function naming `ctx` cannot narrow the input.
    for n in SIZES {
        let outcome = run("fn f() { global::ctx } f()", wide(n));
        let message = format!("{outcome:?}");
        assert!(outcome.is_err(), "{n} keys: {message}");
    }
    for n in SIZES {
        let out = run("fn f(ctx) { ctx.user.name } f(ctx)", wide(n)).unwrap();
        assert_eq!(out, json!("Ada"), "{n} keys");
    }
}

#[test]
fn an_unread_entry_costs_nothing() {
    // 2 MiB the script never reads, under a 1 MiB limit.
    let mut input = wide(500);
    input["blob"] = json!("x".repeat(2 << 20));
    let limits = Limits::default().with_memory_bytes(1 << 20);
    let out = run_with(RhaiEngine::new(), "ctx.k7", input.clone(), limits).unwrap();
    assert_eq!(out, json!(7));
    // Read, it is past the limit as before.
    let outcome = run_with(RhaiEngine::new(), "ctx.blob.len()", input, limits);
    assert!(
        matches!(
            outcome,
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                ..
            })
        ),
        "{outcome:?}"
    );
}

#[test]
fn bad_data_is_an_error_where_it_is_read() {
    let mut input = wide(500);
    input["huge"] = json!(u64::MAX);
    assert_eq!(run("ctx.k3", input.clone()).unwrap(), json!(3));
    for script in ["ctx.huge", "ctx.len()"] {
        match run(script, input.clone()) {
            Err(Error::InvalidData { path, .. }) => {
                assert_eq!(path.as_deref(), Some("ctx.huge"), "{script}")
            }
            other => panic!("{script}: expected InvalidData, got {other:?}"),
        }
    }
}

#[test]
fn eval_and_free_configuration_see_the_whole_input() {
    let with_eval = RhaiEngine::builder().allow_eval(true).build();
    let out = run_with(
        with_eval,
        r#"eval("ctx.len()")"#,
        wide(500),
        Limits::default(),
    );
    assert_eq!(out.unwrap(), json!(502));

    // A variable resolver reading the scope: it sees every entry.
    let configured = RhaiEngine::builder()
        .configure(|engine| {
            #[allow(deprecated)]
            engine.on_var(|name, _, context| {
                Ok((name == "size").then(|| {
                    let ctx = context.scope().get_value::<rhai::Map>("ctx").unwrap();
                    rhai::Dynamic::from_int(ctx.len() as i64)
                }))
            });
        })
        .build();
    let out = run_with(configured, "size + ctx.k0", wide(500), Limits::default());
    assert_eq!(out.unwrap(), json!(502));

    // `register_fn` cannot see the scope: the input is narrowed.
    let registered = RhaiEngine::builder()
        .register_fn("twice", |x: i64| x * 2)
        .build();
    let out = run_with(registered, "twice(ctx.k4)", wide(500), Limits::default());
    assert_eq!(out.unwrap(), json!(8));

    // rhai does not call a property getter on a map (`ctx.size` is the
    // entry, absent here), so a getter cannot see the whole map either:
    // were that to change with a rhai upgrade, this fails.
    for n in SIZES {
        let getter = RhaiEngine::builder()
            .register_fn("get$size", |map: &mut rhai::Map| map.len() as i64)
            .build();
        let out = run_with(getter, "ctx.size", wide(n), Limits::default());
        assert_eq!(out.unwrap(), Value::Null, "{n} keys");
    }
}

#[test]
fn isolation_across_evals_is_unchanged() {
    let evaluator = Evaluator::new(RhaiEngine::new(), Source::from_text("ctx.k1")).unwrap();
    for i in 0..3 {
        let mut input = wide(500);
        input["k1"] = json!(i);
        let ctx = EvalContext::with_data(input).unwrap();
        assert_eq!(evaluator.eval(&ctx).unwrap().into_value(), json!(i));
    }
}

/// Differential: each script, on one 500-key input, answers the same (value
/// or error message) whether the input is narrowed to what the script reads
/// or converted whole (a `configure` hook, even an empty one, keeps the
/// whole conversion).
#[test]
fn narrowed_and_whole_inputs_answer_the_same() {
    let scripts = [
        "ctx.k7",
        "ctx.k7 + ctx.k8 * ctx.k9",
        r#"ctx["k7"] + ctx["k499"]"#,
        "ctx.absent",
        "ctx?.absent?.deeper",
        "ctx.user.name.len() + ctx.user.tags.len()",
        "ctx.user.tags[0] + ctx.user.tags[1]",
        "ctx.user.tags[5]",
        "ctx.nothing.x",
        "ctx.k1.x",
        "ctx.k1 = 5; ctx.k1",
        "ctx.user.name = \"x\"; ctx.user",
        "let u = ctx.user; u.name = \"B\"; [u.name, ctx.user.name]",
        "let t = ctx.user.tags; t.push(\"c\"); [t.len(), ctx.user.tags.len()]",
        "ctx.user.tags.push(\"c\"); ctx.user.tags",
        "if ctx.k3 > 2 { ctx.user } else { ctx.nothing }",
        "switch ctx.k2 { 2 => ctx.k4, _ => 0 }",
        "let s = 0; for i in 0..ctx.k9 { s += ctx.k1 } s",
        "let s = 0; for t in ctx.user.tags { s += t.len() } s",
        "fn f(x) { x.name } f(ctx.user)",
        "fn f() { ctx } f()",
        "fn f() { ctx.k1 } f()",
        "fn f(m) { m.len() } f(ctx)",
        "`${ctx.k1}-${ctx.user.name}`",
        "ctx.keys().len()",
        "ctx.values().len()",
        "ctx.len()",
        "ctx.contains(\"k3\")",
        r#""k3" in ctx"#,
        "ctx.k1 in [1, 2]",
        "let m = ctx; m.k3",
        "let c = || ctx.k5; c.call()",
        "[ctx][0].k6",
        "#{ a: ctx }.a.k6",
        "ctx == ctx",
        "ctx.to_json().len()",
        "type_of(ctx.user)",
        "ctx.user.keys()",
        "ctx.k1.abs() + ctx.k2.to_float()",
        "let k = \"k\" + 3; ctx[k]",
        "ctx[ctx.user.name]",
        "ctx.user[\"name\"]",
        "throw ctx.user.name",
        "ctx.fn_that_does_not_exist()",
        "ctx.k1.fn_that_does_not_exist()",
        "Fn(\"type_of\").call(ctx.user)",
        "export const x = ctx.k1; x",
    ];
    let whole_engine = || RhaiEngine::builder().configure(|_| {}).build();
    for script in scripts {
        let narrowed = run(script, wide(500)).map_err(|e| e.to_string());
        let whole = run_with(whole_engine(), script, wide(500), Limits::default())
            .map_err(|e| e.to_string());
        assert_eq!(narrowed, whole, "{script}");
    }
}
