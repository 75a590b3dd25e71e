//! A hostile corpus: scripts that try every route around the limits we know
//! of. Each case runs in a child process (a crash is a failed case, not a
//! lost test run), twice on one evaluator and then next to a clean eval, and
//! must end in one of the outcomes it lists, within its timeout (plus a
//! margin), without resident memory growing past twice the memory limit (with
//! the accounting allocator), with the evaluator and the thread usable after.

use std::time::{Duration, Instant};

use polyscript_core::{EvalContext, Evaluator, Limits, PoolConfig, Source};
use polyscript_rhai::RhaiEngine;
use serde_json::{Value, json};

use super::{MARGIN, REPORT, kind, resident, run_child_within};

/// One hostile script and what may come of it.
pub struct Case {
    pub name: &'static str,
    pub script: &'static str,
    pub limits: Limits,
    /// Acceptable outcomes with the accounting allocator installed.
    pub metered: &'static [&'static str],
    /// Acceptable outcomes without it; empty: not run (a documented gap of
    /// the fallback, see the crate docs).
    pub fallback: &'static [&'static str],
    pub allow_eval: bool,
}

const MEMORY: u64 = 8 << 20;

/// An 8 MiB memory limit, a 3 s timeout, no operation budget: memory must
/// stop the script.
fn memory() -> Limits {
    Limits::default()
        .with_memory_bytes(MEMORY)
        .with_timeout(Duration::from_secs(3))
        .without_operation_limit()
}

/// A 1 s timeout and nothing else that would stop a loop.
fn time() -> Limits {
    Limits::default()
        .with_timeout(Duration::from_secs(1))
        .without_operation_limit()
}

/// A budget of 200 000 operations (and a long timeout).
fn ops() -> Limits {
    Limits::default()
        .with_operations(200_000)
        .with_timeout(Duration::from_secs(30))
}

/// Default limits with 64 MiB: values that fit, nested deep.
fn roomy() -> Limits {
    Limits::default().with_timeout(Duration::from_secs(20))
}

const MEM: &[&str] = &["memory"];
const OPS: &[&str] = &["operations"];
const TIMEOUT: &[&str] = &["timeout"];
const DEPTH: &[&str] = &["call_depth"];
const OK: &[&str] = &["ok"];
const RUNTIME: &[&str] = &["runtime"];
const DATA: &[&str] = &["invalid_data"];
/// Not run without the allocator (see [`Case::fallback`]).
const UNBOUNDED: &[&str] = &[];

fn case(
    name: &'static str,
    script: &'static str,
    limits: Limits,
    metered: &'static [&'static str],
    fallback: &'static [&'static str],
) -> Case {
    Case {
        name,
        script,
        limits,
        metered,
        fallback,
        allow_eval: false,
    }
}

