//! The core conformance suite against the WASI command engine, with the guest
//! module `guests/wasi/build/scripts.wasm` selecting each scenario through
//! its `op` input field (given as static data).
#![cfg(feature = "wasi")]

use polyscript_core::testkit::{self, Harness, NumberModel, Scenario};
use polyscript_core::{AnyEvaluator, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_wasm::WasiEngine;
use serde_json::json;

const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

struct Wasi;

fn op(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Greeting => "greet",
        Scenario::Nested => "nested",
        Scenario::Echo => "echo",
        Scenario::RuntimeError => "fail",
        Scenario::LeakGlobal => "counter",
        Scenario::TopLevelDeclaration => "inc",
        Scenario::InfiniteLoop => "spin",
        Scenario::MemoryBomb => "bomb",
        Scenario::DeepRecursion => "recurse",
        Scenario::ReadFile => "read_file",
        Scenario::OpenSocket => "socket",
        Scenario::ReadEnv => "env",
        Scenario::DeepResult => "deep",
        other => panic!("no op for {other:?}"),
    }
}

impl Harness for Wasi {
    fn evaluator(
        &self,
        scenario: Scenario,
        limits: Limits,
        pool: PoolConfig,
    ) -> Result<AnyEvaluator> {
        let source = match scenario {
            Scenario::CompileError => Source::from_bytes(b"\0asm this is not a module"),
            _ => Source::from_bytes(SCRIPTS),
        };
        let mut builder = Evaluator::builder(WasiEngine::new(), source)
            .limits(limits)
            .pool(pool);
        if scenario != Scenario::CompileError {
            builder = builder.static_data(json!({ "op": op(scenario) }));
        }
        Ok(builder.build()?.into_any())
    }

    fn compile_error_line(&self) -> Option<u32> {
        None
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
    testkit::run_all(&Wasi);
}
