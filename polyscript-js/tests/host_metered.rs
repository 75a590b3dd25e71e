//! Host functions under polyscript's accounting allocator (installed in
//! this test binary): what a host function allocates and frees during a
//! call is the host's, what the script keeps of its results is the
//! script's.

mod common;

use polyscript_core::host::HostFunctions;
use polyscript_core::serde_json::json;
use polyscript_core::{Error, Evaluator, LimitKind, Limits, PoolConfig, Source};
use polyscript_js::JsEngine;

#[global_allocator]
static ALLOCATOR: polyscript_core::alloc::Accounting = polyscript_core::alloc::Accounting::system();

const MIB: usize = 1024 * 1024;

/// `big(n)` → `n` bytes of `x`; `scratch(n)` allocates `n` zeroed bytes,
/// frees them and returns `n`.
fn registry() -> HostFunctions {
    HostFunctions::new()
        .register("big", |(n,): (usize,)| Ok("x".repeat(n)))
        .register("scratch", |(n,): (usize,)| {
            let buffer = std::hint::black_box(vec![0u8; n]);
            Ok(buffer.len())
        })
}

fn evaluator(script: &str, mode: polyscript_js::ThreadMode) -> Evaluator<JsEngine> {
    Evaluator::builder(
        JsEngine::builder()
            .thread_mode(mode)
            .host_functions(registry())
            .build(),
        Source::from_text(script),
    )
    .limits(Limits::default().with_memory_bytes(16 * MIB as u64))
    .pool(PoolConfig::default().with_max_size(1).with_min_idle(1))
    .build()
    .unwrap_or_else(|e| panic!("build failed: {e}"))
}

#[test]
fn the_accounting_allocator_is_installed_here() {
    assert!(polyscript_core::alloc::is_installed());
}

#[test]
fn scratch_memory_of_a_host_function_is_not_billed_to_the_script() {
    // The script holds 13 MiB of its 16 MiB (more than the share a
    // collection would forgive) while the host function takes 64 MiB for
    // itself and gives it back: the eval goes on.
    for mode in common::MODES {
        let ev = evaluator(
            "const s = host.big(ctx.held);\nhost.scratch(ctx.scratch);\nhost.scratch(ctx.scratch);\ns.length",
            mode,
        );
        for _ in 0..2 {
            let got = common::run(&ev, json!({"held": 13 * MIB, "scratch": 64 * MIB}));
            assert_eq!(got.unwrap(), json!(13 * MIB), "{mode:?}");
        }
    }
}

#[test]
fn results_the_script_keeps_count_against_its_limit() {
    for mode in common::MODES {
        let ev = evaluator(
            "const kept = [];\nfor (let i = 0; i < 8; i++) { try { kept.push(host.big(ctx.n)); } catch (e) {} }\nkept.length",
            mode,
        );
        match common::run(&ev, json!({"n": 4 * MIB})) {
            Err(Error::LimitExceeded {
                limit: LimitKind::Memory,
                ..
            }) => {}
            other => panic!("{mode:?}: expected LimitExceeded(Memory), got {other:?}"),
        }
        // Two fit.
        let ev = evaluator(
            "const kept = [host.big(ctx.n), host.big(ctx.n)];\nkept.length",
            mode,
        );
        assert_eq!(common::run(&ev, json!({"n": 4 * MIB})).unwrap(), json!(2));
    }
}
