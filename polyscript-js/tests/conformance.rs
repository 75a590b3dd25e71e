//! The core conformance kit, with JavaScript scripts.

use polyscript_core::testkit::{self, Harness, NumberModel, Scenario};
use polyscript_core::{AnyEvaluator, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_js::{JsEngine, ThreadMode};

/// The conformance kit in one thread mode, with the kit's host functions.
struct Js(ThreadMode);

fn script(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Greeting => {
            "const greeting = `Hello, ${ctx.name}!`;\n({ greeting, length: greeting.length })"
        }
        Scenario::Nested => {
            "const u = ctx.user;\n({ user: { name: u.name, city: u.address.city }, tag_count: u.tags.length })"
        }
        Scenario::Echo => "ctx.value",
        // The syntax error is on line 3.
        Scenario::CompileError => "const a = 1;\nconst b = 2;\nconst c = (a + ;\n",
        Scenario::RuntimeError => "const x = null;\nx.boom();",
        Scenario::LeakGlobal => {
            "const previous = globalThis.leaked === undefined ? null : globalThis.leaked;\nglobalThis.leaked = ctx.n;\nsloppyLeak = ctx.n;\nprevious"
        }
        Scenario::TopLevelDeclaration => "let x = ctx.n;\nconst y = 1;\nclass K {}\nx + y",
        Scenario::InfiniteLoop => "let i = 0;\nwhile (true) { i++; }",
        Scenario::MemoryBomb => "let a = [0, 1, 2, 3];\nwhile (true) { a = a.concat(a); }",
        Scenario::DeepRecursion => "function f(n) { return f(n + 1) + 1; }\nf(0)",
        Scenario::ReadFile => {
            "typeof require === 'function' ? require('fs').readFileSync('/etc/hostname', 'utf8') : null"
        }
        Scenario::OpenSocket => {
            "typeof fetch === 'function' ? fetch('http://127.0.0.1:9') : (typeof XMLHttpRequest === 'function' ? new XMLHttpRequest() : null)"
        }
        Scenario::ReadEnv => "typeof process === 'object' && process.env ? process.env.PATH : null",
        Scenario::DeepResult => "let v = 0;\nfor (let i = 0; i < ctx.depth; i++) { v = [v]; }\nv",
        Scenario::DagResult => {
            "let x = [];\nfor (let i = 0; i < ctx.levels; i++) { x = [x, x]; }\nx"
        }
        Scenario::NonFiniteResult => "({ n: NaN })",
        Scenario::HostCall => "({ sum: host.add(ctx.a, ctx.b), user: host.user(ctx.id) })",
        Scenario::HostErrorCaught => {
            "let caught = null;\ntry { host.fail(ctx.message); } catch (e) { caught = e.message; }\ncaught"
        }
        Scenario::HostErrorUncaught => "host.fail(ctx.message);\n'unreachable'",
        Scenario::HostWrongArguments => "host.add(ctx.a)",
        Scenario::HostSlowCall => "host.slow(ctx.ms);\n'done'",
        Scenario::HostData => "host.tenant()",
        Scenario::HostLoop => "while (true) { host.add(1, 1); }",
        other => panic!("no script for {other:?}"),
    }
}

impl Harness for Js {
    fn evaluator(
        &self,
        scenario: Scenario,
        limits: Limits,
        pool: PoolConfig,
    ) -> Result<AnyEvaluator> {
        Ok(Evaluator::builder(
            JsEngine::builder()
                .thread_mode(self.0)
                .host_functions(testkit::host_functions())
                .build(),
            Source::from_text(script(scenario)),
        )
        .limits(limits)
        .pool(pool)
        .build()?
        .into_any())
    }

    fn compile_error_line(&self) -> Option<u32> {
        Some(3)
    }

    fn number_model(&self) -> NumberModel {
        NumberModel::JsNumber
    }
}

#[test]
fn conformance_on_caller_threads() {
    testkit::run_all(&Js(ThreadMode::CallerThread));
}

#[test]
fn conformance_on_dedicated_threads() {
    testkit::run_all(&Js(ThreadMode::Dedicated));
}
