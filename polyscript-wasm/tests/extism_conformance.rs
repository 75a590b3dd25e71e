//! The core conformance suite, run against the AssemblyScript Extism guest
//! (`guests/plugin`): one entry point per scenario.

use polyscript_core::testkit::{self, Harness, NumberModel, Scenario};
use polyscript_core::{AnyEvaluator, Evaluator, Limits, PoolConfig, Result, Source};
use polyscript_wasm::{Compiler, ExtismEngine, WasmRuntime};

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");
/// The same guest's exports calling host functions (`assembly/host.ts`).
const HOST_PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/host.wasm");

/// The suite's engine; `runtime` set runs it on that runtime instead of
/// the process-wide default.
#[derive(Default)]
struct Extism {
    runtime: Option<WasmRuntime>,
}

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
        Scenario::HostCall => "host_call",
        Scenario::HostErrorCaught => "host_error_caught",
        Scenario::HostErrorUncaught => "host_error_uncaught",
        Scenario::HostWrongArguments => "host_wrong_arguments",
        Scenario::HostSlowCall => "host_slow_call",
        Scenario::HostData => "host_data",
        Scenario::HostLoop => "host_loop",
        _ => "greet",
    }
}

fn is_host_scenario(scenario: Scenario) -> bool {
    matches!(
        scenario,
        Scenario::HostCall
            | Scenario::HostErrorCaught
            | Scenario::HostErrorUncaught
            | Scenario::HostWrongArguments
            | Scenario::HostSlowCall
            | Scenario::HostData
            | Scenario::HostLoop
    )
}

impl Harness for Extism {
    fn evaluator(
        &self,
        scenario: Scenario,
        limits: Limits,
        pool: PoolConfig,
    ) -> Result<AnyEvaluator> {
        let source = match scenario {
            Scenario::CompileError => Source::from_bytes(b"\0asm\x01\0\0\0 this is not a module"),
            s if is_host_scenario(s) => Source::from_bytes(HOST_PLUGIN),
            _ => Source::from_bytes(PLUGIN),
        };
        let mut engine = ExtismEngine::builder()
            .entry_point(entry_point(scenario))
            .fuel(true)
            .host_functions(testkit::host_functions());
        if let Some(runtime) = &self.runtime {
            engine = engine.runtime(runtime.clone());
        }
        let engine = engine.build();
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
    testkit::run_all(&Extism::default());
}

/// Every promise holds on wasmtime's baseline compiler too (Winch, with the
/// kernel whose host-context global is an `i32`: vendor/PATCHES.md, extism
/// patch 9).
#[test]
fn conformance_on_the_baseline_compiler() {
    let runtime = WasmRuntime::builder()
        .compiler(Compiler::Baseline)
        .fuel(true)
        .build()
        .unwrap();
    testkit::run_all(&Extism {
        runtime: Some(runtime),
    });
}
