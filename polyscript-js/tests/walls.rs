//! The repros of issue 16 (JavaScript walls) and the JavaScript items of
//! issue 14 (data bounds), in both thread modes, with polyscript's
//! accounting allocator installed (as the facade does by default).
//! `memory_fallback.rs` runs the memory repros without it.

mod common;

use std::time::Duration;

use common::{Ends, MODES, ended_as, evaluator, in_child, peak_rss, run, timed};
use polyscript_core::alloc::Accounting;
use polyscript_core::serde_json::json;
use polyscript_core::{
    Error, EvalContext, Evaluator, LimitKind, Limits, PoolConfig, Source, Value,
};
use polyscript_js::{JsEngine, ThreadMode};

#[global_allocator]
static ALLOCATOR: Accounting = Accounting::system();

/// Generous bound for "stopped by its deadline": the goal (deadline +
/// 100 ms) is measured, not asserted; this only catches a hang.
const STOP_MARGIN: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------- built-ins

const ATTACK_THEN_CHECK: &str = r#"
if (ctx.phase === 'attack') {
    Object.prototype.leak = ctx.secret;
    String.prototype.toUpperCase = () => 'pwned';
    JSON.parse = () => 1;
    delete String.prototype.repeat;
    Array.prototype.push = function () { return 'pwned'; };
    Math.max = () => -1;
    let refused = 0;
    for (const attack of [
        () => Object.defineProperty(Object.prototype, 'leak2', { value: ctx.secret }),
        () => Object.setPrototypeOf(Array.prototype, { evil: 1 }),
        () => Reflect.defineProperty(Function.prototype, 'call', { value: 1 }) || undefined.x,
        () => { 'use strict'; Object.prototype.leak = 1; },
        () => { 'use strict'; delete String.prototype.trim; },
    ]) {
        try { attack(); } catch (e) { if (e instanceof TypeError) refused++; }
    }
    refused
} else {
    ({
        leak: ({}).leak,
        leak2: ({}).leak2,
        upper: 'a'.toUpperCase(),
        parse: JSON.parse('[1]'),
        repeat: typeof String.prototype.repeat,
        push: [].push(7),
        max: Math.max(1, 2),
        evil: [].evil,
        call: typeof Function.prototype.call,
        trim: typeof ''.trim,
        secret: ctx.secret,
    })
}
"#;

#[test]
fn changes_to_built_ins_never_reach_the_next_eval() {
    for mode in MODES {
        let ev = evaluator(ATTACK_THEN_CHECK, mode, Limits::default());
        let refused = run(&ev, json!({"phase": "attack", "secret": "s3cret"})).unwrap();
        assert_eq!(refused, json!(5), "{mode:?}: every attack is refused");
        let seen = run(&ev, json!({"phase": "check", "secret": "mine"})).unwrap();
        assert_eq!(
            seen,
            json!({"upper": "A", "parse": [1], "repeat": "function", "push": 1, "max": 2,
                   "call": "function", "trim": "function", "secret": "mine"}),
            "{mode:?}"
        );
        assert_eq!(ev.pool_stats().created, 1, "{mode:?}: frozen, not rebuilt");
    }
}

#[test]
fn strict_code_assigning_a_built_in_gets_a_type_error() {
    let ev = evaluator(
        "'use strict';\nString.prototype.toUpperCase = () => 'pwned';",
        ThreadMode::CallerThread,
        Limits::default(),
    );
    match run(&ev, json!({})) {
        Err(Error::Runtime {
            message, location, ..
        }) => {
            assert!(message.starts_with("TypeError"), "{message}");
            assert_eq!(location.map(|l| l.line), Some(2));
        }
        other => panic!("expected a TypeError, got {other:?}"),
    }
}

