//! The host-function tests again with the accounting allocator installed
//! (the facade's default), and what the memory meter adds: time inside a
//! host call is the host's, memory the script holds afterwards is the
//! script's.

#[global_allocator]
static ALLOCATOR: polyscript_core::alloc::Accounting = polyscript_core::alloc::Accounting::system();

#[path = "host.rs"]
mod shared;

use polyscript_core::host::HostFunctions;
use polyscript_core::{Error, EvalContext, Evaluator, LimitKind, Limits, Source, Value};
use polyscript_rhai::RhaiEngine;
use serde_json::json;

/// `scratch(n)`: allocates and frees `n` bytes, returns their count;
/// `text(n)`: a string of `n` bytes.
fn eval_metered(script: &str, memory_bytes: u64) -> Result<Value, Error> {
    let registry = HostFunctions::new()
        .register("scratch", |(n,): (usize,)| {
            let buffer = std::hint::black_box(vec![1u8; n]);
            Ok(buffer.iter().map(|&b| u64::from(b)).sum::<u64>())
        })
        .register("text", |(n,): (usize,)| Ok("x".repeat(n)));
    let engine = RhaiEngine::builder().host_functions(registry).build();
    let limits = Limits::default().with_memory_bytes(memory_bytes);
    let ev = Evaluator::builder(engine, Source::from_text(script))
        .limits(limits)
        .build()?;
    ev.eval(&EvalContext::with_data(json!({}))?)
        .map(|r| r.into_value())
}

#[test]
fn what_a_host_function_allocates_and_frees_is_not_the_scripts() {
    // 8 MiB of scratch space in the host, 1 MiB for the script.
    let got = eval_metered("host.scratch(8388608) + host.scratch(8388608)", 1 << 20);
    assert_eq!(got.unwrap(), json!(2 * 8_388_608));
}

#[test]
fn what_the_script_holds_after_a_call_counts_against_its_limit() {
    // Each result fits the limit; the script keeps both.
    let script = r#"
        let kept = host.text(1200000);
        try { let more = host.text(1000000); kept += more; } catch (e) { }
        kept.len()
    "#;
    match eval_metered(script, 2 << 20) {
        Err(Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => {}
        other => panic!("expected LimitExceeded(Memory), got {other:?}"),
    }
    // One of them alone is fine.
    let got = eval_metered("let kept = host.text(1200000); kept.len()", 2 << 20);
    assert_eq!(got.unwrap(), json!(1_200_000));
}
