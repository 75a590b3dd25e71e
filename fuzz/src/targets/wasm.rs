//! Arbitrary bytes as a WebAssembly module: telling Extism plugins from WASI
//! modules, checking entry points and compiling give a typed error or an
//! evaluator, and an evaluator's eval (tight limits) a value or a typed
//! error.

use std::time::Duration;

use polyscript::{
    Error, EvalContext, Evaluator, ExtismEngine, Limits, PoolConfig, Source, WasiEngine,
};

fn limits() -> Limits {
    Limits::default()
        .with_timeout(Duration::from_millis(200))
        .with_memory_bytes(16 << 20)
        .with_operations(1_000_000)
}

fn acceptable_build_error(err: &Error) -> bool {
    matches!(
        err,
        Error::Compile { .. } | Error::EntryPointNotFound { .. } | Error::Unsupported { .. }
    )
}

fn acceptable_eval_error(err: &Error) -> bool {
    matches!(
        err,
        Error::Runtime { .. }
            | Error::Timeout { .. }
            | Error::LimitExceeded { .. }
            | Error::InvalidData { .. }
    )
}

pub fn wasm_module(data: &[u8]) {
    let is_extism = polyscript::is_extism_module(data);
    let ctx = EvalContext::new();
    let pool = PoolConfig::default().with_max_size(1);
    let built = if is_extism {
        Evaluator::builder(
            ExtismEngine::with_entry_point("main"),
            Source::from_bytes(data),
        )
        .limits(limits())
        .pool(pool)
        .build()
        .map(Evaluator::into_any)
    } else {
        Evaluator::builder(WasiEngine::new(), Source::from_bytes(data))
            .limits(limits())
            .pool(pool)
            .build()
            .map(Evaluator::into_any)
    };
    match built {
        Ok(evaluator) => match evaluator.eval(&ctx) {
            Ok(_) => {}
            Err(err) if acceptable_eval_error(&err) => {}
            Err(err) => panic!("eval of a fuzzed module gave {err}"),
        },
        Err(err) if acceptable_build_error(&err) => {}
        Err(err) => panic!("building a fuzzed module gave {err}"),
    }
}