#[test]
fn scripts_still_override_inherited_methods_on_their_own_objects() {
    let ev = evaluator(
        r#"
        function Animal(name) { this.name = name; }
        Animal.prototype.toString = function () { return 'animal ' + this.name; };
        function Dog(name) { Animal.call(this, name); }
        Dog.prototype = Object.create(Animal.prototype);
        Dog.prototype.constructor = Dog;
        class MyError extends Error {}
        MyError.prototype.name = 'MyError';
        const o = {};
        o.toString = () => 'own';
        o.valueOf = () => 42;
        const arr = [1, 2];
        Object.defineProperty(arr, 'push', { value: () => 'mine' });
        [String(new Dog('rex')), new Dog('a').constructor === Dog, String(new MyError('x')),
         String(o), o * 1, arr.push(3), ({}).toString(), [].constructor === Array]
        "#,
        ThreadMode::CallerThread,
        Limits::default(),
    );
    assert_eq!(
        run(&ev, json!({})).unwrap(),
        json!([
            "animal rex",
            true,
            "MyError: x",
            "own",
            42,
            "mine",
            "[object Object]",
            true
        ])
    );
}

#[test]
fn deleting_repeat_does_not_remove_the_memory_check() {
    let ev = evaluator(
        "if (ctx.phase === 'attack') { delete String.prototype.repeat; 0 } else { 'x'.repeat(2 ** 28).length }",
        ThreadMode::CallerThread,
        Limits::default(),
    );
    run(&ev, json!({"phase": "attack"})).unwrap();
    let outcome = run(&ev, json!({"phase": "check"}));
    assert!(
        ended_as(&outcome, Ends::Limit(LimitKind::Memory)),
        "{outcome:?}"
    );
}

// ---------------------------------------------------------------- deadlines

const STUCK_IN_NATIVE_CALLS: &[(&str, &str)] = &[
    ("regex backtracking", "/(a+)+$/.test('a'.repeat(40) + '!')"),
    (
        "sort comparator calling a looping function",
        "function spin() { for (;;) {} }\n[3, 1, 2].sort(() => spin())",
    ),
    (
        "eval reached from a callback",
        "[1].map(() => eval('for(;;){}'))",
    ),
    (
        "getter run by a native",
        "JSON.stringify({ get x() { for (;;) {} } })",
    ),
    (
        "JSON.parse reviver",
        "JSON.parse('[1, 2]', () => { for (;;) {} })",
    ),
    ("Proxy trap", "new Proxy({}, { get() { for (;;) {} } }).x"),
    ("Function()", "Function('for (;;) {}')()"),
    (
        "generator",
        "function* g() { for (;;) yield 1 }\nfor (const x of g()) {}",
    ),
    ("promise jobs", "(async () => { for (;;) await null })()"),
    (
        "toString called by a native",
        "[{ toString() { for (;;) {} } }].join()",
    ),
    (
        "native loop over a huge length",
        "Array.prototype.indexOf.call({ length: 2 ** 53 - 1 }, 1)",
    ),
];

#[test]
fn evals_stuck_inside_native_calls_end_by_their_deadline() {
    let timeout = Duration::from_millis(300);
    let limits = Limits::default()
        .with_timeout(timeout)
        .without_operation_limit();
    for mode in MODES {
        for (name, script) in STUCK_IN_NATIVE_CALLS {
            let ev = evaluator(script, mode, limits);
            let (outcome, took) = timed(&ev);
            eprintln!("{mode:?} {name}: {took:?}");
            assert!(
                matches!(outcome, Err(Error::Timeout { .. })),
                "{mode:?} {name}: {outcome:?}"
            );
            assert!(
                took < timeout + STOP_MARGIN,
                "{mode:?} {name}: took {took:?}"
            );
        }
    }
}

