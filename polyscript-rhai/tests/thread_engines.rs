//! Evals run on an engine the thread keeps per configuration, not one per
//! instance: many tenants on one thread share it, and what `print` and
//! `debug` say still names the script of the eval that printed.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, ThreadId};

use polyscript_core::{EvalContext, Evaluator, Source};
use polyscript_rhai::RhaiEngine;
use serde_json::json;

/// One `tracing` event: the thread it came from, its target, and its
/// `message` and `script_id` fields.
#[derive(Clone, Debug)]
struct Logged {
    thread: ThreadId,
    target: String,
    message: String,
    script_id: Option<String>,
}

/// A subscriber that keeps every event (no spans: this crate opens none).
struct Capture(Arc<Mutex<Vec<Logged>>>);

/// Collects the two fields of [`Logged`] an event has.
#[derive(Default)]
struct Fields {
    message: String,
    script_id: Option<String>,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "script_id" => self.script_id = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Ok(mut log) = self.0.lock() {
            log.push(Logged {
                thread: thread::current().id(),
                target: event.metadata().target().to_owned(),
                message: fields.message,
                script_id: fields.script_id,
            });
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Every event of this test binary, from every thread. One global
/// subscriber, installed by the first test that asks: callsite interest is
/// cached process-wide and tests run in parallel.
fn log() -> Arc<Mutex<Vec<Logged>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<Logged>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::set_global_default(Capture(log.clone()))
            .expect("the only subscriber of this binary");
        log
    })
    .clone()
}

/// The events this thread logged from the `from`-th on.
fn logged_here_since(from: usize) -> Vec<Logged> {
    let me = thread::current().id();
    log().lock().unwrap()[from..]
        .iter()
        .filter(|l| l.thread == me)
        .cloned()
        .collect()
}

/// How many events there are so far.
fn logged_so_far() -> usize {
    log().lock().unwrap().len()
}

#[test]
fn print_and_debug_name_the_script_of_the_eval_that_prints() {
    let log_start = logged_so_far();
    let engine = RhaiEngine::new();
    let tenants: Vec<_> = ["alpha", "beta", "gamma"]
        .into_iter()
        .map(|name| {
            let source = Source::from_text(format!(r#"print("from {name}"); debug("{name}"); 1"#));
            (name, Evaluator::new(engine.clone(), source).unwrap())
        })
        .collect();
    // In turn, twice: the second round runs on an engine the first left
    // kept, which an earlier tenant used last.
    for _ in 0..2 {
        for (_, evaluator) in &tenants {
            evaluator.eval(&EvalContext::new()).unwrap();
        }
    }
    let logged = logged_here_since(log_start);
    for (name, evaluator) in &tenants {
        let id = evaluator.script_id().to_string();
        for target in ["polyscript_rhai::print", "polyscript_rhai::debug"] {
            let mine: Vec<_> = logged
                .iter()
                .filter(|l| l.target == target && l.message.contains(name))
                .collect();
            assert_eq!(mine.len(), 2, "{target} of {name}: {logged:#?}");
            for l in mine {
                assert_eq!(l.script_id.as_deref(), Some(id.as_str()), "{l:?}");
            }
        }
    }
}

#[test]
fn tenants_of_one_configuration_share_the_threads_engine() {
    const TENANTS: usize = 50;
    let engine = RhaiEngine::new();
    let tenants: Vec<_> = (0..TENANTS)
        .map(|i| {
            let source = Source::from_text(format!("#{{tenant: {i}, n: ctx.n + {i}}}"));
            Evaluator::new(engine.clone(), source).unwrap()
        })
        .collect();
    let log_start = logged_so_far();
    for (i, evaluator) in tenants.iter().enumerate() {
        let ctx = EvalContext::with_data(json!({"n": 1})).unwrap();
        let response = evaluator.eval(&ctx).unwrap();
        assert_eq!(response.value(), &json!({"tenant": i, "n": 1 + i}));
    }
    // An instance per tenant, and one engine for all of them on this
    // thread (the test's own, so no earlier eval left one).
    let built = logged_here_since(log_start)
        .into_iter()
        .filter(|l| l.message.contains("rhai engine built"))
        .count();
    assert_eq!(built, 1, "engines built for {TENANTS} tenants' evals");
}

#[test]
fn differently_configured_engines_do_not_share_one() {
    let plain = RhaiEngine::new();
    let strict = RhaiEngine::builder().strict_variables(true).build();
    let lenient = Evaluator::new(plain, Source::from_text("let x = 1; x")).unwrap();
    let strict = Evaluator::new(strict, Source::from_text("let y = 2; y")).unwrap();
    let log_start = logged_so_far();
    for _ in 0..3 {
        assert_eq!(
            lenient.eval(&EvalContext::new()).unwrap().value(),
            &json!(1)
        );
        assert_eq!(strict.eval(&EvalContext::new()).unwrap().value(), &json!(2));
    }
    let built = logged_here_since(log_start)
        .into_iter()
        .filter(|l| l.message.contains("rhai engine built"))
        .count();
    assert_eq!(built, 2, "one engine per configuration, kept between evals");
}
