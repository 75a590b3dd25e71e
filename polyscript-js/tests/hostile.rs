//! A hostile corpus well beyond the issue's repros: every case must end in
//! a typed error (or a harmless result) within its limits, and the same
//! evaluator (one instance) must afterwards run a clean eval that sees
//! pristine built-ins and exactly its own input, in both thread modes.
//!
//! Each category runs in its own child process, so a case that aborted the
//! process (a stack overflow, an allocation failure) fails its test; the
//! child prints each case's name before running it.

mod common;

use std::time::Duration;

use common::{Ends, MODES, ended_as, in_child, timed};
use polyscript_core::alloc::Accounting;
use polyscript_core::serde_json::json;
use polyscript_core::{Error, EvalContext, Evaluator, LimitKind, Limits, Value};
use polyscript_js::JsEngine;

#[global_allocator]
static ALLOCATOR: Accounting = Accounting::system();

/// What a hostile eval may end with.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exactly this kind of typed error.
    Ends(Ends),
    /// Anything but a crash or a hang: the attack may be refused with an
    /// error or silently; what matters is the clean eval after it.
    Harmless,
}

use Expect::Harmless;
const TIMEOUT: Expect = Expect::Ends(Ends::Timeout);
const MEMORY: Expect = Expect::Ends(Ends::Limit(LimitKind::Memory));
const DEPTH: Expect = Expect::Ends(Ends::Limit(LimitKind::CallDepth));
const RUNTIME: Expect = Expect::Ends(Ends::Runtime);
const INVALID: Expect = Expect::Ends(Ends::InvalidData);
const TYPED: Expect = Expect::Ends(Ends::AnyTyped);

/// The hostile eval's deadline.
const DEADLINE: Duration = Duration::from_millis(500);
/// Generous bound for "within its deadline" (the goal is deadline + 100 ms;
/// this only catches a hang or a thread that never stops).
const MARGIN: Duration = Duration::from_secs(4);

/// The clean evals' deadline: they only check what the hostile eval left
/// behind, and may include rebuilding a discarded instance on a loaded
/// machine, so their time is not what is tested.
const CLEAN_DEADLINE: Duration = Duration::from_secs(60);

/// A clean eval: `data` as `ctx`, with the generous [`CLEAN_DEADLINE`].
fn run(ev: &Evaluator<JsEngine>, data: Value) -> polyscript_core::Result<Value> {
    ev.eval(&EvalContext::with_data(data)?.with_limits(limits().with_timeout(CLEAN_DEADLINE)))
        .map(|r| r.into_value())
}

fn limits() -> Limits {
    Limits::default()
        .with_timeout(DEADLINE)
        .with_memory_bytes(16 * 1024 * 1024)
        .without_operation_limit()
}

