use polyscript_core::data::{Budget, DataErrorKind};
use polyscript_core::{Limits, Map, Value};
use rhai::Dynamic;
use serde_json::json;

use super::*;
use crate::reads::CtxReads;

fn budget() -> Budget {
    Budget::for_limits(&Limits::default())
}

fn round_trip(value: Value) -> Value {
    let mut input = Map::new();
    input.insert("v".into(), value);
    let dynamic = to_rhai(&(&input).into(), &CtxReads::All, &mut budget()).expect("to rhai");
    let back = from_rhai(&dynamic, &mut budget()).expect("from rhai");
    back["v"].clone()
}

#[test]
fn ints_stay_ints_and_floats_stay_floats() {
    assert!(round_trip(json!(3)).is_i64());
    assert!(round_trip(json!(3.0)).is_f64());
    assert_eq!(round_trip(json!(-0.25)), json!(-0.25));
    let zero = round_trip(json!(-0.0));
    assert!(
        zero.as_f64()
            .is_some_and(|z| z == 0.0 && z.is_sign_negative())
    );
    assert_eq!(round_trip(json!(i64::MIN)), json!(i64::MIN));
    assert_eq!(
        round_trip(json!({"a": [1, "x", null, true]})),
        json!({"a": [1, "x", null, true]})
    );
}

#[test]
fn a_u64_above_i64_is_refused_with_its_path() {
    let mut input = Map::new();
    input.insert("a".into(), json!([0, u64::MAX]));
    let err = to_rhai(&(&input).into(), &CtxReads::All, &mut budget()).unwrap_err();
    assert!(matches!(
        err.kind(),
        DataErrorKind::IntegerOutOfRange { .. }
    ));
    assert_eq!(err.path("ctx"), "ctx.a[1]");
}

#[test]
fn results_without_a_json_form_name_type_and_path() {
    let nan = Dynamic::from_map(rhai::Map::from_iter([(
        "n".into(),
        Dynamic::from_float(f64::NAN),
    )]));
    let err = from_rhai(&nan, &mut budget()).unwrap_err();
    assert!(matches!(err.kind(), DataErrorKind::NonFinite(_)));
    assert_eq!(err.path("result"), "result.n");

    let fn_ptr = Dynamic::from(rhai::FnPtr::new("f").unwrap());
    let list = Dynamic::from_array(vec![Dynamic::UNIT, fn_ptr]);
    let err = from_rhai(&list, &mut budget()).unwrap_err();
    assert_eq!(err.path("result"), "result[1]");
    assert!(err.to_string().contains("Fn(f)"), "{err}");

    let wide = Dynamic::from(u128::MAX);
    assert!(from_rhai(&wide, &mut budget()).is_err());
    assert_eq!(
        from_rhai(&Dynamic::from(7_u64), &mut budget()).unwrap(),
        json!(7)
    );
}

#[test]
fn chars_blobs_and_shared_values() {
    assert_eq!(
        from_rhai(&Dynamic::from_char('é'), &mut budget()).unwrap(),
        json!("é")
    );
    let blob = Dynamic::from_blob(vec![1, 255]);
    assert_eq!(from_rhai(&blob, &mut budget()).unwrap(), json!([1, 255]));
    let shared = Dynamic::from_int(5).into_shared();
    let list = Dynamic::from_array(vec![shared.clone(), shared]);
    assert_eq!(from_rhai(&list, &mut budget()).unwrap(), json!([5, 5]));
}

#[test]
fn depth_is_bounded_both_ways() {
    let mut deep = Dynamic::from_int(0);
    for _ in 0..200 {
        deep = Dynamic::from_array(vec![deep]);
    }
    let err = from_rhai(&deep, &mut budget()).unwrap_err();
    assert!(matches!(err.kind(), DataErrorKind::TooDeep { limit: 128 }));
    assert!(err.path("result").starts_with("result[0][0]"));

    let mut value = json!(0);
    for _ in 0..200 {
        value = Value::Array(vec![value]);
    }
    let mut input = Map::new();
    input.insert("v".into(), value);
    let err = to_rhai(&(&input).into(), &CtxReads::All, &mut budget()).unwrap_err();
    assert!(matches!(err.kind(), DataErrorKind::TooDeep { .. }));
    assert!(err.path("ctx").starts_with("ctx.v[0]"));
}

#[test]
fn a_shared_value_is_charged_wherever_it_appears() {
    // A DAG: every level holds the level below twice, shared.
    let mut x = Dynamic::from_array(vec![]).into_shared();
    for _ in 0..40 {
        x = Dynamic::from_array(vec![x.clone(), x]).into_shared();
    }
    let mut small = Budget::new(128, Some(1 << 20));
    let err = from_rhai(&x, &mut small).unwrap_err();
    assert!(matches!(err.kind(), DataErrorKind::TooLarge { .. }));
}

#[test]
fn flat_values_are_recognised() {
    assert!(is_flat(&Dynamic::from_int(1)));
    assert!(is_flat(&Dynamic::from_array(vec![Dynamic::from("a")])));
    assert!(!is_flat(&Dynamic::from_array(vec![Dynamic::from_array(
        vec![]
    )])));
    assert!(!is_flat(&Dynamic::from_int(1).into_shared()));
}
