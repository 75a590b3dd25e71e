//! The conformance kit run against the toy engine: it passes on a correct
//! engine and each check fails on the engine flaw it exists to catch.
#![cfg(feature = "testkit")]

#[allow(dead_code)] // with_host is used by tests/async_eval.rs
mod toy;

use polyscript_core::testkit::{self, Check, Harness};
use toy::{Flaw, ToyHarness};

#[test]
fn a_correct_engine_passes_everything() {
    testkit::run_all(&ToyHarness(Flaw::None));
}

fn fails(check: fn(&dyn Harness) -> Check, flaw: Flaw) -> String {
    match check(&ToyHarness(flaw)) {
        Ok(()) => panic!("the kit did not notice {flaw:?}"),
        Err(why) => why,
    }
}

#[test]
fn leaking_globals_is_caught() {
    let why = fails(testkit::check_isolation, Flaw::Leaks);
    assert!(why.contains("previous eval"), "{why}");
}

#[test]
fn a_wrong_result_is_caught() {
    fails(testkit::check_greeting, Flaw::WrongGreeting);
    fails(testkit::check_repeated_evals, Flaw::WrongGreeting);
}

#[test]
fn cancellation_reported_as_timeout_is_caught() {
    let why = fails(testkit::check_cancel, Flaw::CancelAsTimeout);
    assert!(why.contains("Cancelled"), "{why}");
}

#[test]
fn crossed_inputs_between_threads_are_caught() {
    let why = fails(testkit::check_concurrency, Flaw::SharedInput);
    assert!(why.contains("expected"), "{why}");
}

#[test]
fn a_missing_memory_limit_is_caught() {
    fails(testkit::check_memory_limit, Flaw::NoMemoryLimit);
}

#[test]
fn reading_the_environment_is_caught() {
    let why = fails(testkit::check_no_env_access, Flaw::LeaksEnv);
    assert!(why.contains("got through"), "{why}");
}

#[test]
fn unbounded_data_is_caught() {
    let why = fails(testkit::check_deep_input, Flaw::NoDepthBound);
    assert!(why.contains("expected InvalidData"), "{why}");
    fails(testkit::check_deep_result, Flaw::NoDepthBound);
}

#[test]
fn an_expanded_dag_is_caught() {
    let why = fails(testkit::check_dag_result, Flaw::ExpandsDag);
    assert!(why.contains("LimitExceeded"), "{why}");
}

#[test]
fn a_nan_turned_null_is_caught() {
    let why = fails(testkit::check_non_finite, Flaw::NanAsNull);
    assert!(why.contains("result.n"), "{why}");
}

#[test]
fn rounded_integers_are_caught() {
    fails(testkit::check_integers, Flaw::RoundsIntegers);
}

#[test]
fn swallowed_host_errors_are_caught() {
    let why = fails(testkit::check_host_error_uncaught, Flaw::SwallowsHostErrors);
    assert!(why.contains("expected Error::Runtime"), "{why}");
    fails(
        testkit::check_host_wrong_arguments,
        Flaw::SwallowsHostErrors,
    );
}

#[test]
fn dropped_host_data_is_caught() {
    fails(testkit::check_host_data, Flaw::DropsHostData);
}

#[test]
fn a_whole_run_panics_when_an_engine_is_wrong() {
    let outcome = std::panic::catch_unwind(|| testkit::run_all(&ToyHarness(Flaw::Leaks)));
    assert!(outcome.is_err());
}