/// What the clean eval returns: a fingerprint of the built-ins (every own
/// property of the main intrinsics and of the global object, with its kind
/// and attributes, and their prototypes and extensibility), a few
/// behaviours, and the eval's own input.
const FINGERPRINT: &str = r#"
(() => {
    const g = Object.getPrototypeOf;
    const roots = {
        Object, Function, Array, String, Number, Boolean, Symbol, BigInt, Math, JSON, Reflect,
        Promise, RegExp, Date, Map, Set, WeakMap, Error, TypeError, RangeError, Proxy, ArrayBuffer,
        Uint8Array, TypedArray: g(Int8Array), ArrayIterator: g([][Symbol.iterator]()),
        IteratorPrototype: g(g([][Symbol.iterator]())), Generator: g(function* () {}),
        AsyncFunction: g(async function () {}), Global: globalThis, Console: globalThis.console,
    };
    const seen = [];
    for (const [name, root] of Object.entries(roots)) {
        for (const o of [root, root && root.prototype]) {
            if (o === undefined || o === null || (typeof o !== 'object' && typeof o !== 'function')) continue;
            for (const k of Reflect.ownKeys(o)) {
                if (o === globalThis && k === 'ctx') continue;
                const d = Object.getOwnPropertyDescriptor(o, k);
                seen.push(name + '.' + String(k) + ':' + ('value' in d ? typeof d.value : 'accessor')
                    + (d.writable ? 'w' : '') + (d.enumerable ? 'e' : '') + (d.configurable ? 'c' : ''));
            }
            seen.push(name + ':' + (g(o) === null) + Object.isExtensible(o) + Object.isFrozen(o));
        }
    }
    let hash = 2166136261;
    for (const c of seen.join('|')) { hash = Math.imul(hash ^ c.charCodeAt(0), 16777619) >>> 0; }
    const behaviour = [
        'a'.toUpperCase(), JSON.stringify({ a: [1, 'x'] }), JSON.parse('[2]')[0], [3, 1, 2].sort().join(),
        String(/a+/.exec('caab')), ({}).toString(), typeof ({}).leak, Array.from('ab').length,
        [1, 2].map(x => x * 2).join(), Math.max(1, 2), (1234.5).toFixed(1), 'x'.repeat(3),
        Object.keys({ b: 1 }).join(), [...'ab'].length, new Map([[1, 2]]).get(1), [].push(1),
        typeof Function.prototype.call, String([1, [2]]), `${1}${'a'}`, 'ab'.split('').length,
        'aXb'.replace('X', '-'), typeof leaked, typeof globalThis.leaked, Symbol.iterator in [],
    ];
    return { n: seen.length, hash, behaviour, input: ctx.value };
})()
"#;

fn script(hostile: &str) -> String {
    format!("if (ctx.clean) {{\n{FINGERPRINT}\n}} else {{\n{hostile}\n}}")
}

/// Runs every case of a category: the hostile eval, then a clean one on
/// the same evaluator, in both thread modes.
fn run_category(cases: &[(&str, &str, Expect)]) {
    for mode in MODES {
        for (name, hostile, expect) in cases {
            eprintln!("case {mode:?} {name}");
            let text = script(hostile);
            let baseline = {
                let fresh = common::evaluator(&text, mode, limits());
                run(&fresh, json!({"clean": true, "value": "baseline"}))
                    .unwrap_or_else(|e| panic!("{name}: the clean branch failed: {e}"))
            };
            let ev = common::evaluator(&text, mode, limits());
            let (outcome, took) = timed(&ev);
            eprintln!("  -> {took:?}: {}", short(&outcome));
            match expect {
                Expect::Ends(ends) => assert!(
                    ended_as(&outcome, *ends),
                    "{mode:?} {name}: expected {ends:?}, got {outcome:?}"
                ),
                Harmless => assert!(
                    !matches!(
                        outcome,
                        Err(Error::EnginePanic { .. } | Error::Compile { .. })
                    ),
                    "{mode:?} {name}: {outcome:?}"
                ),
            }
            assert!(took < DEADLINE + MARGIN, "{mode:?} {name}: took {took:?}");
            for value in [json!("first"), json!({"deep": [1, {"x": null}]})] {
                let mut want = baseline.clone();
                want["input"] = value.clone();
                let got = run(&ev, json!({"clean": true, "value": value})).unwrap_or_else(|e| {
                    panic!("{mode:?} {name}: the clean eval after it failed: {e}")
                });
                assert_eq!(
                    got, want,
                    "{mode:?} {name}: the clean eval saw a difference"
                );
            }
        }
    }
}

fn short(outcome: &polyscript_core::Result<Value>) -> String {
    let text = match outcome {
        Ok(v) => format!("Ok({v})"),
        Err(e) => format!("Err({e})"),
    };
    text.chars().take(160).collect()
}

macro_rules! category {
    ($test:ident, $cases:expr) => {
        #[test]
        fn $test() {
            in_child(stringify!($test), "all", || run_category($cases));
        }
    };
}

