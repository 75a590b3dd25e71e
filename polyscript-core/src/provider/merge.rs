//! Deep merge and key validation shared by the providers and the context.

use crate::error::{Error, Result};
use crate::value::{Map, Value};

/// Merges `src` into `dst`: later (src) values win; where both sides hold a
/// map the maps merge recursively; lists and scalars are replaced whole.
pub fn deep_merge(dst: &mut Map, src: Map) {
    for (key, value) in src {
        match (dst.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                deep_merge(existing, incoming);
            }
            (_, value) => {
                dst.insert(key, value);
            }
        }
    }
}

/// Rejects empty keys anywhere in `map` (also inside nested maps and maps in
/// lists), naming the path to the offending key.
pub(crate) fn validate_keys(map: &Map) -> Result<()> {
    let mut path = Vec::new();
    validate_map(map, &mut path)
}

fn validate_map(map: &Map, path: &mut Vec<String>) -> Result<()> {
    for (key, value) in map {
        if key.is_empty() {
            let at = if path.is_empty() {
                "at the top level".to_owned()
            } else {
                format!("under \"{}\"", path.join("."))
            };
            return Err(Error::invalid_data(format!("empty key {at}")));
        }
        path.push(key.clone());
        validate_value(value, path)?;
        path.pop();
    }
    Ok(())
}

fn validate_value(value: &Value, path: &mut Vec<String>) -> Result<()> {
    match value {
        Value::Object(map) => validate_map(map, path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                validate_value(item, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
