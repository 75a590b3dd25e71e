//! Host functions in WASM guests beyond the conformance kit: a panicking
//! function reaches the guest as an error it can handle (never unwinding
//! through wasm frames), and calls outside an eval still work.

use polyscript_core::host::{HostError, HostFunctions};
use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_wasm::{ExtismEngine, WasiEngine};
use serde_json::json;

const HOST_PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/host.wasm");
const HOST_COMMAND: &[u8] = include_bytes!("../guests/wasi/build/host.wasm");

/// The kit's names, with `fail` panicking instead of returning an error.
fn panicking() -> HostFunctions {
    HostFunctions::new()
        .register("add", |(a, b): (i64, i64)| Ok(a + b))
        .register("user", |(id,): (String,)| Ok(json!({"id": id})))
        .register("fail", |(message,): (String,)| -> Result<(), HostError> {
            panic!("{message}")
        })
        .register("slow", |(ms,): (u64,)| Ok(ms))
        .register("tenant", |(): ()| Ok("t"))
}

#[test]
fn a_panic_in_a_host_function_is_an_error_the_guest_handles() {
    let data = EvalContext::with_data(json!({"message": "kaboom", "op": "caught"})).unwrap();
    let extism = Evaluator::new(
        ExtismEngine::builder()
            .entry_point("host_error_caught")
            .host_functions(panicking())
            .build(),
        Source::from_bytes(HOST_PLUGIN),
    )
    .unwrap();
    let caught = extism.eval(&data).unwrap().into_value();
    assert!(
        caught
            .as_str()
            .is_some_and(|m| m.contains("fail: panicked: kaboom")),
        "{caught}"
    );

    let wasi = Evaluator::new(
        WasiEngine::builder().host_functions(panicking()).build(),
        Source::from_bytes(HOST_COMMAND),
    )
    .unwrap();
    let caught = wasi.eval(&data).unwrap().into_value();
    assert!(
        caught
            .as_str()
            .is_some_and(|m| m.contains("fail: panicked: kaboom")),
        "{caught}"
    );
    // The evaluators keep working.
    let sum = extism
        .eval(
            &EvalContext::with_data(json!({"a": 1, "b": 2, "id": "u"}))
                .unwrap()
                .with_entry_point("host_call"),
        )
        .unwrap();
    assert_eq!(sum.into_value(), json!({"sum": 3, "user": {"id": "u"}}));
}

#[test]
fn an_instance_called_directly_can_call_host_functions() {
    let evaluator = Evaluator::new(
        ExtismEngine::builder()
            .entry_point("host_call")
            .host_functions(panicking())
            .build(),
        Source::from_bytes(HOST_PLUGIN),
    )
    .unwrap();
    let mut instance = evaluator.instantiate().unwrap();
    let out = instance
        .call("host_call", br#"{"a": 40, "b": 2, "id": "raw"}"#)
        .unwrap();
    assert_eq!(out, br#"{"sum":42,"user":{"id":"raw"}}"#);
}