category!(
    prototype_pollution,
    &[
        (
            "Object.prototype by assignment",
            "Object.prototype.leaked = 1; ({}).leaked",
            Harmless
        ),
        (
            "__proto__ of a literal",
            "({}).__proto__.leaked = 1; [].__proto__.leaked = 2;",
            Harmless
        ),
        (
            "__proto__ chain to Object.prototype",
            "[].__proto__.__proto__.leaked = 1;",
            Harmless
        ),
        (
            "constructor.prototype",
            "({}).constructor.prototype.leaked = 1; 'x'.constructor.prototype.leaked = 1;",
            Harmless
        ),
        (
            "Function via a function's constructor",
            "(function () {}).constructor.prototype.leaked = 1;",
            Harmless
        ),
        (
            "Object.setPrototypeOf of a prototype",
            "Object.setPrototypeOf(Array.prototype, { leaked: 1 })",
            RUNTIME
        ),
        (
            "setPrototypeOf of Object.prototype",
            "Object.setPrototypeOf(Object.prototype, {})",
            RUNTIME
        ),
        (
            "__proto__ setter on a prototype",
            "Array.prototype.__proto__ = { leaked: 1 };",
            Harmless
        ),
        (
            "Reflect.set",
            "Reflect.set(Object.prototype, 'leaked', 1) === false",
            Harmless
        ),
        (
            "Reflect.defineProperty",
            "Reflect.defineProperty(Array.prototype, 'leaked', { value: 1 })",
            Harmless
        ),
        (
            "Reflect.deleteProperty",
            "Reflect.deleteProperty(String.prototype, 'repeat')",
            Harmless
        ),
        (
            "Object.assign onto a prototype",
            "Object.assign(Object.prototype, { leaked: 1 })",
            RUNTIME
        ),
        (
            "defineProperty getter",
            "Object.defineProperty(Object.prototype, 'leaked', { get() { return 1; } })",
            RUNTIME
        ),
        (
            "Symbol.iterator",
            "Array.prototype[Symbol.iterator] = function* () { yield 'pwned'; };",
            Harmless
        ),
        (
            "Symbol.toPrimitive",
            "Object.prototype[Symbol.toPrimitive] = () => 'pwned';",
            Harmless
        ),
        (
            "Symbol.species",
            "Object.defineProperty(Array, Symbol.species, { get: () => Object })",
            RUNTIME
        ),
        (
            "Symbol.toStringTag",
            "Object.prototype[Symbol.toStringTag] = 'pwned';",
            Harmless
        ),
        (
            "Promise.prototype.then",
            "Promise.prototype.then = () => 'pwned';",
            Harmless
        ),
        (
            "RegExp.prototype.exec",
            "RegExp.prototype.exec = () => null;",
            Harmless
        ),
        (
            "Function.prototype.call",
            "Function.prototype.call = () => 'pwned'; Function.prototype.apply = null;",
            Harmless
        ),
        (
            "JSON and Math",
            "JSON.parse = () => 1; JSON.stringify = null; Math.max = () => -1;",
            Harmless
        ),
        (
            "delete built-in methods",
            "delete String.prototype.repeat; delete Array.prototype.map; delete Object.keys;",
            Harmless
        ),
        (
            "hidden generator prototype",
            "Object.getPrototypeOf(function* () {}).prototype.next = () => 1;",
            Harmless
        ),
        (
            "hidden async function prototype",
            "Object.getPrototypeOf(async function () {}).leaked = 1;",
            Harmless
        ),
        (
            "array iterator prototype",
            "Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({ done: true });",
            Harmless
        ),
        (
            "iterator prototype",
            "Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())).leaked = 1;",
            Harmless
        ),
        (
            "typed array prototype",
            "Object.getPrototypeOf(Int8Array).prototype.leaked = 1;",
            Harmless
        ),
        (
            "ThrowTypeError",
            "const t = Object.getOwnPropertyDescriptor(Function.prototype, 'caller'); t && t.get && (t.get.leaked = 1);",
            Harmless
        ),
        (
            "console",
            "console.log = null; console.leaked = 1;",
            Harmless
        ),
        (
            "freeze attempts on built-ins",
            "Object.preventExtensions(Object.prototype); Object.seal(Array); Object.freeze(Math);",
            Harmless
        ),
        (
            "strict-mode assignment",
            "(function () { 'use strict'; Object.prototype.leaked = 1; })()",
            RUNTIME
        ),
        (
            "Error.prototype.name",
            "Error.prototype.name = 'pwned'; TypeError.prototype.message = 'pwned';",
            Harmless
        ),
        (
            "Date.prototype",
            "Date.prototype.toJSON = () => 'pwned'; Date.now = () => 0;",
            Harmless
        ),
    ]
);