/// The corpus.
pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        // Growth by doubling, through every operator.
        case(
            "string += itself",
            r#"let s = "x"; loop { s += s; }"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "string + itself",
            r#"let s = "ab"; loop { s = s + s; }"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "interpolation doubling",
            r#"let s = "x"; loop { s = `${s}${s}`; }"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "array += itself",
            "let a = [1]; loop { a += a; }",
            memory(),
            MEM,
            MEM,
        ),
        case(
            "array + itself",
            "let a = [1]; loop { a = a + a; }",
            memory(),
            MEM,
            MEM,
        ),
        case(
            "blob += itself",
            "let b = blob(1); loop { b += b; }",
            memory(),
            MEM,
            MEM,
        ),
        // Without the meter, rhai re-measures the array after every push:
        // quadratic, so the clock may come first.
        case(
            "push forever",
            r#"let a = []; loop { a.push("xxxxxxxx"); }"#,
            memory(),
            MEM,
            &["memory", "timeout"],
        ),
        // rhai does not size-check `m[new_key] = v`: without the meter only
        // the clock stops it.
        case(
            "new map keys forever",
            r#"let m = #{}; let i = 0; loop { m["k" + i] = i; i += 1; }"#,
            memory(),
            MEM,
            &["memory", "timeout"],
        ),
        case(
            "mixin growth",
            r#"let m = #{}; let i = 0; loop { let n = #{}; n["k" + i] = i; m.mixin(n); i += 1; }"#,
            memory(),
            MEM,
            &["memory", "timeout"],
        ),
        // One step allocating in proportion to an argument.
        case(
            "string pad 2^40 (string)",
            r#"let s = ""; s.pad(1 << 40, "x"); s.len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "string pad 2^40 (char)",
            r#"let s = ""; s.pad(1 << 40, 'x'); s.len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "string pad with nothing",
            r#"let s = "a"; s.pad(1 << 40, ""); s"#,
            memory(),
            OK,
            OK,
        ),
        case(
            "array pad 2^40",
            "let a = []; a.pad(1 << 40, 0); a.len()",
            memory(),
            MEM,
            MEM,
        ),
        case(
            "array pad 2^62",
            "let a = []; a.pad(1 << 62, 0); a.len()",
            memory(),
            MEM,
            MEM,
        ),
        case(
            "array pad with a list",
            "let a = []; a.pad(1 << 20, [1, 2, 3, 4, 5, 6, 7, 8]); a.len()",
            memory(),
            MEM,
            MEM,
        ),
        case("blob(2^40)", "blob(1 << 40).len()", memory(), MEM, MEM),
        case(
            "blob pad 2^40",
            "let b = blob(1); b.pad(1 << 40, 1); b.len()",
            memory(),
            MEM,
            MEM,
        ),
        case(
            "blob to_array",
            "let b = blob(1000000, 1); b.to_array().len()",
            memory(),
            MEM,
            MEM,
        ),
        case(
            "split into millions",
            r#"let s = ""; s.pad(3000000, ","); s.split(",").len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "split on nothing",
            r#"let s = ""; s.pad(3000000, "x"); s.split("").len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "to_chars",
            r#"let s = ""; s.pad(3000000, "x"); s.to_chars().len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "replace growth",
            r#"let s = "aaaaaaaaaa"; let t = s; for i in 0..30 { t.replace("a", s); } t.len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "replace on nothing",
            r#"let t = "abc"; for i in 0..30 { let u = t; t.replace("", u); } t.len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "parse_json of a long text",
            r#"let s = "{\"a\":["; s.pad(3000000, "{},"); s += "{}]}"; parse_json(s).len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "printing a big list",
            r#"let s = ""; s.pad(1000000, "x"); let a = []; a.pad(100, s); a.to_debug().len()"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "to_json of a big map",
            r#"let s = ""; s.pad(1000000, "x"); let m = #{}; for i in 0..100 { m["k" + i] = s; } m.to_json().len()"#,
            memory(),
            MEM,
            &["memory", "ok"],
        ),
        // The total, not each value (issue 17, point 2).
        case(
            "200 frames of 1 MiB each",
            r#"fn f(n) { let s = ""; s.pad(1 << 20, "y"); if n == 0 { 0 } else { f(n - 1) + s.len() } } f(200)"#,
            memory(),
            MEM,
            &["ok", "memory", "timeout"],
        ),
        case(
            "many separate variables",
            r#"let all = []; for i in 0..1000 { let s = ""; s.pad(100000, "z"); all.push(s); } all.len()"#,
            memory(),
            MEM,
            &["ok", "memory", "timeout"],
        ),
        // Sharing: rhai copies a value wherever it goes, so these expand.
        case(
            "DAG of lists",
            "let x = []; for i in 0..40 { x = [x, x]; } x",
            memory(),
            MEM,
            MEM,
        ),
        case(
            "DAG through a captured variable",
            "let x = []; let f = || x; for i in 0..40 { x = [x, x]; } x",
            memory(),
            MEM,
            MEM,
        ),
        // Closures and function pointers.
        case(
            "closures capturing closures",
            "let f = || 0; loop { let g = f; f = || g.call(); }",
            memory(),
            MEM,
            TIMEOUT,
        ),
        case(
            "a 200 000-closure chain dropped mid-eval",
            "let f = || 0; for i in 0..200000 { let g = f; f = || g.call(); } f = (); 1",
            roomy(),
            OK,
            OK,
        ),
        case(
            "calling a 100 000-closure chain",
            "let f = || 0; for i in 0..100000 { let g = f; f = || g.call() + 1; } f.call()",
            roomy(),
            DEPTH,
            DEPTH,
        ),
        // rhai locks a captured variable while calling through it.
        case(
            "a closure calling itself",
            "let f = 0; f = || f.call(); f.call()",
            memory(),
            &["call_depth", "runtime"],
            &["call_depth", "runtime"],
        ),
        case(
            "a closure calling itself through a copy",
            "let f = 0; f = || { let g = f; g.call() }; f.call()",
            memory(),
            &["call_depth", "runtime"],
            &["call_depth", "runtime"],
        ),
        case(
            "a closure capturing itself",
            "let big = []; big.pad(10000, 1); let f = 0; f = || { big; f }; 1",
            memory(),
            OK,
            OK,
        ),
        // Without the meter nothing counts what a function pointer holds.
        case(
            "curry doubling",
            r#"let f = Fn("x"); loop { f = f.curry(f); }"#,
            memory(),
            MEM,
            UNBOUNDED,
        ),
        case(
            "curry chain",
            r#"let f = Fn("x"); loop { f = Fn("y").curry(f); }"#,
            memory(),
            &["memory", "timeout"],
            UNBOUNDED,
        ),
        case(
            "call loop",
            r#"fn f(p) { call(p, p) } let p = Fn("f"); call(p, p)"#,
            memory(),
            DEPTH,
            DEPTH,
        ),
        // Recursion.
        case(
            "recursion",
            "fn f(n) { f(n + 1) } f(0)",
            memory(),
            DEPTH,
            DEPTH,
        ),
        case(
            "recursion through map",
            "fn g(n) { [n].map(|x| g(x + 1)) } g(0)",
            memory(),
            DEPTH,
            DEPTH,
        ),
        case(
            "recursion through sort",
            "fn r(n) { r(n + 1) } let a = [3, 1, 2]; a.sort(|x, y| r(0)); a",
            memory(),
            DEPTH,
            DEPTH,
        ),
        case(
            "recursion without a call-depth limit",
            "fn f(n) { f(n + 1) } f(0)",
            memory().without_call_depth_limit(),
            DEPTH,
            DEPTH,
        ),
        case(
            "recursion through map without a call-depth limit",
            "fn g(n) { [n].map(|x| g(x + 1)) } g(0)",
            memory().without_call_depth_limit(),
            DEPTH,
            DEPTH,
        ),
        // Callbacks that loop: no built-in may swallow the stop.
        case(
            "sort comparator loops (ops)",
            "let a = [3, 1, 2]; a.sort(|x, y| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "sort comparator loops (time)",
            "let a = [3, 1, 2]; a.sort(|x, y| { loop {} }); 1",
            time(),
            TIMEOUT,
            TIMEOUT,
        ),
        case(
            "order comparator loops",
            "let a = [3, 1, 2]; a.order(|x, y| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "dedup comparator loops",
            "let a = [1, 1, 2]; a.dedup(|x, y| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "sort comparator allocates",
            r#"let a = [3, 1, 2]; a.sort(|x, y| { let s = "x"; loop { s += s; } }); 1"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "map callback loops",
            "[1, 2, 3].map(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "filter callback loops",
            "[1, 2, 3].filter(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "reduce callback loops",
            "[1, 2, 3].reduce(|a, x| { loop {} }, 0); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "retain callback loops",
            "let a = [1, 2, 3]; a.retain(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "drain callback loops",
            "let a = [1, 2, 3]; a.drain(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "index_of callback loops",
            "[1, 2, 3].index_of(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "some callback loops",
            "[1, 2, 3].some(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "all callback loops",
            "[1, 2, 3].all(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "for_each callback loops",
            "[1, 2, 3].for_each(|x| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "map filter callback loops",
            "#{a: 1}.filter(|k, v| { loop {} }); 1",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "each callback just under rhai's count",
            "let a = []; a.pad(1000, 0); a.map(|x| { let i = 0; while i < 3000 { i += 1; } x }).len()",
            ops(),
            OPS,
            OPS,
        ),
        // try/catch cannot catch a limit.
        case(
            "catching the operation budget",
            "loop { try { loop {} } catch (e) {} }",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "catching the memory limit",
            r#"try { let s = "x"; loop { s += s; } } catch (e) {} 1"#,
            memory(),
            MEM,
            MEM,
        ),
        case(
            "catching the timeout",
            "loop { try { loop {} } catch (e) {} }",
            time(),
            TIMEOUT,
            TIMEOUT,
        ),
        case(
            "catching the call depth",
            "fn f(n) { f(n + 1) } let tries = 0; loop { try { f(0) } catch (e) { tries += 1; } }",
            memory(),
            DEPTH,
            DEPTH,
        ),
        // Time.
        case(
            "huge range",
            "let s = 0; for i in 0..9223372036854775807 { s += 1; } s",
            ops(),
            OPS,
            OPS,
        ),
        case(
            "sleep for a long time",
            "sleep(1000000); 1",
            time(),
            TIMEOUT,
            TIMEOUT,
        ),
        case(
            "sleep for a huge float",
            "sleep(1e300); 1",
            time(),
            TIMEOUT,
            TIMEOUT,
        ),
        case(
            "switch guard loops",
            "fn spin() { loop {} } let x = 1; switch x { 1 if spin() => 1, _ => 2 }",
            time(),
            TIMEOUT,
            TIMEOUT,
        ),
        // Deep values inside the script: none of rhai's walks may overflow.
        // Issue 14, point 2, as reported (it aborted the host).
        // Quadratic in rhai itself (every step copies the list): slow in a
        // debug build, hence the long timeout.
        case(
            "a 10 000-deep result built by copying",
            "let a = []; for i in 0..10000 { a = [a]; } a",
            Limits::default().with_timeout(Duration::from_secs(120)),
            DATA,
            DATA,
        ),
        case(
            "a deep result",
            "let a = 0; for i in 0..20000 { a = [take(a)]; } a",
            roomy(),
            DATA,
            DATA,
        ),
        case(
            "printing a deep list",
            "let a = 0; for i in 0..10000 { a = [take(a)]; } a.to_string().len()",
            roomy(),
            OK,
            OK,
        ),
        case(
            "comparing deep lists",
            "let a = 0; for i in 0..10000 { a = [take(a)]; } a == a",
            roomy(),
            OK,
            OK,
        ),
        case(
            "cloning a deep list",
            "let a = 0; for i in 0..20000 { a = [take(a)]; } let b = a; let c = [b, a]; c.len()",
            roomy(),
            OK,
            OK,
        ),
        case(
            "interpolating a deep list",
            "let a = 0; for i in 0..10000 { a = [take(a)]; } `${a}`.len()",
            roomy(),
            OK,
            OK,
        ),
        case(
            "a deep list in contains",
            "let a = 0; for i in 0..10000 { a = [take(a)]; } [a].contains(a)",
            roomy(),
            OK,
            OK,
        ),
        case(
            "a deep map to JSON",
            "let m = #{}; for i in 0..5000 { m = #{ x: take(m) }; } m.to_json().len()",
            roomy(),
            OK,
            OK,
        ),
        case(
            "switching on a deep list",
            "let a = 0; for i in 0..20000 { a = [take(a)]; } switch a { 1 => 1, _ => 2 }",
            roomy(),
            OK,
            OK,
        ),
        case(
            "throwing a deep list",
            "let a = 0; for i in 0..20000 { a = [take(a)]; } throw a;",
            roomy(),
            RUNTIME,
            RUNTIME,
        ),
        case(
            "a deep list dropped mid-eval",
            "let a = 0; for i in 0..20000 { a = [take(a)]; } a = (); 1",
            roomy(),
            OK,
            OK,
        ),
        case(
            "a deep list nested by literals",
            "let a = 0; for i in 0..5000 { a = [[[[[[[[[[a]]]]]]]]]]; } a.len()",
            roomy(),
            &["ok", "timeout"],
            &["ok", "timeout"],
        ),
        case(
            "printing a closure that holds itself",
            "let f = 0; f = || f; let m = #{ f: f }; m.to_json().len()",
            memory(),
            DEPTH,
            DEPTH,
        ),
        // Results with no JSON form.
        case(
            "a NaN deep in a result",
            "[1, #{ x: 0.0 / 0.0 }]",
            memory(),
            DATA,
            DATA,
        ),
        case(
            "a function pointer result",
            r#"Fn("f")"#,
            memory(),
            DATA,
            DATA,
        ),
        case("a timestamp result", "timestamp()", memory(), DATA, DATA),
        case("a range result", "0..10", memory(), DATA, DATA),
        // Errors that must stay plain runtime errors.
        case(
            "throwing a big string",
            r#"let s = ""; s.pad(1000000, "y"); throw s;"#,
            memory(),
            RUNTIME,
            RUNTIME,
        ),
        case(
            "integer overflow",
            "9223372036854775807 + 1",
            memory(),
            RUNTIME,
            RUNTIME,
        ),
        case("division by zero", "1 / 0", memory(), RUNTIME, RUNTIME),
        case(
            "sub_string beyond the end",
            r#""abc".sub_string(0, 1 << 62)"#,
            memory(),
            OK,
            OK,
        ),
    ];
    cases.push(Case {
        allow_eval: true,
        ..case(
            "eval of a bomb",
            r#"eval("let s = \"x\"; loop { s += s; }")"#,
            memory(),
            MEM,
            MEM,
        )
    });
    cases.push(Case {
        allow_eval: true,
        ..case("eval of a loop", r#"eval("loop {}")"#, ops(), OPS, OPS)
    });
    cases
}

