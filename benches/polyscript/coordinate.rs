//! Map-reduce over one evaluator's pool with 1 vs 2 workers (issue 8's
//! "2 workers are faster than 1", measured rather than asserted).

use std::hint::black_box;

use criterion::Criterion;
use polyscript::{Coordinator, EvalContext, Value};

const VOWELS_LUA: &str = r#"local n = 0
for _, s in ipairs(ctx.items) do
  local _, c = string.gsub(s, "[aeiouAEIOU]", "")
  n = n + c
end
return { count = n }"#;

pub fn words(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| Value::String(format!("polyscript item number {i} with some vowels")))
        .collect()
}

fn map_reduce(c: &mut Criterion, group: &str, ev: &polyscript::AnyEvaluator, chunk: usize) {
    let items = words(10_000);
    let ctx = EvalContext::new();
    let mut group = c.benchmark_group(group);
    for workers in [1usize, 2] {
        group.bench_function(format!("{workers}_workers"), |b| {
            b.iter(|| {
                let total = Coordinator::with_workers(workers)
                    .map_reduce(ev, &ctx, &items, chunk, 0u64, |acc, v| {
                        Ok(acc + v["count"].as_u64().unwrap_or(0))
                    })
                    .expect("map-reduce runs");
                black_box(total)
            })
        });
    }
    group.finish();
}

pub fn bench(c: &mut Criterion) {
    let lua = polyscript::from_lua_str(VOWELS_LUA).expect("compiles");
    map_reduce(c, "coordinate/map_reduce_10k_lua", &lua, 250);
    // The issue's workload: a WASM (Extism, fresh instance per chunk) pool.
    let wasm = polyscript::from_extism_bytes(crate::workload::EXTISM_WASM, "count_vowels_batch")
        .expect("compiles");
    map_reduce(c, "coordinate/map_reduce_10k_wasm", &wasm, 500);
}