category!(
    global_state,
    &[
        (
            "globalThis property",
            "globalThis.leaked = ctx; leaked2 = 1;",
            Harmless
        ),
        ("var", "var leaked = 1;", Harmless),
        (
            "indirect eval let",
            "(0, eval)('let leaked = 1; const leaked2 = 2; class Leaked {}');",
            Harmless
        ),
        (
            "indirect eval function",
            "(0, eval)('function leaked() {}');",
            Harmless
        ),
        ("direct eval var", "eval('var leaked = 1');", Harmless),
        (
            "Function returning the global",
            "Function('return this')().leaked = 1;",
            Harmless
        ),
        (
            "non-configurable global",
            "Object.defineProperty(globalThis, 'leaked', { value: 1, configurable: false });",
            Harmless
        ),
        (
            "global accessor",
            "Object.defineProperty(globalThis, 'leaked', { get() { return 1; }, configurable: false });",
            Harmless
        ),
        (
            "ctx read-only",
            "Object.defineProperty(globalThis, 'ctx', { value: 1, writable: false });",
            Harmless
        ),
        (
            "global made non-extensible",
            "Object.preventExtensions(globalThis);",
            Harmless
        ),
        (
            "global prototype swapped",
            "Object.setPrototypeOf(globalThis, { leaked: 1 });",
            Harmless
        ),
        (
            "with statement",
            "with ({ leaked: 1 }) { leaked2 = leaked; }",
            Harmless
        ),
        (
            "labels and continue",
            "outer: for (;;) { inner: for (;;) { continue outer; } }",
            TIMEOUT
        ),
        (
            "symbol registry",
            "Symbol.for('leaked').description",
            Harmless
        ),
        (
            "symbol registry flood",
            "for (let i = 0; ; i++) Symbol.for('k'.repeat(100) + i);",
            TYPED
        ),
        (
            "symbol registry within one eval",
            "if (Symbol.for('a') !== Symbol.for('a') || Symbol.keyFor(Symbol.for('a')) !== 'a') throw new Error('registry');",
            Harmless
        ),
        (
            "shadowing built-ins",
            "const JSON = 1; function Math() {} let Object = null;",
            Harmless
        ),
        ("delete ctx", "delete globalThis.ctx; delete ctx;", Harmless),
    ]
);