/// Child side: runs `name`, prints the report and returns.
pub fn run_in_child(name: &str) {
    let cases = cases();
    let case = cases.iter().find(|c| c.name == name).expect("a known case");
    let engine = RhaiEngine::builder().allow_eval(case.allow_eval).build();
    let ev = Evaluator::builder(engine, Source::from_text(case.script))
        .limits(case.limits)
        .pool(PoolConfig::default().with_max_size(1))
        .build()
        .expect("the case compiles");
    let (before, _) = resident();
    let start = Instant::now();
    let first = ev.eval(&EvalContext::new()).map(|r| r.into_value());
    let took = start.elapsed();
    let message = match &first {
        Ok(value) => shorten(&value.to_string()),
        Err(err) => shorten(&err.to_string()),
    };
    let second = ev.eval(&EvalContext::new()).map(|r| r.into_value());
    let (_, peak) = resident();
    // The thread is clean afterwards: an ordinary eval works.
    let clean = Evaluator::new(RhaiEngine::new(), Source::from_text("ctx.n + 1"))
        .and_then(|ev| ev.eval(&EvalContext::with_data(json!({"n": 41}))?))
        .map(|r| r.into_value());
    let report = json!({
        "first": kind(&first),
        "second": kind(&second),
        "message": message,
        "ms": took.as_millis() as u64,
        "before": before,
        "peak": peak,
        "clean": clean.ok() == Some(json!(42)),
    });
    println!("{REPORT}{report}");
}

