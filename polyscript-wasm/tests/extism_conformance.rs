//! The core conformance suite, run against the AssemblyScript Extism guest
//! (`guests/plugin`): one entry point per scenario.

use polyscript_core::testkit::{self, Harness, NumberModel, Scenario};
use polyscript_core::{AnyEvaluator, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_wasm::ExtismEngine;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");

struct Extism;

fn entry_point(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Greeting => "greet",
        Scenario::Nested => "nested",
        Scenario::Echo => "echo",
        Scenario::RuntimeError => "fail",
        Scenario::LeakGlobal => "leak_global",
        Scenario::TopLevelDeclaration => "add_one",
        Scenario::InfiniteLoop => "spin",
        Scenario::MemoryBomb => "alloc_bomb",
        Scenario::DeepRecursion => "recurse",
        Scenario::ReadFile => "read_file",
        Scenario::OpenSocket => "http_get",
        Scenario::ReadEnv => "read_env",
        Scenario::DeepResult => "deep",
        _ => "greet",
    }
}

impl Harness for Extism {
    fn evaluator(
        &self,
        scenario: Scenario,
        limits: Limits,
        pool: PoolConfig,
    ) -> Result<AnyEvaluator> {
        let source = if scenario == Scenario::CompileError {
            Source::from_bytes(b"\0asm\x01\0\0\0 this is not a module")
        } else {
            Source::from_bytes(PLUGIN)
        };
        let engine = ExtismEngine::builder()
            .entry_point(entry_point(scenario))
            .fuel(true)
            .build();
        Ok(Evaluator::builder(engine, source)
            .limits(limits)
            .pool(pool)
            .build()?
            .into_any())
    }

    fn compile_error_line(&self) -> Option<u32> {
        None
    }

    fn concurrent_evals_per_thread(&self) -> usize {
        100
    }

    fn number_model(&self) -> NumberModel {
        NumberModel::JsonText
    }

    /// The output is JSON text: no shared values, no NaN.
    fn results_are_values(&self) -> bool {
        false
    }
}

#[test]
fn conformance() {
    testkit::run_all(&Extism);
}
