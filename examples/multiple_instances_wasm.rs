//! Many instances of one compiled WebAssembly module: isolation, parallel
//! evaluation on threads, two differently configured evaluators, per-instance
//! memory from one compiled module, the instance pool, and two WASI
//! instances coordinating over one shared memory.
//!
//! `cargo run --example multiple_instances_wasm --no-default-features --features wasm`

use std::time::Duration;

use polyscript::prelude::*;
use polyscript::{
    ExtismEngine, InstancePolicy, LimitKind, Limits, SharedMemory, Source, WasiEngine,
};
use serde_json::json;

/// The committed guest module.
const PLUGIN: &[u8] = include_bytes!("../polyscript-wasm/guests/plugin/build/plugin.wasm");

/// A WASI module built for a shared memory (WebAssembly text).
const MAILBOX: &str = include_str!("../polyscript-wasm/guests/shared/mailbox.wat");

/// What each part of the example found.
#[derive(Debug)]
struct Report {
    /// `get_state` on instance A after `set_state 42` on A, then on B.
    state_a: String,
    state_b: String,
    /// `bump` three times through a stateful evaluator (state kept).
    stateful_bumps: Vec<Value>,
    /// The greeting each thread got back, in thread order.
    parallel: Vec<Value>,
    /// Asking for 8 MiB with 64 pages (4 MiB) and with 1024 pages (64 MiB).
    small_memory: String,
    large_memory: Value,
    /// One compiled module, one evaluator: 4 MiB asked of a 1-page instance,
    /// then of a 256-page one.
    one_page: String,
    many_pages: Value,
    /// What the consumer instance read from the shared memory after the
    /// producer instance wrote it, and a counter four instances added to.
    shared_message: Value,
    shared_total: Value,
    /// The pool: the third acquire of a pool of two, then after a release.
    third_acquire: String,
    after_release: String,
}

fn run() -> polyscript::Result<Report> {
    let source = Source::from_bytes(PLUGIN);

    // 1. Isolation: two instances of one compiled module, separate memories.
    let evaluator = Evaluator::builder(ExtismEngine::with_entry_point("greet"), source.clone())
        .pool(PoolConfig::default().with_max_size(2))
        .build()?;
    let mut a = evaluator.instantiate()?;
    let mut b = evaluator.instantiate()?;
    a.call("set_state", b"42")?;
    let state_a = String::from_utf8_lossy(&a.call("get_state", b"")?).into_owned();
    let state_b = String::from_utf8_lossy(&b.call("get_state", b"")?).into_owned();

    // A stateful evaluator keeps its instance's globals between evals
    // (the default, `Fresh`, gives every eval a new instance).
    let stateful = Evaluator::builder(
        ExtismEngine::builder()
            .entry_point("bump")
            .policy(InstancePolicy::Stateful)
            .build(),
        source.clone(),
    )
    .pool(PoolConfig::default().with_max_size(1))
    .build()?;
    let stateful_bumps = (0..3)
        .map(|_| Ok(stateful.eval(&EvalContext::new())?.into_value()))
        .collect::<polyscript::Result<Vec<_>>>()?;

    // 2. Parallel evaluation: one evaluator shared by four threads.
    let parallel = std::thread::scope(|scope| {
        let handles: Vec<_> = ["Ada", "Grace", "Linus", "Barbara"]
            .into_iter()
            .map(|name| {
                let evaluator = evaluator.clone();
                scope.spawn(move || -> polyscript::Result<Value> {
                    let ctx = EvalContext::with_data(json!({ "name": name }))?;
                    Ok(evaluator.eval(&ctx)?.into_value())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(polyscript::Error::invalid_data("a thread panicked")))
            })
            .collect::<polyscript::Result<Vec<_>>>()
    })?;

    // 3. Two configurations of the same module: different memory limits.
    let with_pages = |pages| {
        Evaluator::builder(
            ExtismEngine::builder()
                .entry_point("allocate")
                .max_pages(pages)
                .build(),
            source.clone(),
        )
        .build()
    };
    let ask = EvalContext::with_data(json!({"mib": 8}))?;
    let small_memory = match with_pages(64)?.eval(&ask) {
        Err(polyscript::Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => "memory limit exceeded".to_owned(),
        Err(other) => return Err(other),
        Ok(response) => format!("unexpectedly allocated: {}", response.value()),
    };
    let large_memory = with_pages(1024)?.eval(&ask)?.into_value();

    // 4. Per-instance memory from one compiled module: each eval's instance
    //    gets its context's memory limit (1 page, then 256 pages).
    let allocator = Evaluator::new(ExtismEngine::with_entry_point("allocate"), source.clone())?;
    let with_pages = |pages: u64| -> polyscript::Result<EvalContext> {
        Ok(EvalContext::with_data(json!({"mib": 4}))?
            .with_limits(Limits::default().with_memory_bytes(pages * 65_536)))
    };
    let one_page = match allocator.eval(&with_pages(1)?) {
        Err(polyscript::Error::LimitExceeded {
            limit: LimitKind::Memory,
            ..
        }) => "memory limit exceeded".to_owned(),
        Err(other) => return Err(other),
        Ok(response) => format!("unexpectedly allocated: {}", response.value()),
    };
    let many_pages = allocator.eval(&with_pages(256)?)?.into_value();

    // 5. Shared memory: WASI instances of one module over one memory. The
    //    consumer spins (on an atomic load) until the producer posts.
    let memory = SharedMemory::new(
        &polyscript::WasmRuntime::shared(true, polyscript::Allocation::Pooling)?,
        1,
        1,
    )?;
    let mailbox = |entry: &str| {
        Evaluator::new(
            WasiEngine::builder()
                .shared_memory(memory.clone())
                .entry_point(entry)
                .build(),
            Source::from_bytes(MAILBOX),
        )
    };
    let (consumer, producer) = (mailbox("consume")?, mailbox("produce")?);
    let shared_message = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| consumer.eval(&EvalContext::new()));
        producer.eval(&EvalContext::new())?;
        waiting
            .join()
            .unwrap_or_else(|_| Err(polyscript::Error::invalid_data("the consumer panicked")))
            .map(Response::into_value)
    })?;
    let counter = mailbox("count")?;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| counter.eval(&EvalContext::new())))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(polyscript::Error::invalid_data("a thread panicked")))
            })
            .collect::<polyscript::Result<Vec<_>>>()
    })?;
    let shared_total = mailbox("total")?.eval(&EvalContext::new())?.into_value();

    // 6. The pool: at most two instances; a third acquire waits, then gives up.
    let pooled = Evaluator::builder(ExtismEngine::with_entry_point("get_state"), source)
        .pool(
            PoolConfig::default()
                .with_max_size(2)
                .with_acquire_timeout(Duration::from_millis(100)),
        )
        .build()?;
    let first = pooled.pool().acquire()?;
    let second = pooled.pool().acquire()?;
    let third_acquire = match pooled.pool().acquire() {
        Err(err @ polyscript::Error::PoolExhausted { .. }) => err.to_string(),
        Err(other) => return Err(other),
        Ok(_) => "a third instance out of a pool of two".to_owned(),
    };
    drop(first);
    let after_release = pooled.pool().with_instance(|instance| {
        instance
            .call("get_state", b"")
            .map(|out| String::from_utf8_lossy(&out).into_owned())
    })??;
    drop(second);

    Ok(Report {
        state_a,
        state_b,
        stateful_bumps,
        parallel,
        small_memory,
        large_memory,
        one_page,
        many_pages,
        shared_message,
        shared_total,
        third_acquire,
        after_release,
    })
}

