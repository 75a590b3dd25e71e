//! JSON ⇄ Lua through mlua's serde support.
//!
//! * Input lists get mlua's array metatable, so they come back as lists even
//!   when empty; an empty table without it comes back as an empty map.
//! * Integers stay Lua integers and floats stay Lua floats (`3.0` stays a
//!   float), in both directions.
//! * JSON `null` is mlua's `null` light userdata (`Value::NULL`), which
//!   scripts can name as the global `null`; a Lua `nil` result is `null` too.
//! * Map keys come back sorted, so results print the same every time.

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
    .sort_keys(true)
    .encode_empty_tables_as_array(false);

/// The input map as a Lua table.
pub(crate) fn to_lua(lua: &Lua, input: &Map) -> mlua::Result<mlua::Value> {
    lua.to_value_with(input, TO_LUA)
}

/// A Lua value as JSON.
pub(crate) fn from_lua(lua: &Lua, value: mlua::Value) -> mlua::Result<Value> {
    lua.from_value_with(value, FROM_LUA)
}
