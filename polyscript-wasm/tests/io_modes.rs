//! Input and output modes: JSON (the default), UTF-8 text and raw bytes, in
//! both engines; bytes come back losslessly and invalid UTF-8 is never
//! silently replaced.

use polyscript_core::{Error, EvalContext, Evaluator, Source};
use polyscript_wasm::{ExtismEngine, InputMode, OutputMode, WasiEngine};
use serde_json::json;

const PLUGIN: &[u8] = include_bytes!("../guests/plugin/build/plugin.wasm");
const SCRIPTS: &[u8] = include_bytes!("../guests/wasi/build/scripts.wasm");

/// Bytes that are not UTF-8 (and not JSON).
const BINARY: [u8; 6] = [0xff, 0x00, 0xfe, b'a', 0x80, 0x0a];

fn extism(entry: &str, input: InputMode, output: OutputMode) -> Evaluator<ExtismEngine> {
    let engine = ExtismEngine::builder()
        .entry_point(entry)
        .input(input)
        .output(output)
        .build();
    Evaluator::new(engine, Source::from_bytes(PLUGIN)).unwrap()
}

fn wasi(entry: &str, input: InputMode, output: OutputMode) -> Evaluator<WasiEngine> {
    let engine = WasiEngine::builder()
        .entry_point(entry)
        .input(input)
        .output(output)
        .build();
    Evaluator::new(engine, Source::from_bytes(SCRIPTS)).unwrap()
}

fn ctx(data: serde_json::Value) -> EvalContext {
    EvalContext::with_data(data).unwrap()
}

#[test]
fn a_plain_string_goes_in_as_text() {
    // count_vowels reads raw text when its input is not a JSON object.
    let ev = extism("count_vowels", InputMode::text("input"), OutputMode::Json);
    let got = ev
        .eval(&ctx(json!({"input": "Hello, World!"})))
        .unwrap()
        .into_value();
    assert_eq!(got["count"], 3);
    assert_eq!(got["input"], "Hello, World!");
    let ev = extism("byte_length", InputMode::text("input"), OutputMode::Json);
    let got = ev
        .eval(&ctx(json!({"input": "héllo"})))
        .unwrap()
        .into_value();
    assert_eq!(got, json!(6), "the UTF-8 bytes, no quotes");
}

#[test]
fn raw_bytes_round_trip_unchanged_in_both_engines() {
    let data = ctx(json!({"raw": BINARY.to_vec()}));
    let ev = extism("bytes_echo", InputMode::bytes("raw"), OutputMode::Bytes);
    let response = ev.eval(&data).unwrap();
    assert_eq!(response.bytes(), Some(&BINARY[..]));
    assert!(response.value().is_null());
    let ev = wasi("echo_stdin", InputMode::bytes("raw"), OutputMode::Bytes);
    let response = ev.eval(&data).unwrap();
    assert_eq!(response.into_bytes(), Some(BINARY.to_vec()));
}

#[test]
fn text_output_is_verbatim_and_invalid_utf8_is_an_error() {
    let ev = wasi("echo_stdin", InputMode::text("text"), OutputMode::Text);
    let got = ev
        .eval(&ctx(json!({"text": "{\"not\": \"parsed\"}\n"})))
        .unwrap()
        .into_value();
    assert_eq!(
        got,
        json!("{\"not\": \"parsed\"}\n"),
        "no JSON parse, no trimming"
    );
    let data = ctx(json!({"raw": BINARY.to_vec()}));
    for outcome in [
        extism("bytes_echo", InputMode::bytes("raw"), OutputMode::Text).eval(&data),
        wasi("echo_stdin", InputMode::bytes("raw"), OutputMode::Text).eval(&data),
        // The default JSON mode never replaces invalid UTF-8 either.
        extism("bytes_echo", InputMode::bytes("raw"), OutputMode::Json).eval(&data),
    ] {
        match outcome {
            Err(Error::InvalidData { message, path, .. }) => {
                assert!(message.contains("offset 0"), "{message}");
                assert_eq!(path.as_deref(), Some("result"));
            }
            other => panic!("expected InvalidData, got {other:?}"),
        }
    }
}

#[test]
fn a_missing_or_mistyped_input_key_names_the_path() {
    let ev = extism("bytes_echo", InputMode::bytes("raw"), OutputMode::Bytes);
    match ev.eval(&ctx(json!({"raw": [1, 300]}))) {
        Err(Error::InvalidData { path, .. }) => assert_eq!(path.as_deref(), Some("ctx.raw[1]")),
        other => panic!("expected InvalidData, got {other:?}"),
    }
    let ev = wasi("echo_stdin", InputMode::text("text"), OutputMode::Text);
    match ev.eval(&ctx(json!({"other": 1}))) {
        Err(Error::InvalidData { path, .. }) => assert_eq!(path.as_deref(), Some("ctx.text")),
        other => panic!("expected InvalidData, got {other:?}"),
    }
}

#[test]
fn json_stays_the_default() {
    let ev = Evaluator::new(
        ExtismEngine::with_entry_point("greet"),
        Source::from_bytes(PLUGIN),
    )
    .unwrap();
    let got = ev.eval(&ctx(json!({"name": "JSON"}))).unwrap();
    assert_eq!(got.value()["greeting"], "Hello, JSON!");
    assert_eq!(got.bytes(), None);
}