fn main() {
    match run() {
        Ok(report) => {
            println!(
                "isolation: instance A state = {}, instance B state = {}",
                report.state_a, report.state_b
            );
            println!("stateful policy, bump x3: {}", json!(report.stateful_bumps));
            for value in &report.parallel {
                println!("parallel: {value}");
            }
            println!("64 pages, 8 MiB: {}", report.small_memory);
            println!("1024 pages, 8 MiB: {}", report.large_memory);
            println!("one compiled module, 1 page, 4 MiB: {}", report.one_page);
            println!(
                "one compiled module, 256 pages, 4 MiB: {}",
                report.many_pages
            );
            println!("shared memory, consumer read: {}", report.shared_message);
            println!(
                "shared memory, 4 instances x 1000 atomic adds: {}",
                report.shared_total
            );
            println!("pool of 2, third acquire: {}", report.third_acquire);
            println!("pool after a release: get_state = {}", report.after_release);
        }
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_isolated_parallel_configurable_and_pooled() {
        let report = run().unwrap();
        assert_eq!(report.state_a, "42");
        assert_eq!(report.state_b, "0");
        assert_eq!(report.stateful_bumps, vec![json!(0), json!(1), json!(2)]);
        let names = ["Ada", "Grace", "Linus", "Barbara"];
        for (value, name) in report.parallel.iter().zip(names) {
            let greeting = format!("Hello, {name}!");
            assert_eq!(
                value,
                &json!({"greeting": greeting, "length": greeting.len()})
            );
        }
        assert_eq!(report.small_memory, "memory limit exceeded");
        assert_eq!(report.large_memory, json!({"allocated_mib": 8}));
        assert_eq!(report.one_page, "memory limit exceeded");
        assert_eq!(report.many_pages, json!({"allocated_mib": 4}));
        assert_eq!(report.shared_message, json!("hello"));
        assert_eq!(report.shared_total, json!(4000));
        assert!(
            report.third_acquire.contains("exhausted"),
            "{}",
            report.third_acquire
        );
        assert_eq!(report.after_release, "0");
    }
}
