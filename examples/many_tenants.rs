//! Thousands of tenant scripts in one process: N evaluators of distinct
//! scripts per engine (Rhai, Lua, JavaScript), each engine's evaluators built
//! from one engine value on its default settings, as a server holding every
//! tenant's rule would. Prints, per engine: compile time per evaluator,
//! resident memory and memory mappings each idle evaluator adds (after one
//! eval each), the hot per-eval time of one evaluator, and the per-eval time
//! of rotating over all N on one thread (the second of two rotations), with
//! rotation ÷ hot.
//!
//! `cargo run --release --example many_tenants --features rhai,lua,js -- 10000`
//!
//! The first argument is N (default 10 000), the optional second the engines,
//! comma-separated (default `rhai,lua,js`; `js-apart` adds JavaScript with
//! every tenant built by `polyscript::from_js_str`, so each has its own
//! `JsEngine::new()`, as the facade constructors give; default engines share
//! one configuration, so this should match `js`). Several engines are measured
//! each in a child process of its own (this program run again with one
//! engine): memory one engine freed stays in the allocator, and the next
//! engine reusing it would look as if it cost nothing. The memory figures
//! read `/proc/self/statm` and `/proc/self/maps` (Linux; 0 elsewhere).

#[cfg(all(feature = "rhai", feature = "lua", feature = "js"))]
#[path = "support/process_stats.rs"]
mod process_stats;

#[cfg(all(feature = "rhai", feature = "lua", feature = "js"))]
mod run {
    use crate::process_stats::{mappings, resident};
    use std::time::{Duration, Instant};

    use polyscript::js::JsEngine;
    use polyscript::lua::LuaEngine;
    use polyscript::prelude::*;
    use polyscript::rhai::RhaiEngine;
    use polyscript::serde_json::{Value, json};
    use polyscript::{Engine, Source};

    /// Engines measured when none are named.
    pub const DEFAULT_ENGINES: &[&str] = &["rhai", "lua", "js"];

    /// Evals of one evaluator timed for the hot figure (after a warm-up).
    const HOT_EVALS: u32 = 10_000;

