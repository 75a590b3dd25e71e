//! JSON text from a WASM guest into a [`Value`], bounded.
//!
//! serde_json's parser stops at 128 levels with an error and reads integers
//! beyond `u64` as rounded floats, and both look like "not JSON" to a caller
//! that falls back to treating the output as text. So the output is first
//! scanned once, without recursion: the scan decides whether the bytes are
//! JSON at all, measures their nesting and checks every number literal
//! against the number rule. Only valid JSON within the bounds is handed to
//! serde_json (with its recursion limit lifted, since the depth is known).

use serde::Deserialize;

use super::budget::Budget;
use super::error::{DataError, DataErrorKind};
use crate::value::Value;

/// Parses `bytes` as one JSON document within `budget`.
///
/// * `Ok(None)`: the bytes are not JSON (the caller decides what they are).
/// * `Err(_)`: they are JSON but past a bound: nested deeper than the
///   budget's depth ([`DataErrorKind::TooDeep`]), an integer literal outside
///   `i64`/`u64` or a float literal that overflows `f64`
///   ([`DataErrorKind::IntegerOutOfRange`] / [`DataErrorKind::Other`]), or
///   more than the budget's bytes once built ([`DataErrorKind::TooLarge`]).
/// * `Ok(Some(value))` otherwise.
pub fn parse_json(bytes: &[u8], budget: &mut Budget) -> Result<Option<Value>, DataError> {
    if std::str::from_utf8(bytes).is_err() {
        return Ok(None);
    }
    let Some(depth) = scan(bytes, budget)? else {
        return Ok(None);
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if depth >= 127 {
        // Safe: the scan bounded the depth by the budget's (≤ 1024 levels).
        de.disable_recursion_limit();
    }
    match Value::deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
        Ok(value) => Ok(Some(value)),
        // What the scan lets through but serde_json refuses (a lone
        // surrogate in a `\u` escape) is not JSON either.
        Err(_) => Ok(None),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// A value (document start, after `:` or after `,` in a list).
    Value,
    /// A value or `]` (just after `[`).
    ValueOrEnd,
    /// A key or `}` (just after `{`).
    KeyOrEnd,
    /// A key (after `,` in a map).
    Key,
    /// `:`.
    Colon,
    /// `,` or the closing bracket.
    CommaOrEnd,
    /// Nothing but white space.
    Done,
}

/// Validates the document without recursion: `Ok(Some(depth))` for valid
/// JSON within the bounds, `Ok(None)` for invalid JSON.
fn scan(b: &[u8], budget: &mut Budget) -> Result<Option<u32>, DataError> {
    let mut stack: Vec<u8> = Vec::new();
    // Where the scan is, for the first error's path: one entry per open
    // container (the current index of a list, the current key of a map).
    let mut path: Vec<Step> = Vec::new();
    let mut deepest = 0u32;
    let mut expect = Expect::Value;
    let mut i = 0;
    // Errors past a bound are reported only if the rest is JSON too.
    let mut bound_error: Option<DataError> = None;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
            continue;
        }
        match expect {
            Expect::Done => return Ok(None),
            Expect::Colon => {
                if c != b':' {
                    return Ok(None);
                }
                i += 1;
                expect = Expect::Value;
            }
            Expect::CommaOrEnd => {
                let top = stack.last().copied();
                match c {
                    b',' => {
                        expect = if top == Some(b'[') {
                            if let Some(Step::Index(n)) = path.last_mut() {
                                *n += 1;
                            }
                            Expect::Value
                        } else {
                            Expect::Key
                        };
                        i += 1;
                    }
                    b']' if top == Some(b'[') => {
                        stack.pop();
                        path.pop();
                        i += 1;
                        expect = after_value(&stack);
                    }
                    b'}' if top == Some(b'{') => {
                        stack.pop();
                        path.pop();
                        i += 1;
                        expect = after_value(&stack);
                    }
                    _ => return Ok(None),
                }
            }
            Expect::KeyOrEnd | Expect::Key => match c {
                b'}' if expect == Expect::KeyOrEnd => {
                    stack.pop();
                    path.pop();
                    i += 1;
                    expect = after_value(&stack);
                }
                b'"' => {
                    let Some(end) = string_end(b, i) else {
                        return Ok(None);
                    };
                    if let Some(step) = path.last_mut() {
                        *step = Step::Key(i, end);
                    }
                    note(&mut bound_error, budget.charge_bytes(end - i), b, &path);
                    i = end;
                    expect = Expect::Colon;
                }
                _ => return Ok(None),
            },
            Expect::Value | Expect::ValueOrEnd => {
                if c == b']' && expect == Expect::ValueOrEnd {
                    stack.pop();
                    path.pop();
                    i += 1;
                    expect = after_value(&stack);
                    continue;
                }
                note(&mut bound_error, budget.charge_value(), b, &path);
                match c {
                    b'[' | b'{' => {
                        stack.push(c);
                        let depth = stack.len() as u32;
                        deepest = deepest.max(depth);
                        note(&mut bound_error, budget.enter(depth), b, &path);
                        path.push(if c == b'[' {
                            Step::Index(0)
                        } else {
                            Step::Key(0, 0)
                        });
                        i += 1;
                        expect = if c == b'[' {
                            Expect::ValueOrEnd
                        } else {
                            Expect::KeyOrEnd
                        };
                    }
                    b'"' => {
                        let Some(end) = string_end(b, i) else {
                            return Ok(None);
                        };
                        note(&mut bound_error, budget.charge_bytes(end - i), b, &path);
                        i = end;
                        expect = after_value(&stack);
                    }
                    b'-' | b'0'..=b'9' => {
                        let Some((end, checked)) = number(b, i) else {
                            return Ok(None);
                        };
                        note(&mut bound_error, checked, b, &path);
                        i = end;
                        expect = after_value(&stack);
                    }
                    _ => {
                        let literal: &[u8] = match c {
                            b't' => b"true",
                            b'f' => b"false",
                            b'n' => b"null",
                            _ => return Ok(None),
                        };
                        if !b[i..].starts_with(literal) {
                            return Ok(None);
                        }
                        i += literal.len();
                        expect = after_value(&stack);
                    }
                }
            }
        }
    }
    if expect != Expect::Done {
        return Ok(None);
    }
    match bound_error {
        Some(err) => Err(err),
        None => Ok(Some(deepest)),
    }
}

