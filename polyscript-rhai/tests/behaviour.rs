//! Rhai-specific behaviour: errors with positions, data fidelity, builder
//! options, sandbox and limit mapping.

use std::time::Duration;

use polyscript_core::{
    Error, EvalContext, Evaluator, LimitKind, Limits, Location, PoolConfig, Source, Value,
};
use polyscript_rhai::{RhaiEngine, rhai};
use serde_json::json;

fn evaluator(engine: RhaiEngine, script: &str) -> polyscript_core::Result<Evaluator<RhaiEngine>> {
    Evaluator::new(engine, Source::from_text(script))
}

fn eval(script: &str, data: Value) -> polyscript_core::Result<Value> {
    let ev = evaluator(RhaiEngine::new(), script)?;
    Ok(ev.eval(&EvalContext::with_data(data)?)?.into_value())
}

#[test]
fn compile_error_has_line_and_column() {
    let err = evaluator(RhaiEngine::new(), "let a = 1;\n  let b = ;\n").unwrap_err();
    match &err {
        Error::Compile {
            location, message, ..
        } => {
            assert_eq!(*location, Some(Location::new(2, 11)), "{err}");
            assert!(!message.is_empty());
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn runtime_error_has_line_and_column() {
    let err = eval(
        "let a = 1;\nlet b = 2;\nlet c = a + no_such_fn(b);\nc",
        json!({}),
    )
    .unwrap_err();
    match &err {
        Error::Runtime {
            location, message, ..
        } => {
            assert_eq!(location.map(|l| l.line), Some(3), "{err}");
            assert!(location.and_then(|l| l.column).is_some(), "{err}");
            assert!(message.contains("no_such_fn"), "{message}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn runtime_error_inside_a_function_points_into_the_function() {
    let script = "fn fail(x) {\n    throw \"bad \" + x;\n}\nfail(ctx.n)";
    let err = eval(script, json!({"n": 7})).unwrap_err();
    match &err {
        Error::Runtime {
            location, message, ..
        } => {
            assert_eq!(location.map(|l| l.line), Some(2), "{err}");
            assert!(message.contains("bad 7"), "{message}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn ctx_reads_by_field_and_by_index() {
    let got = eval(
        r#"[ctx.name, ctx["name"], ctx.user["address"].city, ctx.list[1]]"#,
        json!({"name": "Ada", "user": {"address": {"city": "London"}}, "list": [1, 2]}),
    )
    .unwrap();
    assert_eq!(got, json!(["Ada", "Ada", "London", 2]));
}

#[test]
fn ctx_is_a_constant() {
    let err = eval("ctx = 1; ctx", json!({})).unwrap_err();
    assert!(matches!(err, Error::Runtime { .. }), "{err:?}");
}

#[test]
fn ints_stay_ints_and_floats_stay_floats() {
    let got = eval(
        "#{ i: ctx.i + 1, f: ctx.f * 2.0, whole: 2.0, big: ctx.big, div: 7 / 2 }",
        json!({"i": 41, "f": 1.25, "big": 1_i64 << 53}),
    )
    .unwrap();
    assert_eq!(got["i"], json!(42));
    assert!(got["i"].is_i64());
    assert_eq!(got["f"], json!(2.5));
    assert!(got["whole"].is_f64(), "{got}");
    assert_eq!(got["big"], json!(1_i64 << 53));
    assert_eq!(got["div"], json!(3), "integer division stays integer");
}

#[test]
fn a_result_with_no_json_form_is_invalid_data() {
    let err = eval("fn f() {}\nFn(\"f\")", json!({})).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
    let err = eval("0.0 / 0.0", json!({})).unwrap_err();
    assert!(matches!(err, Error::InvalidData { .. }), "{err:?}");
}

#[test]
fn a_statement_result_is_null() {
    assert_eq!(eval("let x = 1;", json!({})).unwrap(), Value::Null);
    assert_eq!(eval("exit(5); 6", json!({})).unwrap(), json!(5));
}

#[test]
fn registered_function_via_builder() {
    let engine = RhaiEngine::builder()
        .register_fn("shout", |s: &str| s.to_uppercase())
        .configure(|engine: &mut rhai::Engine| {
            engine.register_fn("add3", |a: i64, b: i64, c: i64| a + b + c);
        })
        .build();
    let ev = evaluator(engine, "shout(ctx.name) + add3(1, 2, 3)").unwrap();
    let got = ev
        .eval(&EvalContext::with_data(json!({"name": "ada"})).unwrap())
        .unwrap();
    assert_eq!(got.value(), &json!("ADA6"));
}

#[test]
fn strict_variables_rejects_undeclared_names_at_compile_time() {
    let strict = || RhaiEngine::builder().strict_variables(true).build();
    let err = evaluator(strict(), "let a = 1;\nctx.n + nope").unwrap_err();
    match &err {
        Error::Compile { location, .. } => assert_eq!(location.map(|l| l.line), Some(2)),
        other => panic!("expected a compile error, got {other:?}"),
    }
    // `ctx` itself is declared; without strict mode the same script compiles.
    let ev = evaluator(strict(), "let a = 1;\nctx.n + a").unwrap();
    let got = ev
        .eval(&EvalContext::with_data(json!({"n": 1})).unwrap())
        .unwrap();
    assert_eq!(got.value(), &json!(2));
    assert!(evaluator(RhaiEngine::new(), "let a = 1;\nctx.n + nope").is_ok());
}

#[test]
fn eval_is_disabled_unless_allowed() {
    let script = r#"eval("40 + 2")"#;
    let err = evaluator(RhaiEngine::new(), script).unwrap_err();
    assert!(matches!(err, Error::Compile { .. }), "{err:?}");
    let ev = evaluator(RhaiEngine::builder().allow_eval(true).build(), script).unwrap();
    assert_eq!(ev.eval(&EvalContext::new()).unwrap().value(), &json!(42));
}

#[test]
fn import_fails_unless_a_resolver_is_granted() {
    let script = r#"import "greet" as g; g::hello(ctx.name)"#;
    let data = json!({"name": "Ada"});
    let err = eval(script, data.clone()).unwrap_err();
    assert!(matches!(err, Error::Runtime { .. }), "{err:?}");
    assert!(err.to_string().contains("greet"), "{err}");

    let engine = RhaiEngine::builder()
        .module_resolver(|| {
            let mut module = rhai::Module::new();
            module.set_native_fn("hello", |name: &str| Ok(format!("hi {name}")));
            let mut resolver = rhai::module_resolvers::StaticModuleResolver::new();
            resolver.insert("greet", module);
            resolver
        })
        .build();
    let ev = evaluator(engine, script).unwrap();
    let got = ev.eval(&EvalContext::with_data(data).unwrap()).unwrap();
    assert_eq!(got.value(), &json!("hi Ada"));
}

#[test]
fn print_and_debug_do_not_fail() {
    // They go to tracing; with no subscriber they are simply dropped.
    assert_eq!(
        eval(r#"print("x"); debug(1); 3"#, json!({})).unwrap(),
        json!(3)
    );
}

#[test]
fn nothing_leaks_between_evals_on_one_instance() {
    let ev = Evaluator::builder(
        RhaiEngine::new(),
        Source::from_text("let seen = is_def_var(\"x\"); let x = ctx.n; seen"),
    )
    .pool(PoolConfig::default().with_max_size(1))
    .build()
    .unwrap();
    for n in 0..3 {
        let got = ev
            .eval(&EvalContext::with_data(json!({"n": n})).unwrap())
            .unwrap();
        assert_eq!(got.value(), &json!(false));
    }
}

#[test]
fn limits_map_to_their_kinds() {
    let limited = |script: &str, limits: Limits| {
        let ev = Evaluator::builder(RhaiEngine::new(), Source::from_text(script))
            .limits(limits)
            .build()
            .unwrap();
        ev.eval(&EvalContext::new()).unwrap_err()
    };
    let base = Limits::default().with_timeout(Duration::from_secs(30));
    let kind = |e: &Error| match e {
        Error::LimitExceeded { limit, .. } => Some(*limit),
        _ => None,
    };

    let e = limited("fn f(n) { f(n + 1) } f(0)", base.with_call_depth(20));
    assert_eq!(kind(&e), Some(LimitKind::CallDepth), "{e:?}");
    let e = limited(
        "let a = [0]; loop { a += a; }",
        base.with_memory_bytes(1 << 20),
    );
    assert_eq!(kind(&e), Some(LimitKind::Memory), "{e:?}");
    let e = limited(
        "let m = #{}; let i = 0; loop { let n = #{}; n[`k${i}`] = i; m.mixin(n); i += 1; }",
        base.with_memory_bytes(1 << 16),
    );
    assert_eq!(kind(&e), Some(LimitKind::Memory), "{e:?}");
    let e = limited("loop {}", base.with_operations(1000));
    assert_eq!(kind(&e), Some(LimitKind::Operations), "{e:?}");
}

#[test]
fn per_call_operation_budget_overrides_the_evaluator_budget() {
    // 10_000 iterations need well over 1_000 operations.
    let script = "let s = 0; for i in 0..10000 { s += i; } s";
    let ev = Evaluator::builder(RhaiEngine::new(), Source::from_text(script))
        .limits(Limits::default().with_operations(1_000))
        .build()
        .unwrap();
    let err = ev.eval(&EvalContext::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: LimitKind::Operations,
                ..
            }
        ),
        "{err:?}"
    );
    // A larger per-call budget lets the same program finish...
    let roomy = EvalContext::new().with_limits(Limits::default().with_operations(1_000_000));
    assert_eq!(ev.eval(&roomy).unwrap().value(), &json!(49_995_000));
    // ...and a smaller one stops it.
    let ev = evaluator(RhaiEngine::new(), script).unwrap();
    let tight = EvalContext::new().with_limits(Limits::default().with_operations(500));
    let err = ev.eval(&tight).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: LimitKind::Operations,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_engine_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let engine = RhaiEngine::builder().register_fn("one", || 1_i64).build();
    assert_send_sync(&engine);
    let ev = evaluator(engine, "one() + ctx.n").unwrap();
    std::thread::scope(|s| {
        for n in 0..4_i64 {
            let ev = ev.clone();
            s.spawn(move || {
                let got = ev
                    .eval(&EvalContext::with_data(json!({"n": n})).unwrap())
                    .unwrap();
                assert_eq!(got.value(), &json!(n + 1));
            });
        }
    });
}

#[test]
fn map_growth_by_new_keys_is_stopped_by_the_operation_budget() {
    // rhai 1.27 does not size-check `m[new_key] = v` (see the crate docs), so
    // this bomb ends on the operation budget, not the memory limit.
    let script = "let m = #{}; let i = 0; loop { m[`k${i}`] = i; i += 1; }";
    let ev = Evaluator::builder(RhaiEngine::new(), Source::from_text(script))
        .limits(
            Limits::default()
                .with_timeout(Duration::from_secs(30))
                .with_memory_bytes(1 << 16)
                .with_operations(200_000),
        )
        .build()
        .unwrap();
    let err = ev.eval(&EvalContext::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: LimitKind::Operations | LimitKind::Memory,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn runtime_error_messages_carry_the_location_once() {
    let err = eval("let a = 1;\n    undefined_fn();\n", json!({})).unwrap_err();
    match &err {
        Error::Runtime {
            location, message, ..
        } => {
            assert_eq!(*location, Some(Location::new(2, 5)), "{err}");
            assert_eq!(message, "Function not found: undefined_fn ()");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("at line 2, column 5"), "{text}");
    assert!(!text.contains("(line"), "the position twice: {text}");

    // Inside a function: the innermost position is the location, the call
    // site is named once in the message.
    let err = eval("fn f(x) {\n  x.nope()\n}\nf(1)", json!({})).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.location().map(|l| l.line), Some(2), "{text}");
    assert!(
        text.contains("in call to function 'f' (called at line 4"),
        "{text}"
    );
    assert!(!text.contains("(line"), "{text}");
}

#[test]
fn per_call_memory_and_call_depth_limits_hold_without_the_allocator() {
    let ev = Evaluator::builder(
        RhaiEngine::new(),
        Source::from_text(r#"let s = ""; s.pad(4096, "x"); s += "y"; s.len()"#),
    )
    .pool(PoolConfig::default().with_max_size(1))
    .build()
    .unwrap();
    assert_eq!(ev.eval(&EvalContext::new()).unwrap().value(), &json!(4097));
    let tight = EvalContext::new().with_limits(Limits::default().with_memory_bytes(1024));
    let err = ev.eval(&tight).unwrap_err();
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
    assert_eq!(ev.eval(&EvalContext::new()).unwrap().value(), &json!(4097));

    let ev = evaluator(
        RhaiEngine::new(),
        "fn down(n) { if n == 0 { 0 } else { 1 + down(n - 1) } } down(20)",
    )
    .unwrap();
    let shallow = EvalContext::new().with_limits(Limits::default().with_call_depth(10));
    let err = ev.eval(&shallow).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: LimitKind::CallDepth,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(ev.eval(&EvalContext::new()).unwrap().value(), &json!(20));
}

#[test]
fn an_integer_above_i64_in_the_input_is_invalid_data_naming_its_path() {
    let err = eval("ctx.a.b", json!({"a": {"b": [1, u64::MAX]}})).unwrap_err();
    match &err {
        Error::InvalidData { path, message, .. } => {
            assert_eq!(path.as_deref(), Some("ctx.a.b[1]"), "{err}");
            assert!(message.contains("18446744073709551615"), "{message}");
        }
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn results_without_a_json_form_name_the_path_and_type() {
    let err = eval("#{ list: [1, 0.0 / 0.0] }", json!({})).unwrap_err();
    match &err {
        Error::InvalidData { path, .. } => assert_eq!(path.as_deref(), Some("result.list[1]")),
        other => panic!("expected InvalidData, got {other:?}"),
    }
    for (script, what) in [
        ("fn f() {}\n#{ f: Fn(\"f\") }", "function pointer"),
        ("#{ t: timestamp() }", "timestamp"),
    ] {
        let err = eval(script, json!({})).unwrap_err();
        match &err {
            Error::InvalidData { path, message, .. } => {
                assert!(
                    path.as_deref().is_some_and(|p| p.starts_with("result.")),
                    "{err}"
                );
                assert!(message.contains(what), "{message}");
            }
            other => panic!("expected InvalidData, got {other:?}"),
        }
    }
}

#[test]
fn numbers_round_trip_exactly() {
    let got = eval(
        "[ctx.zero, ctx.max, ctx.min, ctx.f, 'c', blob(2, 7), ()]",
        json!({"zero": -0.0, "max": i64::MAX, "min": i64::MIN, "f": 0.1}),
    )
    .unwrap();
    let zero = got[0].as_f64().unwrap();
    assert!(zero == 0.0 && zero.is_sign_negative(), "{got}");
    assert_eq!(got[1], json!(i64::MAX));
    assert_eq!(got[2], json!(i64::MIN));
    assert_eq!(got[3], json!(0.1));
    assert_eq!(got[4], json!("c"), "a char is a string");
    assert_eq!(got[5], json!([7, 7]), "a BLOB is a list of bytes");
    assert_eq!(got[6], Value::Null);
}

#[test]
fn a_shared_result_is_flattened() {
    let got = eval(
        "let x = [1, 2]; let f = || x; x.push(3); #{ a: x, b: f.call() }",
        json!({}),
    )
    .unwrap();
    assert_eq!(got, json!({"a": [1, 2, 3], "b": [1, 2, 3]}));
}

#[test]
fn a_call_depth_error_in_a_sort_comparator_is_not_swallowed() {
    let err = eval(
        "fn r(n) { r(n + 1) }\nlet a = [3, 1, 2];\na.sort(|x, y| r(0));\na",
        json!({}),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: LimitKind::CallDepth,
                ..
            }
        ),
        "{err:?}"
    );
}

/// polyscript replaces rhai's printing, `to_json` and equality of arrays
/// and maps (to bound their recursion): the results are rhai's own.
#[test]
fn printing_and_comparing_keep_rhai_formats() {
    let script = r#"
        let a = [1, "x\n", 'c', 2.0, -0.5e-10, (), #{k: [true, blob(2, 255)], "a b": #{}}];
        let p = a + [Fn("f")];
        let m = #{x: a, y: [[], #{}], z: 1.5};
        let same = [[1, [2]], #{p: [3]}];
        [
            p.to_string(), p.to_debug(), `${p}`, "s" + p, m.to_string(), m.to_debug(),
            m.to_json(), a == a, a != [1], m == m, same == [[1, [2]], #{p: [3]}],
            same == [[1, [2]], #{p: [4]}], [1] == ["1"], #{a: [1]} != #{a: [1]},
            [1, 2, 3].contains(2), [[1], [2]].index_of([2]), #{p: p}.to_json()
        ]
    "#;
    let ours = eval(script, json!({})).unwrap();
    let theirs = rhai::Engine::new().eval::<rhai::Dynamic>(script).unwrap();
    let theirs: Value = rhai::serde::from_dynamic(&theirs).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(
        ours[0],
        json!(r#"[1, "x\n", c, 2.0, -5e-11, (), #{"a b": #{}, "k": [true, [ffff]]}, Fn(f)]"#)
    );
}