category!(
    hangs_in_native_code,
    &[
        (
            "regex (a+)+$",
            "/(a+)+$/.test('a'.repeat(40) + '!')",
            TIMEOUT
        ),
        (
            "regex alternation",
            "/^(a|aa)+$/.test('a'.repeat(60) + 'b')",
            TIMEOUT
        ),
        (
            "regex lookahead",
            "/(?=(a+)+$)x/.test('a'.repeat(40) + '!')",
            TIMEOUT
        ),
        (
            "regex backreference",
            "/^(a+)\\1*b$/.test('a'.repeat(5000))",
            Harmless
        ),
        ("regex in split", "'a'.repeat(45).split(/(a+)+b/)", TIMEOUT),
        (
            "regex in replace",
            "'a'.repeat(40).replace(/(a+)+b/g, 'x')",
            TIMEOUT
        ),
        (
            "regex in matchAll",
            "[...'a'.repeat(40).matchAll(/(a+)+b/g)]",
            TIMEOUT
        ),
        ("regex sticky", "/(a+)+b/y.test('a'.repeat(40))", TIMEOUT),
        (
            "regex unicode",
            "/(\\p{L}+)+$/u.test('é'.repeat(35) + '!')",
            TIMEOUT
        ),
        (
            "sort comparator",
            "[3, 1, 2].sort(() => { for (;;) {} })",
            TIMEOUT
        ),
        (
            "map callback eval",
            "[1].map(() => eval('for (;;) {}'))",
            TIMEOUT
        ),
        (
            "getter in JSON.stringify",
            "JSON.stringify({ get x() { for (;;) {} } })",
            TIMEOUT
        ),
        (
            "valueOf in arithmetic",
            "({ valueOf() { for (;;) {} } }) * 2",
            TIMEOUT
        ),
        (
            "toString in join",
            "[{ toString() { for (;;) {} } }].join()",
            TIMEOUT
        ),
        (
            "reviver",
            "JSON.parse('[1]', () => { for (;;) {} })",
            TIMEOUT
        ),
        (
            "proxy trap",
            "new Proxy({}, { ownKeys() { for (;;) {} } }); Object.keys(new Proxy({}, { ownKeys() { for (;;) {} } }))",
            TIMEOUT
        ),
        ("Function()", "Function('for (;;) {}')()", TIMEOUT),
        (
            "generator",
            "function* g() { for (;;) yield 1; }\nfor (const x of g()) {}",
            TIMEOUT
        ),
        (
            "async loop",
            "(async () => { for (;;) await null; })()",
            TIMEOUT
        ),
        (
            "promise chain",
            "Promise.resolve().then(function f() { return Promise.resolve().then(f); })",
            TYPED
        ),
        (
            "native loop over a huge length",
            "Array.prototype.indexOf.call({ length: 2 ** 53 - 1 }, 1)",
            TIMEOUT
        ),
        (
            "fill on a huge array-like",
            "Array.prototype.fill.call({ length: 2 ** 53 - 1 }, 0)",
            TYPED
        ),
        (
            "includes on a sparse array",
            "const a = []; a.length = 2 ** 32 - 1; a.includes(1)",
            TIMEOUT
        ),
        (
            "reverse of a sparse array",
            "const a = []; a.length = 2 ** 32 - 1; a.reverse()",
            TIMEOUT
        ),
        (
            "exponential recursion",
            "function f(n) { return n ? f(n - 1) + f(n - 1) : 0; }\nf(60)",
            TIMEOUT
        ),
        (
            "catch swallowing",
            "for (;;) { try { for (;;) {} } catch (e) {} finally { continue; } }",
            TIMEOUT
        ),
        ("result getter", "({ get x() { for (;;) {} } })", TIMEOUT),
        ("result toJSON", "({ toJSON() { for (;;) {} } })", TIMEOUT),
        (
            "result proxy",
            "new Proxy({}, { ownKeys: () => { for (;;) {} } })",
            TIMEOUT
        ),
        (
            "thrown error with a looping getter",
            "const e = new Error('m'); Object.defineProperty(e, 'message', { get() { for (;;) {} } }); throw e;",
            RUNTIME
        ),
        (
            "Atomics.waitAsync",
            "Atomics.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1e9).value",
            Harmless
        ),
        ("dynamic import", "import('x')", RUNTIME),
        (
            "never-settling promise",
            "(async () => { await new Promise(() => {}); })()",
            RUNTIME
        ),
    ]
);