#[test]
fn cancellation_reaches_a_script_stuck_in_a_regex() {
    for mode in MODES {
        let ev = evaluator(
            "/(x+x+)+y/.test('x'.repeat(50))",
            mode,
            Limits::default().without_timeout(),
        );
        let token = polyscript_core::CancelToken::new();
        let canceller = {
            let token = token.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                token.cancel();
            })
        };
        let start = std::time::Instant::now();
        let outcome = ev.eval(
            &EvalContext::with_data(json!({}))
                .unwrap()
                .with_cancel_token(token),
        );
        canceller.join().unwrap();
        eprintln!("{mode:?} cancel: {:?}", start.elapsed());
        assert!(
            matches!(outcome, Err(Error::Cancelled { .. })),
            "{mode:?}: {outcome:?}"
        );
        assert!(start.elapsed() < STOP_MARGIN, "{mode:?}");
    }
}

#[test]
fn the_operation_limit_counts_loops_in_every_frame() {
    // Each comparator call loops a little; the count spans all the calls.
    let ev = evaluator(
        "const a = Array.from({ length: 2000 }, (_, i) => i);\n\
         a.sort((x, y) => { for (let i = 0; i < 1000; i++) {} return y - x; });",
        ThreadMode::CallerThread,
        Limits::default().with_operations(1_000_000),
    );
    let outcome = run(&ev, json!({}));
    assert!(
        ended_as(&outcome, Ends::Limit(LimitKind::Operations)),
        "{outcome:?}"
    );
}

#[test]
fn catch_and_finally_do_not_swallow_a_stop() {
    let ev = evaluator(
        "let caught = 0;\nfor (;;) { try { for (;;) {} } catch (e) { caught++; } finally { caught++; } }",
        ThreadMode::CallerThread,
        Limits::default()
            .with_timeout(Duration::from_millis(200))
            .without_operation_limit(),
    );
    let (outcome, took) = timed(&ev);
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
    assert!(took < STOP_MARGIN);
}

// ---------------------------------------------------------------- memory

/// Memory bombs, each run in a child process so that its peak resident
/// memory is its own: `LimitExceeded(Memory)` before the process grew by
/// twice the limit (plus the slack of a debug build's allocator).
const MEMORY_BOMBS: &[(&str, &str)] = &[
    ("s += s", "let s = 'x'; for (;;) s += s;"),
    ("template literal", "let s = 'x'; for (;;) s = `${s}${s}`;"),
    (
        "a[a.length] = ...",
        "const a = []; for (;;) a[a.length] = { i: a.length };",
    ),
    (
        "push",
        "const a = []; for (;;) a.push(1, 2, 3, 4, 5, 6, 7, 8);",
    ),
    ("join", "new Array(2e7).join('x')"),
    ("fill", "new Array(5e7).fill(0)"),
    ("repeat", "'x'.repeat(2 ** 28)"),
    ("padStart", "'x'.padStart(2 ** 29)"),
    (
        "concat",
        "const s = 'x'.repeat(1e6); s.concat(...Array(2000).fill(s))",
    ),
    (
        "replaceAll",
        "'x'.repeat(1e5).replaceAll('x', 'y'.repeat(1000))",
    ),
    ("split", "'x'.repeat(1e7).split('')"),
    ("typed array", "new Float64Array(2 ** 27)"),
    (
        "many typed arrays",
        "const a = []; for (;;) a.push(new Uint8Array(1 << 20));",
    ),
    ("Array(n) spread", "[...Array(1e8).keys()]"),
    ("Array.from", "Array.from({ length: 1e8 }, (_, i) => i)"),
    (
        "object growth",
        "const o = {}; for (let i = 0; ; i++) o['k' + i] = i;",
    ),
    (
        "Map growth",
        "const m = new Map(); for (let i = 0; ; i++) m.set(i, [i]);",
    ),
    (
        "JSON.stringify",
        "const a = Array(1e6).fill('xxxxxxxx'); for (;;) a.push(JSON.stringify(a));",
    ),
    ("JSON.parse", "JSON.parse('[' + '1,'.repeat(4e6) + '1]')"),
    (
        "Object.keys",
        "const a = new Array(4e6).fill(0); Object.keys(a)",
    ),
    (
        "Object.freeze",
        "const a = new Array(4e6).fill(0); Object.freeze(a)",
    ),
    (
        "regex compile",
        "new RegExp(Array.from({ length: 1e6 }, (_, i) => 'x' + i).join('|'))",
    ),
];

