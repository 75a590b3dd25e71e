//! JSON ⇄ Lua conversion rules.

mod common;

use common::run;
use polyscript_core::serde_json::json;
use polyscript_core::{Error, ValueType};

#[test]
fn integers_and_floats_keep_their_subtype() {
    let got = run(
        "return { i = 3, f = 3.0, div = 6 / 2, idiv = 7 // 2, big = ctx.big, echo = ctx.f, \
          itype = math.type(ctx.i), ftype = math.type(ctx.f) }",
        json!({"i": 3, "f": 3.0, "big": 1_i64 << 53}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"i": 3, "f": 3.0, "div": 3.0, "idiv": 3, "big": 1_i64 << 53, "echo": 3.0,
               "itype": "integer", "ftype": "float"})
    );
    assert_eq!(ValueType::of(&got["f"]), ValueType::Float);
    assert_eq!(ValueType::of(&got["echo"]), ValueType::Float);
    assert_eq!(ValueType::of(&got["i"]), ValueType::Int);
}

#[test]
fn empty_plain_table_is_a_map_and_input_lists_stay_lists() {
    let got = run(
        "return { plain = {}, list = ctx.list, emptied = ctx.gone, made = array(), seq = {1, 2} }",
        json!({"list": [], "gone": []}),
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"plain": {}, "list": [], "emptied": [], "made": [], "seq": [1, 2]})
    );
}

#[test]
fn null_round_trips_and_nil_is_null() {
    assert_eq!(
        run(
            "return { a = ctx.a, b = null, is_null = ctx.a == null }",
            json!({"a": null})
        )
        .unwrap(),
        json!({"a": null, "b": null, "is_null": true})
    );
    assert_eq!(run("return nil", json!({})).unwrap(), json!(null));
    assert_eq!(run("local x = 1", json!({})).unwrap(), json!(null));
}

#[test]
fn functions_cannot_be_returned() {
    match run("return { f = print }", json!({})) {
        Err(Error::InvalidData { message, path, .. }) => {
            assert_eq!(path.as_deref(), Some("result.f"));
            assert!(message.contains("function"), "{message}");
        }
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn map_keys_come_back_sorted() {
    let got = run("return { b = 1, a = 2, c = 3 }", json!({})).unwrap();
    let keys: Vec<&String> = got.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["a", "b", "c"]);
}
