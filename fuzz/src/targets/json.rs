//! Arbitrary JSON-like values for the structured targets, and what the
//! number rule and the depth bound say an engine must do with them.

use arbitrary::{Arbitrary, Unstructured};
use polyscript::{Limits, Map, Value};

/// A value the fuzzer builds. `Deep` nests its inner value in `levels`
/// lists without needing as many bytes of input, so values around and far
/// past the depth bound are common.
#[derive(Debug, Clone, Arbitrary)]
pub enum ArbValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    SmallInt(i16),
    Float(f64),
    Str(String),
    List(Vec<ArbValue>),
    Map(Vec<(String, ArbValue)>),
    Deep(u16, Box<ArbValue>),
}

impl ArbValue {
    /// The JSON value (non-finite floats, which JSON cannot hold, become
    /// `null`; repeated keys keep the last value), nested at most
    /// [`MAX_BUILT_DEPTH`] deep: far past every bound polyscript has, and
    /// shallow enough that the targets' own recursive helpers (serde_json's
    /// `clone` and `drop`, the reference models) stay within the stack —
    /// `Deep` inside `Deep` would otherwise reach 100 000 levels from a
    /// hundred bytes and overflow the harness, not the code under test.
    pub fn to_value(&self) -> Value {
        self.to_value_within(MAX_BUILT_DEPTH)
    }

    fn to_value_within(&self, room: usize) -> Value {
        let inner_room = room.saturating_sub(1);
        match self {
            ArbValue::Null => Value::Null,
            ArbValue::Bool(b) => Value::Bool(*b),
            ArbValue::Int(i) => Value::from(*i),
            ArbValue::UInt(u) => Value::from(*u),
            ArbValue::SmallInt(i) => Value::from(*i),
            ArbValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            ArbValue::Str(s) => Value::String(s.clone()),
            _ if room == 0 => Value::Null,
            ArbValue::List(items) => Value::Array(
                items
                    .iter()
                    .map(|item| item.to_value_within(inner_room))
                    .collect(),
            ),
            ArbValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value_within(inner_room)))
                    .collect::<Map>(),
            ),
            ArbValue::Deep(levels, inner) => {
                let levels = usize::from(*levels % 2048).min(room);
                let mut value = inner.to_value_within(room - levels);
                for _ in 0..levels {
                    value = Value::Array(vec![value]);
                }
                value
            }
        }
    }
}

/// The deepest value [`ArbValue::to_value`] builds.
pub const MAX_BUILT_DEPTH: usize = 3000;

/// A value from raw fuzzer bytes (`None` when the bytes run out first).
pub fn arbitrary_value(data: &[u8]) -> Option<Value> {
    let value: ArbValue = Unstructured::new(data).arbitrary().ok()?;
    Some(value.to_value())
}

/// How deep `value` nests (scalars 0), without recursion.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, d)) = stack.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(d + 1);
                stack.extend(items.iter().map(|v| (v, d + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(d + 1);
                stack.extend(map.values().map(|v| (v, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Whether any map key in `value` is empty.
pub fn has_empty_key(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                if map.keys().any(String::is_empty) {
                    return true;
                }
                stack.extend(map.values());
            }
            _ => {}
        }
    }
    false
}

/// Whether every integer in `value` satisfies `fits`.
pub fn all_integers(value: &Value, fits: impl Fn(&serde_json::Number) -> bool) -> bool {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            Value::Number(n) if !n.is_f64() && !fits(n) => return false,
            _ => {}
        }
    }
    true
}

/// Exact equality: like `==`, but integers and floats are told apart and
/// `-0.0` differs from `0.0` (map key order is not compared).
pub fn same(a: &Value, b: &Value) -> bool {
    same_with(a, b, &same_number)
}

/// `same` for numbers: integers and floats told apart, floats by their bits.
fn same_number(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    if x.is_f64() || y.is_f64() {
        x.is_f64() && y.is_f64() && x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits)
    } else {
        x == y
    }
}

/// Whether `got` is what JavaScript gives back for `sent`: like [`same`],
/// except that a JavaScript number has no integer/float distinction, so by
/// the number rule (polyscript_core::data) an integral float within
/// ±(2^53 − 1), other than `-0.0`, comes back as an integer.
pub fn same_in_js(got: &Value, sent: &Value) -> bool {
    same_with(
        got,
        sent,
        &|got, sent| match sent.as_f64().filter(|_| sent.is_f64()) {
            Some(f) if is_js_integer(f) => got.as_i64().is_some_and(|i| i as f64 == f),
            _ => same_number(got, sent),
        },
    )
}

/// An integral float JavaScript returns as an integer (see [`same_in_js`]).
fn is_js_integer(f: f64) -> bool {
    f.fract() == 0.0
        && f.abs() <= polyscript::data::JS_MAX_SAFE_INTEGER as f64
        && !(f == 0.0 && f.is_sign_negative())
}

fn same_with(
    a: &Value,
    b: &Value,
    numbers: &dyn Fn(&serde_json::Number, &serde_json::Number) -> bool,
) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_with(a, b, numbers))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_with(v, w, numbers)))
        }
        _ => a == b,
    }
}

/// The default nesting bound, as a depth of the whole `ctx` map.
pub fn default_bound() -> usize {
    Limits::DEFAULT_DATA_DEPTH as usize
}

/// Drops `value` without recursing (a fuzzed value can nest thousands of
/// levels; its own `Drop` would recurse once per level).
pub fn drop_flat(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}