/// One level of the scan's position.
#[derive(Clone, Copy)]
enum Step {
    /// In a list, at this index.
    Index(usize),
    /// In a map, under the key whose quoted text is `b[start..end]`.
    Key(usize, usize),
}

/// Keeps the first error, with the path to where the scan is.
fn note(first: &mut Option<DataError>, outcome: Result<(), DataError>, b: &[u8], path: &[Step]) {
    if let (None, Err(mut err)) = (&first, outcome) {
        for step in path.iter().rev() {
            err = match *step {
                Step::Index(i) => err.at_index(i),
                Step::Key(start, end) => {
                    let key = serde_json::from_slice::<String>(&b[start..end]).unwrap_or_default();
                    err.at_key(key)
                }
            };
        }
        *first = Some(err);
    }
}

fn after_value(stack: &[u8]) -> Expect {
    if stack.is_empty() {
        Expect::Done
    } else {
        Expect::CommaOrEnd
    }
}

/// The index just past the string starting at `b[start] == '"'`, if it is a
/// valid JSON string.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = b.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            0x00..=0x1f => return None,
            _ => i += 1,
        }
    }
    None
}

/// The number literal at `b[start]`: its end, and whether it fits the
/// number rule. `None` if it is not a JSON number.
fn number(b: &[u8], start: usize) -> Option<(usize, Result<(), DataError>)> {
    let mut i = start;
    if b[i] == b'-' {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return None,
    }
    let mut is_float = false;
    if b.get(i) == Some(&b'.') {
        is_float = true;
        i += 1;
        let digits = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == digits {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        is_float = true;
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let digits = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == digits {
            return None;
        }
    }
    // Digits and signs only: the slice is ASCII.
    let text = std::str::from_utf8(&b[start..i]).ok()?;
    let checked = if is_float {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(()),
            _ => Err(DataError::other(format!(
                "the number {} overflows a 64-bit float",
                shorten(text)
            ))),
        }
    } else if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() {
        Ok(())
    } else {
        Err(DataError::new(DataErrorKind::IntegerOutOfRange {
            value: shorten(text),
            range: "a 64-bit integer",
        }))
    };
    Some((i, checked))
}