category!(
    deep_recursion_through_natives,
    &[
        (
            "plain recursion",
            "function f() { return f(); }\nf()",
            DEPTH
        ),
        ("map", "function f() { return [1].map(f); }\nf()", DEPTH),
        (
            "getter",
            "const o = { get x() { return this.x; } };\no.x",
            DEPTH
        ),
        // boa (like V8 and SpiderMonkey for `join`) answers a ToPrimitive
        // of an object already being converted with "" instead of recursing.
        (
            "toString",
            "const o = { toString() { return String(o); } };\nString(o)",
            Harmless
        ),
        (
            "toString via another object",
            "const a = { toString() { return String(b); } }, b = { toString() { return String({ toString: () => String(a) }); } };\nString(a)",
            Harmless
        ),
        (
            "proxy get trap",
            "const p = new Proxy({}, { get: (t, k, r) => r[k] });\np.x",
            DEPTH
        ),
        (
            "JSON.stringify replacer",
            "function f() { return JSON.stringify({ a: 1 }, () => f()); }\nf()",
            DEPTH
        ),
        (
            "sort comparator",
            "function f() { return [2, 1].sort(() => f()); }\nf()",
            DEPTH
        ),
        (
            "Reflect.apply",
            "function f() { return Reflect.apply(f, null, []); }\nf()",
            DEPTH
        ),
        (
            "bound chain",
            "let f = function () { return 1; };\nfor (let i = 0; i < 100000; i++) f = f.bind(null);\nf()",
            Harmless
        ),
        (
            "prototype chain",
            "let o = {};\nfor (let i = 0; i < 100000; i++) o = Object.create(o);\no.missing",
            TYPED
        ),
        (
            "proxy chain",
            "let p = {};\nfor (let i = 0; i < 100000; i++) p = new Proxy(p, {});\np.x",
            TYPED
        ),
        (
            "proxy chain isArray",
            "let p = [];\nfor (let i = 0; i < 100000; i++) p = new Proxy(p, {});\nArray.isArray(p)",
            TYPED
        ),
        (
            "nested arrays flat",
            "let a = [];\nfor (let i = 0; i < 100000; i++) a = [a];\na.flat(Infinity)",
            TYPED
        ),
        (
            "nested arrays join",
            "let a = [];\nfor (let i = 0; i < 100000; i++) a = [a];\nString(a)",
            TYPED
        ),
        (
            "nested arrays JSON.stringify",
            "let a = [];\nfor (let i = 0; i < 100000; i++) a = [a];\nJSON.stringify(a)",
            TYPED
        ),
        (
            "nested objects result",
            "let a = {};\nfor (let i = 0; i < 10000; i++) a = { a };\na",
            INVALID
        ),
        (
            "eval recursion",
            "function f() { return eval('f()'); }\nf()",
            DEPTH
        ),
        (
            "deep eval nesting",
            "eval('('.repeat(100000) + ')'.repeat(100000))",
            RUNTIME
        ),
        (
            "new Function nesting",
            "Function('['.repeat(100000))",
            RUNTIME
        ),
        (
            "yield* delegation",
            "function* g(n) { if (n) yield* g(n - 1); else yield 1; }\n[...g(100000)]",
            DEPTH
        ),
        (
            "async recursion",
            "async function f() { return f(); }\nf()",
            DEPTH
        ),
        (
            "generator recursion",
            "function* g() { yield* g(); }\n[...g()]",
            DEPTH
        ),
        (
            "class constructor recursion",
            "class A { constructor() { new A(); } }\nnew A()",
            DEPTH
        ),
        (
            "instanceof with Symbol.hasInstance",
            "const o = { [Symbol.hasInstance]: (x) => x instanceof o };\n1 instanceof o",
            DEPTH
        ),
    ]
);

