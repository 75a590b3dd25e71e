//! The core conformance kit, with JavaScript scripts.

use polyscript_core::testkit::{self, Harness, NumberModel, Scenario};
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
        Scenario::DeepResult => "let v = 0;\nfor (let i = 0; i < ctx.depth; i++) { v = [v]; }\nv",
        Scenario::DagResult => {
            "let x = [];\nfor (let i = 0; i < ctx.levels; i++) { x = [x, x]; }\nx"
        }
        Scenario::NonFiniteResult => "({ n: NaN })",
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

    fn number_model(&self) -> NumberModel {
        NumberModel::JsNumber
    }
}

/// Every check of the kit but the host-function ones (`testkit::host`):
/// this engine does not bind `HostFunctions` yet, so `run_all` cannot pass.
/// One named check of the kit.
type NamedCheck = (&'static str, fn(&dyn Harness) -> testkit::Check);

const CHECKS: &[NamedCheck] = &[
    ("greeting", testkit::check_greeting),
    ("nested", testkit::check_nested),
    ("types round trip", testkit::check_types_round_trip),
    ("compile error", testkit::check_compile_error),
    ("runtime error", testkit::check_runtime_error),
    ("repeated evals", testkit::check_repeated_evals),
    ("isolation of globals", testkit::check_isolation),
    (
        "top-level declaration twice",
        testkit::check_top_level_declaration,
    ),
    ("concurrency", testkit::check_concurrency),
    ("timeout", testkit::check_timeout),
    ("cancel", testkit::check_cancel),
    ("operation limit", testkit::check_operation_limit),
    ("memory limit", testkit::check_memory_limit),
    ("deep recursion", testkit::check_deep_recursion),
    ("sandbox: file", testkit::check_no_file_access),
    ("sandbox: network", testkit::check_no_network_access),
    ("sandbox: environment", testkit::check_no_env_access),
    ("data: deep input", testkit::check_deep_input),
    ("data: deep result", testkit::check_deep_result),
    ("data: shared result", testkit::check_dag_result),
    ("data: non-finite numbers", testkit::check_non_finite),
    ("data: integers", testkit::check_integers),
    ("data: negative zero", testkit::check_negative_zero),
];

fn run_checks(harness: &Js) {
    let failures: Vec<String> = CHECKS
        .iter()
        .filter_map(|(name, check)| check(harness).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "conformance failures:\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn conformance_on_caller_threads() {
    run_checks(&Js(ThreadMode::CallerThread));
}

#[test]
fn conformance_on_dedicated_threads() {
    run_checks(&Js(ThreadMode::Dedicated));
}
