//! An async service that evaluates a rule per request without blocking its
//! executor: 10 000 concurrent requests on a 2-thread tokio runtime, one
//! evaluator with a pool of 4 instances, a script that awaits an async host
//! function (a 10 ms "price lookup"), and a runaway request in the mix whose
//! timeout does not stall the others. A 1 ms ticker on the same runtime
//! measures how far the executor ever fell behind.
//!
//! ```sh
//! cargo run --release --example async_service --features tokio
//! cargo run --example async_service --features tokio -- 2000   # fewer requests
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use polyscript::host::{HostError, HostFunctions};
use polyscript::{
    AnyEvaluator, Error, EvalContext, Evaluator, Limits, LuaEngine, PoolConfig, Result, Source,
};
use serde_json::json;

/// The rule: a price from the (async) catalogue, times the quantity; a
/// request with `spin` loops forever (to show its timeout is contained).
const RULE: &str = r#"
if ctx.spin then while true do end end
local price = host.price(ctx.sku)
return { sku = ctx.sku, total = price * ctx.qty }
"#;

fn catalogue() -> HostFunctions {
    HostFunctions::new().register_async("price", |(sku,): (String,)| async move {
        // A database or HTTP call in a real service.
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok::<_, HostError>(if sku.starts_with('a') { 3 } else { 5 })
    })
}

fn evaluator() -> Result<AnyEvaluator> {
    Ok(Evaluator::builder(
        LuaEngine::builder().host_functions(catalogue()).build(),
        Source::from_text(RULE),
    )
    .pool(
        PoolConfig::default()
            .with_max_size(4)
            .with_acquire_timeout(Duration::from_secs(600)),
    )
    .limits(Limits::default().with_timeout(Duration::from_secs(600)))
    .build()?
    .into_any())
}

/// What a run measured.
#[derive(Debug)]
struct Report {
    ok: usize,
    timed_out: usize,
    elapsed: Duration,
    worst_tick_lag: Duration,
}

fn serve(requests: usize) -> Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Unsupported {
            message: format!("no tokio runtime: {e}"),
        })?;
    let evaluator = evaluator()?;
    runtime.block_on(async move {
        let worst = Arc::new(AtomicU64::new(0));
        let ticker = {
            let worst = Arc::clone(&worst);
            tokio::spawn(async move {
                let mut last = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let lag = last.elapsed().saturating_sub(Duration::from_millis(1));
                    worst.fetch_max(lag.as_micros() as u64, Ordering::Relaxed);
                    last = Instant::now();
                }
            })
        };
        let started = Instant::now();
        let mut handles = Vec::with_capacity(requests + 1);
        // The runaway request: its own 200 ms deadline.
        let runaway =
            EvalContext::with_data(json!({"spin": true}))?.with_timeout(Duration::from_millis(200));
        handles.push(tokio::spawn(evaluator.eval_async(runaway)));
        for i in 0..requests {
            let sku = if i % 2 == 0 { "apple" } else { "pear" };
            let ctx = EvalContext::with_data(json!({"sku": sku, "qty": 2}))?;
            handles.push(tokio::spawn(evaluator.eval_async(ctx)));
        }
        let (mut ok, mut timed_out) = (0, 0);
        for handle in handles {
            match handle.await {
                Ok(Ok(_)) => ok += 1,
                Ok(Err(Error::Timeout { .. })) => timed_out += 1,
                Ok(Err(e)) => return Err(e),
                Err(join) => {
                    return Err(Error::Unsupported {
                        message: join.to_string(),
                    });
                }
            }
        }
        let elapsed = started.elapsed();
        ticker.abort();
        Ok(Report {
            ok,
            timed_out,
            elapsed,
            worst_tick_lag: Duration::from_micros(worst.load(Ordering::Relaxed)),
        })
    })
}

fn main() {
    // The request count: the first argument, 10 000 by default.
    let requests = match std::env::args().nth(1).map(|arg| arg.parse::<usize>()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("error: the request count: {e}");
            std::process::exit(2);
        }
    };
    match serve(requests) {
        Ok(report) => {
            println!("requests answered: {}", report.ok);
            println!("timed out:         {} (the runaway)", report.timed_out);
            println!("elapsed:           {:?}", report.elapsed);
            println!(
                "throughput:        {:.0} requests/s",
                report.ok as f64 / report.elapsed.as_secs_f64()
            );
            println!("worst ticker lag:  {:?}", report.worst_tick_lag);
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn requests_complete_and_the_executor_keeps_ticking() {
        // Scaled down for the test suite; `cargo run --example async_service`
        // runs the full 10 000.
        let report = super::serve(1_000).expect("the service runs");
        assert_eq!(report.ok, 1_000);
        // The runaway's own deadline ends it; the others are unaffected.
        assert_eq!(report.timed_out, 1, "{report:?}");
    }
}