#[test]
fn memory_bombs_end_at_the_memory_limit() {
    const LIMIT: u64 = 16 * 1024 * 1024;
    for (name, script) in MEMORY_BOMBS {
        in_child("memory_bombs_end_at_the_memory_limit", name, || {
            for mode in MODES {
                let limits = Limits::default()
                    .with_memory_bytes(LIMIT)
                    .with_timeout(Duration::from_secs(60))
                    .without_operation_limit();
                let ev = evaluator(script, mode, limits);
                let before = peak_rss();
                let (outcome, took) = timed(&ev);
                let grew = peak_rss().saturating_sub(before);
                eprintln!("{mode:?} {name}: {took:?}, peak grew {} MiB", grew >> 20);
                assert!(
                    ended_as(&outcome, Ends::Limit(LimitKind::Memory)),
                    "{mode:?} {name}: {outcome:?}"
                );
                assert!(
                    grew < 2 * LIMIT + (16 << 20),
                    "{mode:?} {name}: resident memory grew by {} MiB",
                    grew >> 20
                );
            }
        });
    }
}

#[test]
fn garbage_does_not_count_as_held_memory() {
    // Each round drops the previous array: what is held stays small even
    // though far more than the limit is allocated over the eval.
    let ev = evaluator(
        "let total = 0;\nfor (let i = 0; i < 40; i++) { const a = new Array(1e5).fill(i); total += a.length; }\ntotal",
        ThreadMode::CallerThread,
        Limits::default()
            .with_memory_bytes(4 * 1024 * 1024)
            .with_timeout(Duration::from_secs(60)),
    );
    assert_eq!(run(&ev, json!({})).unwrap(), json!(4_000_000));
}

// ---------------------------------------------------------------- compile

#[test]
fn deep_nesting_is_a_compile_error_not_an_abort() {
    let shapes = [
        (
            "parentheses",
            format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        ),
        (
            "brackets",
            format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        ),
        (
            "braces",
            format!("{}{}", "{".repeat(10_000), "}".repeat(10_000)),
        ),
        (
            "objects",
            format!("({}1{})", "{a:".repeat(10_000), "}".repeat(10_000)),
        ),
        ("unary", format!("{}1", "!".repeat(100_000))),
        ("binary chain", format!("1{}", " + 1".repeat(200_000))),
        ("member chain", format!("a{}", ".b".repeat(100_000))),
        ("call chain", format!("f{}", "()".repeat(100_000))),
        ("ternaries", format!("{}1", "a ? 1 : ".repeat(10_000))),
        ("arrows", format!("{}1", "() => ".repeat(10_000))),
        (
            "if without braces",
            format!("{}1;", "if (a) ".repeat(10_000)),
        ),
        (
            "else-if chain",
            format!("if (a) 1;{}", " else if (a) 1;".repeat(10_000)),
        ),
        (
            "functions",
            format!("{}{}", "function f() {".repeat(10_000), "}".repeat(10_000)),
        ),
        ("assignments", format!("a{}", " = a".repeat(100_000))),
        ("logical or", format!("a{}", " || a".repeat(100_000))),
        ("exponents", format!("a{}", " ** a".repeat(100_000))),
        (
            "templates",
            format!("{}1{}", "`${".repeat(10_000), "}`".repeat(10_000)),
        ),
        (
            "patterns",
            format!("let {}a{} = 1;", "[".repeat(10_000), "]".repeat(10_000)),
        ),
        ("new", format!("{}X", "new ".repeat(100_000))),
        ("comma", format!("1{}", ", 1".repeat(200_000))),
    ];
    for (name, script) in shapes {
        in_child("deep_nesting_is_a_compile_error_not_an_abort", name, || {
            // On a small stack, as a caller's thread may have.
            std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(
                    move || match Evaluator::new(JsEngine::new(), Source::from_text(script)) {
                        Err(Error::Compile {
                            message,
                            location: Some(location),
                            ..
                        }) => {
                            assert!(message.contains("nested too deeply"), "{name}: {message}");
                            assert!(!message.contains(" at line "), "{name}: {message}");
                            assert_eq!(location.line, 1, "{name}");
                        }
                        Err(other) => panic!("{name}: {other:?}"),
                        Ok(_) => panic!("{name}: compiled"),
                    },
                )
                .expect("spawn")
                .join()
                .expect("no panic");
        });
    }
}

