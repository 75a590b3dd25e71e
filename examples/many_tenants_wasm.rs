//! Thousands of tenant modules in one process: N distinct Extism plugins and
//! N distinct WASI modules (each with its own code and data), all on the
//! shared default runtimes. Prints what an idle evaluator costs (resident
//! memory, memory mappings), what one eval each in turn costs, and what a
//! second compile of the same bytes costs.
//!
//! `cargo run --release --example many_tenants_wasm --no-default-features --features wasm -- 10000`

#[cfg(feature = "wasm")]
#[path = "support/process_stats.rs"]
mod process_stats;

#[cfg(feature = "wasm")]
mod run {
    use crate::process_stats::{mappings, resident};
    use std::time::{Duration, Instant};

    use polyscript::prelude::*;
    use polyscript::{Engine, ExtismEngine, Source, WasiEngine};

    /// A distinct Extism plugin: its own data segment and output digit.
    pub fn extism_tenant(i: usize) -> String {
        format!(
            r#"(module
              (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
              (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
              (import "extism:host/env" "output_set" (func $output (param i64 i64)))
              (memory (export "memory") 1)
              (data (i32.const 0) "tenant {i}")
              (func (export "main") (result i32) (local $p i64)
                (local.set $p (call $alloc (i64.const 1)))
                (call $store (local.get $p) (i32.const {digit}))
                (call $output (local.get $p) (i64.const 1))
                (i32.const 0)))"#,
            digit = 48 + i % 10
        )
    }

    /// A distinct WASI command writing one digit.
    pub fn wasi_tenant(i: usize) -> String {
        format!(
            r#"(module
              (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 16) "{digit} tenant {i}")
              (func (export "_start")
                (i32.store (i32.const 0) (i32.const 16))
                (i32.store (i32.const 4) (i32.const 1))
                (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
            digit = i % 10
        )
    }

    /// The figures for one engine.
    #[derive(Debug)]
    pub struct Figures {
        pub engine: &'static str,
        pub tenants: usize,
        pub compile_each: Duration,
        pub resident_each: u64,
        pub mappings_each: f64,
        pub rotation_each: Duration,
        pub hot_each: Duration,
        pub second_compile: Duration,
    }

    fn measure<E: Engine>(
        engine: &'static str,
        tenants: usize,
        make: impl Fn() -> E,
        source: impl Fn(usize) -> String,
    ) -> polyscript::Result<Figures> {
        // The runtime and its first module exist before counting.
        Evaluator::new(make(), Source::from_bytes(source(tenants)))?.eval(&EvalContext::new())?;
        let (maps, rss, start) = (mappings(), resident(), Instant::now());
        let evaluators = (0..tenants)
            .map(|i| Evaluator::new(make(), Source::from_bytes(source(i))))
            .collect::<polyscript::Result<Vec<_>>>()?;
        let compile_each = start.elapsed() / tenants as u32;
        let resident_each = resident().saturating_sub(rss) / tenants as u64;
        let mappings_each = mappings().saturating_sub(maps) as f64 / tenants as f64;
        let ctx = EvalContext::new();
        let start = Instant::now();
        for (i, evaluator) in evaluators.iter().enumerate() {
            let got = evaluator.eval(&ctx)?.into_value();
            if got != i % 10 {
                return Err(polyscript::Error::invalid_data(format!(
                    "tenant {i} answered {got}"
                )));
            }
        }
        let rotation_each = start.elapsed() / tenants as u32;
        let start = Instant::now();
        for _ in 0..tenants.min(1000) {
            evaluators[0].eval(&ctx)?;
        }
        let hot_each = start.elapsed() / tenants.min(1000) as u32;
        let start = Instant::now();
        Evaluator::new(make(), Source::from_bytes(source(0)))?;
        let second_compile = start.elapsed();
        Ok(Figures {
            engine,
            tenants,
            compile_each,
            resident_each,
            mappings_each,
            rotation_each,
            hot_each,
            second_compile,
        })
    }

    pub fn all(tenants: usize) -> polyscript::Result<Vec<Figures>> {
        Ok(vec![
            measure("extism", tenants, ExtismEngine::new, extism_tenant)?,
            measure("wasi", tenants, WasiEngine::new, wasi_tenant)?,
        ])
    }
}

#[cfg(feature = "wasm")]
fn main() {
    let tenants = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    match run::all(tenants) {
        Ok(figures) => {
            for f in figures {
                println!(
                    "{}: {} tenants; compile {:?} each; idle {} KB and {:.1} mappings each; \
                     one eval each in turn {:?} (hot {:?}, {:.2}x); same bytes again {:?}",
                    f.engine,
                    f.tenants,
                    f.compile_each,
                    f.resident_each / 1024,
                    f.mappings_each,
                    f.rotation_each,
                    f.hot_each,
                    f.rotation_each.as_secs_f64() / f.hot_each.as_secs_f64().max(1e-9),
                    f.second_compile,
                );
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(not(feature = "wasm"))]
fn main() {
    eprintln!("needs the `wasm` feature");
}

#[cfg(all(test, feature = "wasm"))]
mod tests {
    #[test]
    fn a_few_hundred_tenants_each_answer_and_stay_small() {
        for f in super::run::all(200).unwrap() {
            assert!(f.resident_each <= 1 << 20, "{f:?}");
            assert!(f.mappings_each <= 8.0, "{f:?}");
        }
    }
}