category!(
    memory_bombs,
    &[
        ("string doubling", "let s = 'x'; for (;;) s += s;", MEMORY),
        (
            "template doubling",
            "let s = 'x'; for (;;) s = `${s}${s}`;",
            MEMORY
        ),
        (
            "array literal growth",
            "let a = []; for (;;) a = [...a, ...a, 1];",
            TYPED
        ),
        (
            "object spread growth",
            "let o = {}; for (let i = 0; ; i++) o = { ...o, ['k' + i]: i };",
            Expect::Ends(Ends::AnyTyped)
        ),
        ("arguments spread", "Math.max(...Array(1e7).fill(1))", TYPED),
        (
            "String.fromCharCode spread",
            "String.fromCharCode(...Array(1e7).fill(65))",
            TYPED
        ),
        ("repeat", "'abc'.repeat(2 ** 28)", MEMORY),
        (
            "padStart with a long filler",
            "'x'.padStart(2 ** 29, 'abc')",
            MEMORY
        ),
        (
            "concat spread",
            "const s = 'x'.repeat(1e5); s.concat(...Array(10000).fill(s))",
            MEMORY
        ),
        ("join", "new Array(2e7).join('xy')", MEMORY),
        ("fill", "new Array(5e7).fill({})", TYPED),
        ("Array.from length", "Array.from({ length: 1e8 })", TYPED),
        ("keys spread", "[...Array(1e8).keys()]", TYPED),
        ("split", "'x'.repeat(1e7).split('')", TYPED),
        (
            "replaceAll",
            "'x'.repeat(1e5).replaceAll('x', 'y'.repeat(1000))",
            TYPED
        ),
        ("typed array", "new Float64Array(2 ** 27)", MEMORY),
        (
            "resizable buffer",
            "new ArrayBuffer(1, { maxByteLength: 2 ** 30 })",
            MEMORY
        ),
        (
            "many buffers",
            "const a = []; for (;;) a.push(new ArrayBuffer(1 << 20));",
            MEMORY
        ),
        ("typed array join", "new Uint8Array(1e7).join(',')", TYPED),
        (
            "Map growth",
            "const m = new Map(); for (let i = 0; ; i++) m.set(i, { i });",
            TYPED
        ),
        (
            "Set growth",
            "const s = new Set(); for (let i = 0; ; i++) s.add('k' + i);",
            TYPED
        ),
        (
            "closures",
            "const a = []; for (let i = 0; ; i++) a.push(() => i);",
            TYPED
        ),
        (
            "JSON.stringify",
            "const a = Array(1e6).fill('xxxxxxxx'); for (;;) a.push(JSON.stringify(a));",
            TYPED
        ),
        (
            "JSON.parse",
            "JSON.parse('[' + '1,'.repeat(4e6) + '1]')",
            TYPED
        ),
        (
            "eval of a huge text",
            "eval('[' + '1,'.repeat(4e6) + '1]')",
            TYPED
        ),
        ("BigInt", "let b = 1n << 1000000n; b * b", RUNTIME),
        ("BigInt power", "10n ** 10000000n", RUNTIME),
        (
            "shared result",
            "let x = []; for (let i = 0; i < 40; i++) x = [x, x]; x",
            TYPED
        ),
        (
            "wide result",
            "Array.from({ length: 2e6 }, (_, i) => ({ i }))",
            TYPED
        ),
        (
            "generator into an array",
            "function* g() { for (;;) yield 'x'; }\nArray.from(g())",
            TYPED
        ),
        (
            "promise flood",
            "for (;;) Promise.resolve().then(() => {});",
            TYPED
        ),
        ("thrown huge string", "throw 'x'.repeat(1e6)", RUNTIME),
        (
            "error with a huge message",
            "throw new Error('x'.repeat(1e6))",
            RUNTIME
        ),
    ]
);

category!(
    results_and_errors,
    &[
        ("function result", "(() => 1)", Harmless),
        ("symbol result", "Symbol('s')", Harmless),
        ("cyclic result", "const o = {}; o.o = o; o", INVALID),
        ("NaN result", "({ n: NaN })", INVALID),
        ("huge BigInt result", "2n ** 100n", INVALID),
        ("sparse result", "const a = []; a[1e7] = 1; a", TYPED),
        (
            "throwing getter in result",
            "({ get x() { throw new Error('no'); } })",
            RUNTIME
        ),
        (
            "throwing toJSON",
            "({ toJSON() { throw new TypeError('no'); } })",
            RUNTIME
        ),
        (
            "revoked proxy result",
            "const r = Proxy.revocable({}, {}); r.revoke(); r.proxy",
            RUNTIME
        ),
        (
            "proxy with many keys",
            "new Proxy({}, { ownKeys: () => Array.from({ length: 1e6 }, (_, i) => 'k' + i), getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }) })",
            TYPED
        ),
        (
            "thrown proxy",
            "throw new Proxy({}, { get() { for (;;) {} } })",
            RUNTIME
        ),
        (
            "thrown object with toString",
            "throw { toString() { for (;;) {} } }",
            RUNTIME
        ),
        ("thrown null", "throw null", RUNTIME),
        (
            "rejected promise result",
            "Promise.reject(new Error('late'))",
            RUNTIME
        ),
        (
            "toJSON returning itself",
            "const o = { toJSON() { return o; } }; o",
            Harmless
        ),
        (
            "deep result",
            "let v = 0; for (let i = 0; i < 10000; i++) v = [v]; v",
            INVALID
        ),
        ("lone surrogate", "'\\ud800'", Harmless),
    ]
);

