//! rhai → `serde_json`: a script's result.

use polyscript_core::data::{self, Budget, DataError, DataErrorKind};
use polyscript_core::{Map, Value};
use rhai::Dynamic;

/// A script's result as a JSON value (depth 1 is the outermost container).
pub(crate) fn from_rhai(value: &Dynamic, budget: &mut Budget) -> Result<Value, DataError> {
    convert(value, 0, budget)
}

/// Whether dropping `value` recurses at most one level: a scalar, or an
/// array or map of scalars. Anything else is dropped on the eval stack.
pub(crate) fn is_flat(value: &Dynamic) -> bool {
    // Values that own no other `Dynamic` (a custom type might).
    let scalar = |v: &Dynamic| {
        !v.is_shared()
            && (v.is_string()
                || v.is_int()
                || v.is_float()
                || v.is_bool()
                || v.is_unit()
                || v.is_char()
                || v.is_blob()
                || v.is_timestamp())
    };
    if value.is_shared() {
        false
    } else if value.is_map()
        && let Ok(map) = value.as_map_ref()
    {
        map.values().all(scalar)
    } else if value.is_array()
        && let Ok(array) = value.as_array_ref()
    {
        array.iter().all(scalar)
    } else {
        scalar(value)
    }
}

/// `value`, found inside a container at `depth` (0: the result itself).
fn convert(value: &Dynamic, depth: u32, budget: &mut Budget) -> Result<Value, DataError> {
    if value.is_shared() {
        // Captured by a closure: read through the lock (a read of our own,
        // after the eval, cannot contend) and charge it again wherever it
        // appears.
        return match value.read_lock::<Dynamic>() {
            Some(inner) => convert(&inner, depth, budget),
            None => Err(DataError::unsupported("a locked shared value")),
        };
    }
    budget.charge_value()?;
    // Each `as_*` that fails names the type (`type_name`, a string match
    // per call): ask the cheap `is_*` first.
    if value.is_string()
        && let Ok(s) = value.as_immutable_string_ref()
    {
        budget.charge_bytes(s.len())?;
        return Ok(Value::String(s.as_str().to_owned()));
    }
    if value.is_int()
        && let Ok(i) = value.as_int()
    {
        return Ok(Value::from(i));
    }
    if value.is_map()
        && let Ok(map) = value.as_map_ref()
    {
        budget.enter(depth + 1)?;
        return data::with_stack(|| convert_map(&map, depth + 1, budget));
    }
    if value.is_array()
        && let Ok(array) = value.as_array_ref()
    {
        budget.enter(depth + 1)?;
        return data::with_stack(|| convert_array(&array, depth + 1, budget));
    }
    if let Ok(f) = value.as_float() {
        return data::float_to_json(f);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(c) = value.as_char() {
        budget.charge_bytes(c.len_utf8())?;
        return Ok(Value::String(c.to_string()));
    }
    if let Ok(blob) = value.as_blob_ref() {
        budget.enter(depth + 1)?;
        let mut items = Vec::with_capacity(blob.len().min(4096));
        for &byte in blob.iter() {
            budget.charge_value()?;
            items.push(Value::from(byte));
        }
        return Ok(Value::Array(items));
    }
    other_integer(value).ok_or_else(|| DataError::unsupported(describe(value)))?
}

fn convert_map(map: &rhai::Map, depth: u32, budget: &mut Budget) -> Result<Value, DataError> {
    let mut out = Map::with_capacity(map.len().min(4096));
    for (key, value) in map {
        budget.charge_bytes(key.len())?;
        let value = convert(value, depth, budget).map_err(|e| e.at_key(key.as_str()))?;
        out.insert(key.as_str().to_owned(), value);
    }
    Ok(Value::Object(out))
}

fn convert_array(array: &[Dynamic], depth: u32, budget: &mut Budget) -> Result<Value, DataError> {
    let mut out = Vec::with_capacity(array.len().min(4096));
    for (index, value) in array.iter().enumerate() {
        out.push(convert(value, depth, budget).map_err(|e| e.at_index(index))?);
    }
    Ok(Value::Array(out))
}

/// The integer and float types other than `INT`/`FLOAT` that a host function
/// may return (rhai keeps them as custom values): integers exactly (or
/// `InvalidData` beyond `i64`/`u64`), `f32` as a float.
fn other_integer(value: &Dynamic) -> Option<Result<Value, DataError>> {
    macro_rules! exact {
        ($($t:ty),*) => {$(
            if let Some(v) = value.read_lock::<$t>() {
                return Some(Ok(Value::from(*v)));
            }
        )*};
    }
    exact!(i8, i16, i32, u8, u16, u32, u64);
    if let Some(v) = value.read_lock::<f32>() {
        return Some(data::float_to_json(f64::from(*v)));
    }
    let wide = |text: String| {
        Err(DataError::new(DataErrorKind::IntegerOutOfRange {
            value: text,
            range: "a 64-bit integer",
        }))
    };
    if let Some(v) = value.read_lock::<i128>() {
        return Some(match (i64::try_from(*v), u64::try_from(*v)) {
            (Ok(i), _) => Ok(Value::from(i)),
            (_, Ok(u)) => Ok(Value::from(u)),
            _ => wide(v.to_string()),
        });
    }
    if let Some(v) = value.read_lock::<u128>() {
        return Some(match u64::try_from(*v) {
            Ok(u) => Ok(Value::from(u)),
            Err(_) => wide(v.to_string()),
        });
    }
    None
}

/// What a value with no JSON form is, for the error message.
fn describe(value: &Dynamic) -> String {
    if let Some(f) = value.read_lock::<rhai::FnPtr>() {
        return format!("a rhai function pointer (Fn({}))", f.fn_name());
    }
    if value.is::<crate::host::HostObject>() {
        return "the `host` object".to_owned();
    }
    match value.type_name() {
        "timestamp" => "a rhai timestamp".to_owned(),
        name if name.contains("Range") => format!("a rhai range ({name})"),
        name => format!("a rhai value of type {name}"),
    }
}