#[test]
fn nesting_within_the_limit_compiles_and_runs_on_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let script = format!("{}ctx.n{}", "(".repeat(900), ")".repeat(900));
            let ev = evaluator(&script, ThreadMode::CallerThread, Limits::default());
            assert_eq!(run(&ev, json!({"n": 5})).unwrap(), json!(5));
            let ev = evaluator(
                &format!("eval('{}1{}')", "[".repeat(900), "]".repeat(900)),
                ThreadMode::CallerThread,
                Limits::default(),
            );
            assert!(run(&ev, json!({})).is_err(), "deeper than the data depth");
            let ev = evaluator(
                "eval('(' .repeat(5000) + ')'.repeat(5000))",
                ThreadMode::CallerThread,
                Limits::default(),
            );
            match run(&ev, json!({})) {
                Err(Error::Runtime { message, .. }) => {
                    assert!(message.starts_with("SyntaxError"), "{message}")
                }
                other => panic!("{other:?}"),
            }
        })
        .expect("spawn")
        .join()
        .expect("no overflow");
}

#[test]
fn the_source_size_has_a_cap() {
    let big = format!("'{}'", "x".repeat(1_100_000));
    let engine = JsEngine::builder().max_source_bytes(1024 * 1024).build();
    match Evaluator::new(engine, Source::from_text(big.clone())) {
        Err(Error::Compile { message, .. }) => {
            assert!(message.contains("max_source_bytes"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let engine = JsEngine::builder()
        .max_source_bytes(2 * 1024 * 1024)
        .build();
    assert!(Evaluator::new(engine, Source::from_text(big)).is_ok());
}

#[test]
fn compiling_a_huge_script_is_bounded_by_the_memory_limit() {
    in_child(
        "compiling_a_huge_script_is_bounded_by_the_memory_limit",
        "10 MB",
        || {
            let script = "x = [1, 2, 3, 'four', { five: 5 }];\n".repeat(300_000);
            assert!(script.len() > 10_000_000);
            let limit = 64 * 1024 * 1024;
            let engine = JsEngine::builder().max_source_bytes(64 << 20).build();
            let before = peak_rss();
            let start = std::time::Instant::now();
            let outcome = Evaluator::builder(engine, Source::from_text(script))
                .limits(Limits::default().with_memory_bytes(limit))
                .pool(PoolConfig::default().with_min_idle(0))
                .build();
            let grew = peak_rss().saturating_sub(before);
            eprintln!(
                "10 MB script: {:?}, peak grew {} MiB",
                start.elapsed(),
                grew >> 20
            );
            match outcome {
                Err(Error::Compile { message, .. }) => {
                    assert!(message.contains("memory limit"), "{message}")
                }
                Err(other) => panic!("{other:?}"),
                Ok(_) => panic!("compiled"),
            }
            assert!(grew < 2 * limit + (16 << 20), "grew {} MiB", grew >> 20);
        },
    );
}

#[test]
fn an_unterminated_string_literal_has_a_location() {
    for (script, line, column) in [
        ("const a = 1;\nconst s = 'abc;\n", 2, 11),
        ("const t = `abc", 1, 11),
        ("'\\", 1, 2),
    ] {
        match Evaluator::new(JsEngine::new(), Source::from_text(script)) {
            Err(Error::Compile {
                message,
                location: Some(location),
                ..
            }) => {
                assert!(message.contains("unterminated"), "{message}");
                assert!(
                    !message.contains("line"),
                    "no location in the text: {message}"
                );
                assert_eq!(
                    (location.line, location.column),
                    (line, Some(column)),
                    "{script:?}: {message}"
                );
            }
            other => panic!("{script:?}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------- results

#[test]
fn results_follow_json_stringify() {
    let cases: &[(&str, Value)] = &[
        ("new Date(0)", json!("1970-01-01T00:00:00.000Z")),
        ("new Date(NaN)", Value::Null),
        ("({ toJSON() { return { x: 1 }; } })", json!({"x": 1})),
        (
            "({ a: { toJSON(key) { return key; } } })",
            json!({"a": "a"}),
        ),
        ("new String('boxed')", json!("boxed")),
        ("new Number(5)", json!(5)),
        ("new Boolean(false)", json!(false)),
        ("Object(7n)", json!(7)),
        ("new Uint8Array([1, 2])", json!({"0": 1, "1": 2})),
        ("new Map([[1, 2]])", json!({})),
        ("new Set([1])", json!({})),
        ("({ get g() { return 'ran'; } })", json!({"g": "ran"})),
        (
            "new Proxy({ a: 1 }, { get: (t, k) => k === 'a' ? 2 : t[k] })",
            json!({"a": 2}),
        ),
        (
            "Object.defineProperty({ v: 1 }, 'hidden', { value: 2 })",
            json!({"v": 1}),
        ),
        (
            "({ f() {}, s: Symbol('s'), u: undefined, [Symbol('k')]: 1 })",
            json!({}),
        ),
        ("[undefined, () => 1, Symbol()]", json!([null, null, null])),
        ("new Error('e')", json!({})),
        ("[ , 1]", json!([null, 1])),
        (
            "({ b: 1, a: 2, 1: 3, 0: 4 })",
            json!({"0": 4, "1": 3, "b": 1, "a": 2}),
        ),
        (
            "12345678901234567890n",
            json!(12_345_678_901_234_567_890_u64),
        ),
        ("-(2n ** 63n)", json!(i64::MIN)),
    ];
    for mode in MODES {
        for (script, want) in cases {
            let ev = evaluator(script, mode, Limits::default());
            assert_eq!(&run(&ev, json!({})).unwrap(), want, "{mode:?} {script}");
        }
    }
}

#[test]
fn results_the_number_rule_refuses_name_their_path() {
    for (script, path) in [
        ("({ a: [1, NaN] })", "result.a[1]"),
        ("({ inf: Infinity })", "result.inf"),
        ("[-Infinity]", "result[0]"),
        ("({ big: 2n ** 64n })", "result.big"),
        ("({ toJSON() { return { n: NaN }; } })", "result.n"),
        ("const o = { a: [] }; o.a.push(o); o", "result.a[0]"),
    ] {
        let ev = evaluator(script, ThreadMode::CallerThread, Limits::default());
        match run(&ev, json!({})) {
            Err(Error::InvalidData {
                path: Some(got), ..
            }) => assert_eq!(got, path, "{script}"),
            other => panic!("{script}: {other:?}"),
        }
    }
}

#[test]
fn numbers_follow_the_number_rule_both_ways() {
    let ev = evaluator(
        "[ctx.a, ctx.b, ctx.z, 2 ** 53 - 1, 2 ** 53, -0, 0.5, 7]",
        ThreadMode::CallerThread,
        Limits::default(),
    );
    let got = run(
        &ev,
        json!({"a": 9_007_199_254_740_991_i64, "b": -9_007_199_254_740_991_i64, "z": -0.0}),
    )
    .unwrap();
    assert_eq!(got[0], json!(9_007_199_254_740_991_i64));
    assert!(got[0].is_i64() && got[1].is_i64());
    assert!(
        got[2]
            .as_f64()
            .is_some_and(|z| z == 0.0 && z.is_sign_negative())
    );
    assert!(got[3].is_i64(), "{got}");
    assert!(got[4].is_f64(), "beyond the safe range: a float, {got}");
    assert!(
        got[5].is_f64() && got[6].is_f64() && got[7].is_i64(),
        "{got}"
    );
    for big in [
        json!(9_007_199_254_740_992_i64),
        json!(i64::MIN),
        json!(u64::MAX),
    ] {
        match run(&ev, json!({"a": 1, "b": [0, big]})) {
            Err(Error::InvalidData {
                path: Some(path),
                message,
                ..
            }) => {
                assert_eq!(path, "ctx.b[1]", "{message}")
            }
            other => panic!("{big}: {other:?}"),
        }
    }
}

#[test]
fn a_shared_result_ends_at_the_memory_limit_fast() {
    // Issue 14: a DAG of 41 nodes that expands to 2^41.
    for mode in MODES {
        let ev = evaluator(
            "let x = [];\nfor (let i = 0; i < 40; i++) x = [x, x];\nx",
            mode,
            Limits::default().with_memory_bytes(8 * 1024 * 1024),
        );
        let (outcome, took) = timed(&ev);
        eprintln!("{mode:?} DAG: {took:?}");
        assert!(
            ended_as(&outcome, Ends::Limit(LimitKind::Memory)),
            "{outcome:?}"
        );
        assert!(took < STOP_MARGIN, "{took:?}");
    }
}

#[test]
fn promises_are_awaited() {
    let cases: &[(&str, Value)] = &[
        ("(async () => 1)()", json!(1)),
        (
            "async function main(ctx) { await null; return { n: ctx.n * 2 }; }",
            json!({"n": 6}),
        ),
        (
            "Promise.resolve().then(() => ({ later: true }))",
            json!({"later": true}),
        ),
        (
            "let seen = 0;\nPromise.resolve().then(() => { seen++; });\n(async () => { await null; await null; return seen; })()",
            json!(1),
        ),
    ];
    for mode in MODES {
        for (script, want) in cases {
            let ev = evaluator(script, mode, Limits::default());
            assert_eq!(
                &run(&ev, json!({"n": 3})).unwrap(),
                want,
                "{mode:?} {script}"
            );
        }
    }
}

#[test]
fn a_rejected_or_unsettled_promise_is_a_runtime_error() {
    for (script, text) in [
        (
            "async function main() { throw new RangeError('no'); }",
            "RangeError: no",
        ),
        ("Promise.reject('plain')", "Uncaught plain"),
        ("new Promise(() => {})", "never settles"),
    ] {
        let ev = evaluator(script, ThreadMode::CallerThread, Limits::default());
        match run(&ev, json!({})) {
            Err(Error::Runtime { message, .. }) => assert!(message.contains(text), "{message}"),
            other => panic!("{script}: {other:?}"),
        }
    }
    // The location of a rejection is where the error was thrown.
    let ev = evaluator(
        "async function main() {\n  await null;\n  throw new Error('late');\n}",
        ThreadMode::CallerThread,
        Limits::default(),
    );
    match run(&ev, json!({})) {
        Err(Error::Runtime { location, .. }) => assert_eq!(location.map(|l| l.line), Some(3)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nothing_queued_outlives_the_eval() {
    let ev = evaluator(
        "const seen = globalThis.late === undefined;\nPromise.resolve().then(() => { globalThis.late = 1; });\nseen",
        ThreadMode::CallerThread,
        Limits::default(),
    );
    for _ in 0..3 {
        assert_eq!(run(&ev, json!({})).unwrap(), json!(true));
    }
}

// ---------------------------------------------------------------- language

#[test]
fn object_rest_after_a_nested_pattern_leaves_the_key_out() {
    let ev = evaluator(
        "const { b: { d }, ...rest } = { b: { d: 4 }, e: 5 };\n\
         const { ['k']: [x], ...more } = { k: [1], l: 2 };\n\
         let y, others;\n({ k: [y], ...others } = { k: [2], m: 3 });\n\
         ({ d, rest, x, more, y, others })",
        ThreadMode::CallerThread,
        Limits::default(),
    );
    assert_eq!(
        run(&ev, json!({})).unwrap(),
        json!({"d": 4, "rest": {"e": 5}, "x": 1, "more": {"l": 2}, "y": 2, "others": {"m": 3}})
    );
}

#[test]
fn regex_source_keeps_escaped_slashes_as_written() {
    let ev = evaluator(
        "[/a\\/b/.source, new RegExp('a/b').source, String(/a\\/b/), /[/]/.source, new RegExp('\\\\/').source]",
        ThreadMode::CallerThread,
        Limits::default(),
    );
    assert_eq!(
        run(&ev, json!({})).unwrap(),
        json!(["a\\/b", "a\\/b", "/a\\/b/", "[/]", "\\/"])
    );
}

#[test]
fn substring_search_is_linear_and_agrees_with_the_direct_search() {
    // `indexOf`, `lastIndexOf`, `includes`, `split` and `replaceAll` with a
    // long search string: upstream compared it at every position, hours of
    // one native call for the first line.
    let ev = evaluator(
        r#"
        const worst = 'a'.repeat(1e6), needle = 'a'.repeat(5e5) + 'b';
        const long = 'ab'.repeat(40), hay = 'xx' + long + 'c' + long + 'd' + long;
        function direct(h, n, from) {
            for (let i = Math.max(0, from); i + n.length <= h.length; i++) if (h.startsWith(n, i)) return i;
            return -1;
        }
        function directLast(h, n, from) {
            for (let i = Math.min(from, h.length - n.length); i >= 0; i--) if (h.startsWith(n, i)) return i;
            return -1;
        }
        const checks = [];
        for (const n of [long + 'd', long + 'c', long + 'e', long, 'b' + long.slice(1) + 'c']) {
            for (const from of [0, 1, 3, 90, 500]) {
                checks.push(hay.indexOf(n, from) === direct(hay, n, from));
                checks.push(hay.lastIndexOf(n, from) === directLast(hay, n, from));
            }
            checks.push(hay.split(n).join('|') === hay.split('').join('').split(n).join('|'));
        }
        [worst.indexOf(needle), worst.lastIndexOf(needle), worst.includes(needle),
         worst.split(needle).length, worst.replaceAll(needle, '').length, checks.every(Boolean)]
        "#,
        ThreadMode::CallerThread,
        Limits::default().with_timeout(Duration::from_secs(60)),
    );
    let (outcome, took) = timed(&ev);
    eprintln!("long searches: {took:?}");
    assert_eq!(outcome.unwrap(), json!([-1, -1, false, 1, 1_000_000, true]));
}

#[test]
fn regexes_with_many_alternatives_compile_and_keep_their_order() {
    let ev = evaluator(
        r#"
        const many = new RegExp(Array.from({ length: 1e5 }, (_, i) => 'x' + i).join('|'));
        [many.exec('x99999')[0], many.test('zzz'), /a|ab/.exec('ab')[0], /(?:ab|a)(c)/.exec('abc')[1],
         /(x)|(y)|(z)/.exec('z').slice(1).map(String), 'x1x2'.replace(/x1|x2/g, '-'),
         /^(?:a|b|c|d|e|f)+$/.test('abcdef')]
        "#,
        ThreadMode::CallerThread,
        Limits::default().with_timeout(Duration::from_secs(60)),
    );
    assert_eq!(
        run(&ev, json!({})).unwrap(),
        json!([
            "x9",
            false,
            "a",
            "c",
            ["undefined", "undefined", "z"],
            "--",
            true
        ])
    );
}
