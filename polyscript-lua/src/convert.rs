//! JSON ⇄ Lua through mlua's serde support.
//!
//! * Input lists get mlua's array metatable, so they come back as lists even
//!   when empty; an empty table without it comes back as an empty map.
//! * Integers stay Lua integers and floats stay Lua floats (`3.0` stays a
//!   float), in both directions.
//! * JSON `null` is mlua's `null` light userdata (`Value::NULL`), which
//!   scripts can name as the global `null`; a Lua `nil` result is `null` too.
//! * Map keys come back sorted (as strings), so results print the same every
//!   time: Lua's table order depends on each state's hash seed.

use mlua::serde::{DeserializeOptions, SerializeOptions};
use mlua::{Lua, LuaSerdeExt};
use polyscript_core::{Map, Value};

const TO_LUA: SerializeOptions = SerializeOptions::new()
    .set_array_metatable(true)
    .serialize_none_to_null(true)
    .serialize_unit_to_null(true);

const FROM_LUA: DeserializeOptions = DeserializeOptions::new()
    .deny_unsupported_types(true)
    .deny_recursive_tables(true)
    // Sorted after conversion instead (`sort_maps`): mlua sorts by collecting
    // every pair of a table as Lua references first, which cost ~60 ns of a
    // 1.9 µs greeting eval; sorting the finished JSON maps is a few compares.
    .sort_keys(false)
    .encode_empty_tables_as_array(false);

/// The input map as a Lua table.
pub(crate) fn to_lua(lua: &Lua, input: &Map) -> mlua::Result<mlua::Value> {
    lua.to_value_with(input, TO_LUA)
}

/// A Lua value as JSON.
pub(crate) fn from_lua(lua: &Lua, value: mlua::Value) -> mlua::Result<Value> {
    let mut json = lua.from_value_with(value, FROM_LUA)?;
    sort_maps(&mut json);
    Ok(json)
}

/// Sorts the keys of every map in `value`, nested ones included.
fn sort_maps(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_maps);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_maps),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_maps_are_sorted_too() {
        let mut value = json!({"b": [{"z": 1, "y": 2}], "a": {"d": 1, "c": 2}});
        sort_maps(&mut value);
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"a":{"c":2,"d":1},"b":[{"y":2,"z":1}]}"#
        );
    }
}
