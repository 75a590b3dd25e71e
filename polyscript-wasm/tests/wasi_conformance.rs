//! The core conformance suite against the WASI command engine, with the guest
//! module `guests/wasi/build/scripts.wasm` selecting each scenario through
//! its `op` input field (given as static data).
#![cfg(feature = "wasi")]

use polyscript_core::testkit::{self, Harness, NumberModel, Scenario};
use polyscript_core::{AnyEvaluator, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_wasm::WasiEngine;
use serde_json::json;

const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");
/// The Zig guest calling host functions through the WASI host ABI.
const HOST: &[u8] = include_bytes!("../guests/wasi/build/host.wasm");

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
        Scenario::HostCall => "call",
        Scenario::HostErrorCaught => "caught",
        Scenario::HostErrorUncaught => "uncaught",
        Scenario::HostWrongArguments => "wrong_args",
        Scenario::HostSlowCall => "slow",
        Scenario::HostData => "tenant",
        Scenario::HostLoop => "loop",
        // No guest op for the other scenarios: the greeting (the kit then
        // reports what does not hold).
        _ => "greet",
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
            Scenario::HostCall
            | Scenario::HostErrorCaught
            | Scenario::HostErrorUncaught
            | Scenario::HostWrongArguments
            | Scenario::HostSlowCall
            | Scenario::HostData
            | Scenario::HostLoop => Source::from_bytes(HOST),
            _ => Source::from_bytes(SCRIPTS),
        };
        let engine = WasiEngine::builder()
            .host_functions(testkit::host_functions())
            .build();
        let mut builder = Evaluator::builder(engine, source).limits(limits).pool(pool);
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
