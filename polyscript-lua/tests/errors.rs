//! Compile and runtime errors carry the line once, in the location; the
//! message is what went wrong; the chunk is named after the file or `script`.

mod common;

use common::run;
use polyscript_core::serde_json::json;
use polyscript_core::{Error, Evaluator, Location, Origin, Source};
use polyscript_lua::LuaEngine;

fn compile_error(source: Source) -> (String, Option<Location>, String) {
    match Evaluator::new(LuaEngine::new(), source) {
        Err(err @ Error::Compile { .. }) => {
            let Error::Compile { message, .. } = &err else {
                unreachable!()
            };
            (message.clone(), err.location(), err.to_string())
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn syntax_error_has_the_line_once_and_no_chunk_prefix() {
    // The repro of issue 15: the line was in the location and again, with
    // the script id as chunk name, in the message.
    let source = Source::from_text("local x = 1\nlocal y = 2\nlocal z = = 3\nreturn z\n");
    let id = source.id().to_string();
    let (message, location, text) = compile_error(source);
    assert_eq!(location, Some(Location::line(3)));
    assert_eq!(message, "unexpected symbol near '='");
    assert_eq!(text.matches(&id).count(), 1, "{text}");
    assert!(!text.contains(":3:"), "{text}");
}

#[test]
fn a_file_source_gets_the_same_treatment() {
    let source = Source::new(
        b"local a = 1\n\nlocal b = ) 2\n".to_vec(),
        Origin::File("dir/greet.lua".into()),
    );
    let (message, location, _) = compile_error(source);
    assert_eq!(location, Some(Location::line(3)));
    assert_eq!(message, "unexpected symbol near ')'");
}

#[test]
fn errors_of_other_chunks_keep_their_position() {
    // A chunk the script loads is another chunk: its position is part of
    // the message, not the script's location.
    let got = run("local _, err = load('x = = 1')\nreturn err", json!({})).unwrap();
    assert_eq!(
        got,
        json!("[string \"x = = 1\"]:1: unexpected symbol near '='")
    );
    match run(
        "local f = load('local t = nil; return t.x')\nreturn f()",
        json!({}),
    ) {
        Err(Error::Runtime {
            message, location, ..
        }) => {
            assert_eq!(location, None);
            assert!(message.starts_with("[string "), "{message}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn runtime_error_has_the_line_once() {
    match run("local a = 1\nlocal b = nil\nreturn b.x + a\n", json!({})) {
        Err(err @ Error::Runtime { .. }) => {
            assert_eq!(err.location(), Some(Location::line(3)));
            let Error::Runtime { message, .. } = &err else {
                unreachable!()
            };
            assert_eq!(message, "attempt to index a nil value (local 'b')");
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
            let Error::Runtime { message, .. } = &err else {
                unreachable!()
            };
            assert_eq!(message, "boom: bad input");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    // Level 0: no position, so no location.
    match run("error('plain', 0)", json!({})) {
        Err(Error::Runtime {
            message, location, ..
        }) => {
            assert_eq!((message.as_str(), location), ("plain", None));
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn error_with_a_table_value_is_still_an_error() {
    match run("error({code = 7})", json!({})) {
        Err(Error::Runtime { message, .. }) => {
            assert_eq!(message, "(error object is a table value)");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn pattern_errors_read_like_lua_with_the_caller_line() {
    match run("local s = 'x'\nreturn s:find('(%')", json!({})) {
        Err(err @ Error::Runtime { .. }) => {
            assert_eq!(err.location(), Some(Location::line(2)));
            let Error::Runtime { message, .. } = &err else {
                unreachable!()
            };
            assert_eq!(message, "malformed pattern (ends with '%')");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
}