// Lengths a script controls (an array-like's `length` goes up to 2^53 - 1,
// a sparse array's up to 2^32 - 1) with nothing behind them: a built-in
// that reserved room for every element before reading one asked the
// allocator for up to 64 GiB at once, which aborted the process before any
// limit could count it (vendor/PATCHES.md, boa_engine 22).
category!(
    huge_lengths,
    &[
        ("sparse join", "new Array(2 ** 32 - 1).join('x')", TYPED),
        (
            "array-like join",
            "Array.prototype.join.call({ length: 2 ** 53 - 1 }, 'x')",
            TYPED
        ),
        (
            "sparse toLocaleString",
            "new Array(2 ** 32 - 1).toLocaleString()",
            TYPED
        ),
        ("sparse toString", "String(new Array(2 ** 32 - 1))", TYPED),
        ("sparse sort", "new Array(2 ** 32 - 1).sort()", TYPED),
        (
            "array-like sort",
            "Array.prototype.sort.call({ length: 2 ** 53 - 1 })",
            TYPED
        ),
        (
            "array-like toSorted",
            "Array.prototype.toSorted.call({ length: 2 ** 32 - 1 })",
            TYPED
        ),
        (
            "sparse JSON.stringify",
            "JSON.stringify(new Array(2 ** 32 - 1))",
            TYPED
        ),
        (
            "Function.prototype.apply",
            "Math.max.apply(null, { length: 2 ** 32 - 1 })",
            TYPED
        ),
        (
            "Reflect.apply",
            "Reflect.apply(Math.max, null, { length: 2 ** 53 - 1 })",
            TYPED
        ),
        (
            "Reflect.construct",
            "Reflect.construct(Array, { length: 2 ** 32 - 1 })",
            TYPED
        ),
        (
            "bound apply",
            "Function.prototype.apply.bind(Math.min, null)({ length: 2 ** 40 })",
            TYPED
        ),
        (
            "AggregateError with a huge errors list",
            "const e = new AggregateError([]);\n\
             Object.defineProperty(e, 'errors', { value: { length: 2 ** 53 - 1 } });\n\
             throw e",
            TYPED
        ),
        ("sparse map", "new Array(2 ** 32 - 1).map(x => x)", TYPED),
        ("sparse flat", "[new Array(2 ** 32 - 1)].flat()", TYPED),
        ("sparse concat", "[].concat(new Array(2 ** 32 - 1))", TYPED),
        ("sparse reverse", "new Array(2 ** 32 - 1).reverse()", TYPED),
        ("sparse fill", "new Array(2 ** 32 - 1).fill(0)", TYPED),
        ("sparse spread", "[...new Array(2 ** 32 - 1)]", TYPED),
        (
            "Array.from array-like",
            "Array.from({ length: 2 ** 32 - 1 })",
            TYPED
        ),
        ("sparse with", "new Array(2 ** 32 - 1).with(0, 1)", TYPED),
        (
            "sparse toReversed",
            "new Array(2 ** 32 - 1).toReversed()",
            TYPED
        ),
        (
            "sparse toSpliced",
            "new Array(2 ** 32 - 1).toSpliced(0, 0)",
            TYPED
        ),
        (
            "typed array from array-like",
            "new Uint8Array({ length: 2 ** 32 - 1 })",
            TYPED
        ),
        (
            "String.raw",
            "String.raw({ raw: { length: 2 ** 53 - 1 } }, 'x')",
            TYPED
        ),
        ("sparse result", "new Array(2 ** 32 - 1)", TYPED),
        (
            "array-like result length",
            "const a = []; a.length = 2 ** 32 - 1; a",
            TYPED
        ),
    ]
);
