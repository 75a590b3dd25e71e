//! The core conformance kit, with JavaScript scripts.

use polyscript_core::testkit::{self, Harness, Scenario};
use polyscript_core::{AnyEvaluator, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_js::{JsEngine, ThreadMode};

/// The conformance kit in one thread mode.
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
            JsEngine::builder().thread_mode(self.0).build(),
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
}

#[test]
fn conformance_on_caller_threads() {
    testkit::run_all(&Js(ThreadMode::CallerThread));
}

#[test]
fn conformance_on_dedicated_threads() {
    testkit::run_all(&Js(ThreadMode::Dedicated));
}
