use super::*;
use crate::{CancelToken, EngineKind, EvalContext, Limits, ScriptId};
use serde_json::json;
use std::time::Duration;

fn guard<'a>(token: &'a CancelToken, data: &'a HostData) -> Guard<'a> {
    Guard::new(
        EngineKind::Other("test"),
        ScriptId::of(b"s"),
        Limits::default(),
        None,
        token,
    )
    .with_host_data(data)
}

fn registry() -> HostFunctions {
    HostFunctions::new()
        .register("add", |(a, b): (i64, i64)| Ok(a + b))
        .register("fail", |(msg,): (String,)| -> Result<(), HostError> {
            Err(HostError::new(msg))
        })
        .register("boom", |(): ()| -> Result<(), HostError> {
            panic!("kaboom")
        })
        .register("any", |args: Vec<Value>| Ok(args.len()))
        .register_with_context("tenant", |call: &CallContext<'_>, (): ()| {
            Ok(call.data::<String>().cloned())
        })
}

#[test]
fn calls_convert_arguments_and_results() {
    let token = CancelToken::new();
    let data = HostData::default();
    let g = guard(&token, &data);
    let host = registry();
    assert_eq!(
        host.call("add", &[json!(2), json!(3)], &g).unwrap(),
        json!(5)
    );
    assert_eq!(
        host.call("any", &[json!(1), json!("x")], &g).unwrap(),
        json!(2)
    );
    assert_eq!(
        host.names().collect::<Vec<_>>(),
        ["add", "any", "boom", "fail", "tenant"]
    );
}

#[test]
fn wrong_arguments_name_the_function_and_the_argument() {
    let token = CancelToken::new();
    let data = HostData::default();
    let g = guard(&token, &data);
    let host = registry();
    let err = host.call("add", &[json!(1)], &g).unwrap_err();
    assert_eq!(err.kind(), HostCallErrorKind::Arguments);
    assert_eq!(err.message(), "add: takes 2 arguments, got 1");
    let err = host.call("add", &[json!(1), json!("x")], &g).unwrap_err();
    assert!(
        err.message().starts_with("add: argument 2: invalid type"),
        "{err}"
    );
    let err = host.call("nope", &[], &g).unwrap_err();
    assert_eq!(err.kind(), HostCallErrorKind::NotFound);
    assert!(err.message().contains("registered: add, any"), "{err}");
}

#[test]
fn errors_and_panics_become_messages_and_runtime_errors() {
    let token = CancelToken::new();
    let data = HostData::default();
    let g = guard(&token, &data);
    let host = registry();
    let err = host.call("fail", &[json!("out of stock")], &g).unwrap_err();
    assert_eq!(err.message(), "fail: out of stock");
    assert!(!err.is_interrupt());
    let runtime = err.into_error(&g);
    assert!(matches!(runtime, crate::Error::Runtime { .. }));
    assert!(
        runtime
            .to_string()
            .contains("host function fail: out of stock"),
        "{runtime}"
    );
    let err = host.call("boom", &[], &g).unwrap_err();
    assert_eq!(err.message(), "boom: panicked: kaboom");
}

#[test]
fn a_cancelled_or_late_eval_fails_its_next_call_as_an_interrupt() {
    let token = CancelToken::new();
    let data = HostData::default();
    let host = registry();
    token.cancel();
    let g = guard(&token, &data);
    let err = host.call("add", &[json!(1), json!(2)], &g).unwrap_err();
    assert!(err.is_interrupt());
    assert!(matches!(err.into_error(&g), crate::Error::Cancelled { .. }));

    let token = CancelToken::new();
    let late = Guard::new(
        EngineKind::Other("test"),
        ScriptId::of(b"s"),
        Limits::default().with_timeout(Duration::ZERO),
        None,
        &token,
    );
    let err = host.call("add", &[json!(1), json!(2)], &late).unwrap_err();
    assert!(matches!(
        err.into_error(&late),
        crate::Error::Timeout { .. }
    ));
}

#[test]
fn host_data_is_typed_and_per_context() {
    let ctx = EvalContext::new()
        .with_host_data("tenant-7".to_owned())
        .with_host_data(42u32);
    assert_eq!(ctx.host_data().get::<u32>(), Some(&42));
    let token = CancelToken::new();
    let g = guard(&token, ctx.host_data());
    let host = registry();
    assert_eq!(host.call("tenant", &[], &g).unwrap(), json!("tenant-7"));
    let empty = HostData::default();
    let g = guard(&token, &empty);
    assert_eq!(host.call("tenant", &[], &g).unwrap(), json!(null));
}

#[test]
#[should_panic(expected = "identifiers")]
fn names_must_be_identifiers() {
    let _ = HostFunctions::new().register("not a name", |(): ()| Ok(1));
}

#[test]
fn the_registry_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<HostFunctions>();
    let host = registry();
    let copy = host.clone();
    assert!(Arc::ptr_eq(&host.functions, &copy.functions));
}