fn shorten(text: &str) -> String {
    if text.len() <= 40 {
        text.to_owned()
    } else {
        format!("{}…({} digits)", &text[..20], text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Option<Value>, DataError> {
        parse_json(text.as_bytes(), &mut Budget::new(128, None))
    }

    #[test]
    fn valid_json_parses_like_serde_json() {
        for text in [
            "null",
            " true ",
            "-0.0",
            "1e10",
            r#""a\"b\u00e9""#,
            r#"{"a": [1, 2, {"b": []}], "c": {}}"#,
            "[[], [[]], {}]",
            "18446744073709551615",
            "-9223372036854775808",
        ] {
            let want: Value = serde_json::from_str(text).unwrap();
            assert_eq!(parse(text).unwrap(), Some(want), "{text}");
        }
    }

    #[test]
    fn invalid_json_is_not_json() {
        for text in [
            "",
            "hello",
            "[1,]",
            "{\"a\" 1}",
            "{\"a\":}",
            "[1 2]",
            "01",
            "1.",
            "-",
            "[",
            "]",
            "{}}",
            "nul",
            "\"\\x\"",
            "\"a",
            "1 2",
            "{1: 2}",
            "[\"\u{1}\"]",
        ] {
            assert_eq!(parse(text).unwrap(), None, "{text:?}");
        }
    }

    #[test]
    fn deep_json_is_an_error_not_a_string() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = parse(&deep).unwrap_err();
        assert_eq!(err.kind(), &DataErrorKind::TooDeep { limit: 128 });
        assert!(err.path("result").starts_with("result[0][0]"));
        let err = parse(r#"{"a": [1, {"b c": 1e999}]}"#).unwrap_err();
        assert_eq!(err.path("result"), r#"result.a[1]["b c"]"#);
        // Deeper than serde_json's own 128, within ours.
        let value = parse_json(deep.as_bytes(), &mut Budget::new(300, None))
            .unwrap()
            .unwrap();
        assert_eq!(super::super::depth_of(&value), 200);
        // Unbalanced deep text is simply not JSON.
        assert_eq!(parse(&"[".repeat(100_000)).unwrap(), None);
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        let err = parse("[18446744073709551616]").unwrap_err();
        assert!(matches!(
            err.kind(),
            DataErrorKind::IntegerOutOfRange { .. }
        ));
        let err = parse("-9223372036854775809").unwrap_err();
        assert!(matches!(
            err.kind(),
            DataErrorKind::IntegerOutOfRange { .. }
        ));
        assert!(parse("1e400").is_err());
        assert_eq!(parse("1e-400").unwrap(), Some(json!(0.0)));
    }

    #[test]
    fn size_is_charged() {
        let text = format!("[{}]", vec!["1"; 1000].join(","));
        let err = parse_json(text.as_bytes(), &mut Budget::new(128, Some(10_000))).unwrap_err();
        assert!(matches!(err.kind(), DataErrorKind::TooLarge { .. }));
        assert!(parse_json(text.as_bytes(), &mut Budget::new(128, Some(100_000))).is_ok());
    }
}