fn shorten(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Resident memory a case may add beyond its limit's double: the test
/// harness, a debug build's engine and the allocator's own slack.
const SLACK: u64 = 48 << 20;

/// Parent side: runs every case (two children at a time) and returns what
/// failed.
pub fn run_all(test: &str, metered: bool) -> Vec<String> {
    let cases = cases();
    let names: Vec<&'static str> = cases
        .iter()
        .filter(|c| metered || !c.fallback.is_empty())
        .map(|c| c.name)
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&name) = names.get(i) else { break };
                    let case = cases.iter().find(|c| c.name == name).expect("a case");
                    let outcome = check(test, case, metered);
                    if std::env::var_os("POLYSCRIPT_RHAI_VERBOSE").is_some() {
                        eprintln!("{name}: {outcome:?}");
                    }
                    if let Err(why) = outcome {
                        failures.lock().unwrap().push(format!("{name}: {why}"));
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

fn check(test: &str, case: &Case, metered: bool) -> Result<String, String> {
    // Two evals of the case and a clean one, each within the timeout.
    let timeout = case.limits.timeout.unwrap_or(Duration::ZERO);
    let run = run_child_within(test, case.name, 2 * (timeout + MARGIN) + MARGIN);
    let Some(report) = run.report.filter(|_| run.success) else {
        return Err(format!(
            "the child died ({}): {}",
            run.status, run.stderr_tail
        ));
    };
    let report: Value = serde_json::from_str(&report).map_err(|e| e.to_string())?;
    let expected = if metered { case.metered } else { case.fallback };
    let first = report["first"].as_str().unwrap_or_default();
    let second = report["second"].as_str().unwrap_or_default();
    if !expected.contains(&first) || !expected.contains(&second) {
        return Err(format!(
            "expected one of {expected:?}, got {first} then {second}: {}",
            report["message"]
        ));
    }
    let took = Duration::from_millis(report["ms"].as_u64().unwrap_or(u64::MAX));
    if took > timeout + MARGIN {
        return Err(format!("took {took:?}"));
    }
    if report["clean"] != json!(true) {
        return Err("an ordinary eval failed afterwards".into());
    }
    let grew = report["peak"]
        .as_u64()
        .unwrap_or(0)
        .saturating_sub(report["before"].as_u64().unwrap_or(0));
    if metered
        && let Some(limit) = case.limits.memory_bytes.filter(|&m| m <= MEMORY)
        && grew > 2 * limit + SLACK
    {
        return Err(format!(
            "resident memory grew by {} MiB with a {} MiB limit",
            grew >> 20,
            limit >> 20
        ));
    }
    Ok(format!(
        "{first} in {took:?}, +{} MiB: {}",
        grew >> 20,
        report["message"]
    ))
}
