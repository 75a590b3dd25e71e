//! Compile and runtime errors carry the chunk name and line.

mod common;

use common::run;
use polyscript_core::serde_json::json;
use polyscript_core::{Error, Evaluator, Location, Origin, Source};
use polyscript_lua::LuaEngine;

#[test]
fn syntax_error_has_the_line_and_the_file_name() {
    let source = Source::new(
        b"local a = 1\n\nlocal b = ) 2\n".to_vec(),
        Origin::File("script.lua".into()),
    );
    match Evaluator::new(LuaEngine::new(), source) {
        Err(err @ Error::Compile { .. }) => {
            assert_eq!(err.location(), Some(Location::line(3)));
            assert!(err.to_string().contains("script.lua:3:"), "{err}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn runtime_error_has_the_line() {
    match run("local a = 1\nlocal b = nil\nreturn b.x + a\n", json!({})) {
        Err(err @ Error::Runtime { .. }) => {
            assert_eq!(err.location(), Some(Location::line(3)));
            assert!(!err.to_string().contains("stack traceback"), "{err}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn error_with_a_message_keeps_it() {
    match run(
        "\nerror('boom: ' .. ctx.why)\n",
        json!({"why": "bad input"}),
    ) {
        Err(err @ Error::Runtime { .. }) => {
            assert_eq!(err.location(), Some(Location::line(2)));
            assert!(err.to_string().contains("boom: bad input"), "{err}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn error_with_a_table_value_is_still_an_error() {
    assert!(matches!(
        run("error({code = 7})", json!({})),
        Err(Error::Runtime { .. })
    ));
}