    /// Tenant `i`'s Rhai script: its own text and its own constant, so
    /// nothing that deduplicates or caches by text can serve two tenants.
    fn rhai_script(i: usize) -> String {
        format!(r#"let g = "Hello, " + ctx.name + "!"; #{{greeting: g, tenant: {i}}}"#)
    }

    /// Tenant `i`'s Lua chunk.
    fn lua_script(i: usize) -> String {
        format!(
            "local g = \"Hello, \" .. ctx.name .. \"!\"\nreturn {{ greeting = g, tenant = {i} }}"
        )
    }

    /// Tenant `i`'s JavaScript program.
    fn js_script(i: usize) -> String {
        format!(r#"const g = "Hello, " + ctx.name + "!"; ({{greeting: g, tenant: {i}}})"#)
    }

    /// Evaluates tenant `i`'s evaluator and checks it answered as tenant `i`.
    fn eval_checked(evaluator: &AnyEvaluator, i: usize, ctx: &EvalContext) -> Result<()> {
        let response = evaluator.eval(ctx)?;
        let value = response.value();
        if value.get("tenant").and_then(Value::as_u64) != Some(i as u64)
            || value.get("greeting").and_then(Value::as_str) != Some("Hello, World!")
        {
            return Err(Error::invalid_data(format!("tenant {i} answered {value}")));
        }
        Ok(())
    }

    /// The figures for one engine.
    #[derive(Debug)]
    pub struct Figures {
        pub engine: &'static str,
        pub tenants: usize,
        pub compile_each: Duration,
        pub resident_each: f64,
        pub mappings_each: f64,
        pub first_eval_each: Duration,
        pub rotation_each: Duration,
        pub hot_each: Duration,
    }

    /// One evaluator per tenant from one shared `engine`.
    fn shared<E: Engine + Clone>(
        engine: E,
        script: fn(usize) -> String,
    ) -> impl Fn(usize) -> Result<AnyEvaluator> {
        move |i| Ok(Evaluator::new(engine.clone(), Source::from_text(script(i)))?.into_any())
    }

    /// Builds `tenants` evaluators with `build`, evaluates each once, then
    /// measures; they are dropped on return, before any other engine runs.
    fn measure(
        engine: &'static str,
        tenants: usize,
        build: impl Fn(usize) -> Result<AnyEvaluator>,
    ) -> Result<Figures> {
        let ctx = EvalContext::with_data(json!({"name": "World"}))?;
        // The engine's process-wide parts (shared modules, the thread's
        // context or stack) exist before counting.
        eval_checked(&build(tenants)?, tenants, &ctx)?;

        let (maps, rss, start) = (mappings(), resident(), Instant::now());
        let evaluators = (0..tenants).map(&build).collect::<Result<Vec<_>>>()?;
        let compile_each = start.elapsed() / tenants as u32;

        // Rotation 1: each evaluator's first eval (its instance is made).
        let start = Instant::now();
        for (i, evaluator) in evaluators.iter().enumerate() {
            eval_checked(evaluator, i, &ctx)?;
        }
        let first_eval_each = start.elapsed() / tenants as u32;
        let resident_each = resident().saturating_sub(rss) as f64 / tenants as f64;
        let mappings_each = mappings().saturating_sub(maps) as f64 / tenants as f64;

        // Rotation 2, the one reported: every evaluator has its instance.
        let start = Instant::now();
        for (i, evaluator) in evaluators.iter().enumerate() {
            eval_checked(evaluator, i, &ctx)?;
        }
        let rotation_each = start.elapsed() / tenants as u32;

        // Hot: one evaluator over and over, the others idle.
        for _ in 0..HOT_EVALS / 10 {
            eval_checked(&evaluators[0], 0, &ctx)?;
        }
        let start = Instant::now();
        for _ in 0..HOT_EVALS {
            eval_checked(&evaluators[0], 0, &ctx)?;
        }
        let hot_each = start.elapsed() / HOT_EVALS;
        Ok(Figures {
            engine,
            tenants,
            compile_each,
            resident_each,
            mappings_each,
            first_eval_each,
            rotation_each,
            hot_each,
        })
    }

    /// Measures `engine` (one of [`DEFAULT_ENGINES`] or `js-apart`).
    pub fn engine(engine: &str, tenants: usize) -> Result<Figures> {
        match engine {
            "rhai" => measure("rhai", tenants, shared(RhaiEngine::new(), rhai_script)),
            "lua" => measure("lua", tenants, shared(LuaEngine::new(), lua_script)),
            "js" => measure("js", tenants, shared(JsEngine::new(), js_script)),
            "js-apart" => measure("js-apart", tenants, |i| {
                polyscript::from_js_str(js_script(i))
            }),
            other => Err(Error::invalid_data(format!(
                "unknown engine {other:?} (rhai, lua, js, js-apart)"
            ))),
        }
    }
}

#[cfg(all(feature = "rhai", feature = "lua", feature = "js"))]
fn main() {
    let mut args = std::env::args().skip(1);
    let tenants: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(10_000);
    let engines: Vec<String> = args.next().map_or_else(
        || run::DEFAULT_ENGINES.iter().map(|e| e.to_string()).collect(),
        |list| list.split(',').map(str::to_owned).collect(),
    );
    if let [engine] = engines.as_slice() {
        measure_here(engine, tenants);
    } else {
        for engine in &engines {
            measure_in_child(engine, tenants);
        }
    }
}

/// Measures one engine in this process and prints its line.
#[cfg(all(feature = "rhai", feature = "lua", feature = "js"))]
fn measure_here(engine: &str, tenants: usize) {
    let micros = |d: std::time::Duration| d.as_secs_f64() * 1e6;
    match run::engine(engine, tenants) {
        Ok(f) => println!(
            "{}: {} tenants; compile {:.1} µs each; idle {:.1} KB and {:.3} mappings each; \
             first eval each {:.1} µs; rotation {:.2} µs per eval (hot {:.2} µs, {:.2}x)",
            f.engine,
            f.tenants,
            micros(f.compile_each),
            f.resident_each / 1024.0,
            f.mappings_each,
            micros(f.first_eval_each),
            micros(f.rotation_each),
            micros(f.hot_each),
            f.rotation_each.as_secs_f64() / f.hot_each.as_secs_f64().max(1e-9),
        ),
        Err(err) => {
            eprintln!("{engine}: error: {err}");
            std::process::exit(1);
        }
    }
}

/// Measures one engine in a child process (this program, one engine).
#[cfg(all(feature = "rhai", feature = "lua", feature = "js"))]
fn measure_in_child(engine: &str, tenants: usize) {
    let status = std::env::current_exe().and_then(|exe| {
        std::process::Command::new(exe)
            .arg(tenants.to_string())
            .arg(engine)
            .status()
    });
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => {
            eprintln!("{engine}: the measuring process ended with {status}");
            std::process::exit(1);
        }
        Err(err) => {
            eprintln!("{engine}: cannot start the measuring process: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(not(all(feature = "rhai", feature = "lua", feature = "js")))]
fn main() {
    eprintln!("needs the `rhai`, `lua` and `js` features");
}
