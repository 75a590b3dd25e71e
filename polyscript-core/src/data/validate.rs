//! Checks and merges of maps that are already [`Value`]s, bounded.

use super::error::{DataError, DataErrorKind};
use crate::value::{Map, Value};

/// Checks that `map` (at depth 1) nests at most `max_depth` levels and has
/// no empty key anywhere. Recurses at most `max_depth` levels, however deep
/// `map` is.
pub fn check_map(map: &Map, max_depth: u32) -> Result<(), DataError> {
    walk_map(map, 1, max_depth)
}

/// Like [`check_map`] for any value (a scalar is at depth 0).
pub fn check_value(value: &Value, max_depth: u32) -> Result<(), DataError> {
    walk(value, 0, max_depth)
}

fn walk(value: &Value, depth: u32, max_depth: u32) -> Result<(), DataError> {
    match value {
        Value::Object(map) => walk_map(map, depth + 1, max_depth),
        Value::Array(items) => {
            let depth = depth + 1;
            if depth > max_depth {
                return Err(DataError::too_deep(max_depth));
            }
            for (i, item) in items.iter().enumerate() {
                super::with_stack(|| walk(item, depth, max_depth)).map_err(|e| e.at_index(i))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn walk_map(map: &Map, depth: u32, max_depth: u32) -> Result<(), DataError> {
    if depth > max_depth {
        return Err(DataError::too_deep(max_depth));
    }
    for (key, value) in map {
        if key.is_empty() {
            return Err(DataError::new(DataErrorKind::EmptyKey).at_key(""));
        }
        super::with_stack(|| walk(value, depth, max_depth)).map_err(|e| e.at_key(key.as_str()))?;
    }
    Ok(())
}

/// The nesting depth of `value` (scalars 0, `[]` 1), counted without
/// recursion, so any value can be measured.
#[cfg(test)]
pub(crate) fn depth_of(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        match value {
            Value::Array(items) => {
                deepest = deepest.max(depth + 1);
                stack.extend(items.iter().map(|v| (v, depth + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(depth + 1);
                stack.extend(map.values().map(|v| (v, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// Merges `src` into `dst` (later values win, maps merge, lists and scalars
/// are replaced), recursing only where both sides hold a map, at most
/// `max_depth` levels.
pub(crate) fn deep_merge_checked(
    dst: &mut Map,
    src: Map,
    depth: u32,
    max_depth: u32,
) -> Result<(), DataError> {
    if depth > max_depth {
        return Err(DataError::too_deep(max_depth));
    }
    for (key, value) in src {
        match (dst.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                super::with_stack(|| deep_merge_checked(existing, incoming, depth + 1, max_depth))
                    .map_err(|e| e.at_key(key.as_str()))?;
            }
            (_, value) => {
                dst.insert(key, value);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut v = json!(0);
        for _ in 0..levels {
            v = Value::Object(Map::from_iter([("a".to_owned(), Value::Array(vec![v]))]));
        }
        v
    }

    #[test]
    fn depth_is_checked_before_descending() {
        let v = nested(100); // 200 levels
        assert_eq!(depth_of(&v), 200);
        assert!(check_value(&v, 200).is_ok());
        let err = check_value(&v, 199).unwrap_err();
        assert_eq!(err.kind(), &DataErrorKind::TooDeep { limit: 199 });
        assert!(err.path("ctx").starts_with("ctx.a[0].a[0]"));
    }

    #[test]
    fn empty_keys_are_found_in_lists_too() {
        let v = json!({"list": [1, {"": 2}]});
        let err = check_value(&v, 128).unwrap_err();
        assert_eq!(err.path("ctx"), r#"ctx.list[1][""]"#);
    }

    #[test]
    fn merging_is_bounded() {
        let mut a = json!({"x": {"y": {"z": 1}}}).as_object().unwrap().clone();
        let b = json!({"x": {"y": {"w": 2}}}).as_object().unwrap().clone();
        deep_merge_checked(&mut a, b.clone(), 1, 8).unwrap();
        assert_eq!(
            Value::Object(a.clone()),
            json!({"x": {"y": {"z": 1, "w": 2}}})
        );
        assert!(deep_merge_checked(&mut a, b, 1, 2).is_err());
    }
}
