//! The script's result as JSON, the way `JSON.stringify` reads it.
//!
//! The walk follows `SerializeJSONProperty`: `toJSON` is called, boxed
//! primitives are unwrapped, functions, symbols and `undefined` are left out
//! of objects (and are `null` in arrays), objects list their own enumerable
//! string keys in property order, getters and proxy traps run. Where
//! `JSON.stringify` has no answer or the number rule says otherwise, the
//! result is an error naming the path instead: NaN and the infinities, a
//! BigInt outside `i64`/`u64`, a cycle, nesting past `Limits::data_depth`,
//! more than the memory limit's worth of values.
//!
//! Code the walk runs (getters, `toJSON`, `valueOf`, traps) runs under the
//! eval's deadline and limits like the rest of the script, and the walk
//! looks at the interrupt flag itself every [`CHECK_EVERY`] values, so a
//! huge or shared result stops too. Plain objects and arrays whose
//! prototypes are the (frozen) built-in ones are read straight from their
//! property storage: same answer, no property lookups.

use boa_engine::property::PropertyKey;
use boa_engine::string::JsStrVariant;
use boa_engine::value::JsVariant;
use boa_engine::{Context, JsBigInt, JsError, JsObject, JsString, JsValue, js_string};
use polyscript_core::data::{self, Budget, DataError, DataErrorKind};
use polyscript_core::{Map, Value};

use super::lazy;

/// Values converted between two looks at the interrupt flag.
const CHECK_EVERY: u32 = 1024;

/// Longest number shown in an "integer out of range" message.
const DIGITS_SHOWN: usize = 40;

/// Why a result could not be converted.
#[derive(Debug)]
pub(crate) enum ResultError {
    /// Data the number rule or a bound refuses.
    Data(DataError),
    /// Script code run by the conversion threw (or the eval was stopped).
    Js(JsError),
}

impl From<DataError> for ResultError {
    fn from(e: DataError) -> Self {
        ResultError::Data(e)
    }
}

impl From<JsError> for ResultError {
    fn from(e: JsError) -> Self {
        ResultError::Js(e)
    }
}

impl ResultError {
    fn at_key(self, key: &str) -> Self {
        match self {
            ResultError::Data(e) => ResultError::Data(e.at_key(key)),
            js => js,
        }
    }

    fn at_index(self, index: usize) -> Self {
        match self {
            ResultError::Data(e) => ResultError::Data(e.at_index(index)),
            js => js,
        }
    }
}

/// `value` as JSON within `budget`. `undefined` (and anything
/// `JSON.stringify` turns into nothing) at the top is `null`.
pub(crate) fn from_js(
    value: &JsValue,
    budget: &mut Budget,
    context: &mut Context,
) -> Result<Value, ResultError> {
    let intrinsics = context.intrinsics().constructors();
    let mut walk = Walk {
        object_proto: intrinsics.object().prototype(),
        array_proto: intrinsics.array().prototype(),
        budget,
        ancestors: Vec::new(),
        steps: 0,
    };
    Ok(walk
        .property(value.clone(), || js_string!().into(), context)?
        .unwrap_or(Value::Null))
}

struct Walk<'b> {
    /// `%Object.prototype%` and `%Array.prototype%`: frozen, so an object
    /// that inherits only from them has no `toJSON` but its own.
    object_proto: JsObject,
    array_proto: JsObject,
    budget: &'b mut Budget,
    /// The objects being serialized, outermost first (cycles, depth).
    ancestors: Vec<JsObject>,
    steps: u32,
}

impl Walk<'_> {
    /// `SerializeJSONProperty` for a value already read from its holder;
    /// `key` is what `toJSON` gets. `None`: leave it out.
    fn property(
        &mut self,
        mut value: JsValue,
        key: impl FnOnce() -> JsValue,
        context: &mut Context,
    ) -> Result<Option<Value>, ResultError> {
        self.steps = self.steps.wrapping_add(1);
        if self.steps.is_multiple_of(CHECK_EVERY) {
            context.check_interrupt()?;
        }
        self.budget.charge_value()?;

        if let Some(mut object) = value.as_object() {
            // A lazy `ctx`, filled, answers as its (ordinary) target does.
            if let Some(target) = lazy::filled_target(&object, context)? {
                value = target.clone().into();
                object = target;
            }
            if let Some(to_json) = self.to_json_of(&object, context)? {
                value = to_json.call(&value, &[key()], context)?;
            }
        }
        if let Some(object) = value.as_object() {
            value = unbox(&object, context)?.unwrap_or(value);
        }

        Ok(Some(match value.variant() {
            JsVariant::Undefined | JsVariant::Symbol(_) => return Ok(None),
            JsVariant::Null => Value::Null,
            JsVariant::Boolean(b) => Value::Bool(b),
            JsVariant::String(string) => {
                let string = std_string(&string);
                self.budget.charge_bytes(string.len())?;
                Value::String(string)
            }
            JsVariant::Integer32(int) => Value::from(int),
            JsVariant::Float64(float) => data::json_from_js_number(float)?,
            JsVariant::BigInt(bigint) => bigint_to_json(&bigint)?,
            JsVariant::Object(object) => {
                if object.is_callable() {
                    return Ok(None);
                }
                data::with_stack(|| self.container(&object, context))?
            }
        }))
    }

    /// The object's `toJSON` method, if it has a callable one.
    fn to_json_of(
        &self,
        object: &JsObject,
        context: &mut Context,
    ) -> Result<Option<JsObject>, ResultError> {
        let key = PropertyKey::from(js_string!("toJSON"));
        let inherits_builtin_only = {
            let proto = object.prototype();
            proto.as_ref() == Some(&self.object_proto)
                || (proto.as_ref() == Some(&self.array_proto) && object.is_array())
        };
        let to_json = if inherits_builtin_only && (object.is_ordinary() || object.is_array()) {
            // The built-in prototypes are frozen without `toJSON`: only an
            // own property can supply one.
            match own_property(object, &key) {
                Own::Missing => return Ok(None),
                Own::Data(value) => value,
                Own::Accessor(getter) => call_getter(getter, object, context)?,
            }
        } else {
            object.get(key, context)?
        };
        Ok(to_json.as_object().filter(|f| f.is_callable()))
    }

    /// An array or object (not callable), checked for cycles and depth.
    fn container(
        &mut self,
        object: &JsObject,
        context: &mut Context,
    ) -> Result<Value, ResultError> {
        if self.ancestors.contains(object) {
            return Err(DataError::new(DataErrorKind::Cycle).into());
        }
        let depth = u32::try_from(self.ancestors.len() + 1).unwrap_or(u32::MAX);
        self.budget.enter(depth)?;
        self.ancestors.push(object.clone());
        let converted = if object.is_array_following_proxies()? {
            self.array(object, context)
        } else {
            self.object(object, context)
        };
        self.ancestors.pop();
        converted
    }

    /// `SerializeJSONArray`: every index up to `length`, holes and left-out
    /// values as `null`.
    fn array(&mut self, array: &JsObject, context: &mut Context) -> Result<Value, ResultError> {
        let direct = array.is_array() && array.prototype().as_ref() == Some(&self.array_proto);
        let length = array
            .get(js_string!("length"), context)?
            .to_length(context)?;
        let mut items = Vec::new();
        for index in 0..length {
            let i = usize::try_from(index).unwrap_or(usize::MAX);
            let key = PropertyKey::from(index);
            let element = if direct {
                match own_property(array, &key) {
                    Own::Data(value) => value,
                    Own::Accessor(getter) => call_getter(getter, array, context)?,
                    // A hole: the frozen prototypes have no index properties.
                    Own::Missing => JsValue::undefined(),
                }
            } else {
                array.get(key, context)?
            };
            let item = self
                .property(
                    element,
                    || JsString::from(index.to_string()).into(),
                    context,
                )
                .map_err(|e| e.at_index(i))?;
            items.push(item.unwrap_or(Value::Null));
        }
        Ok(Value::Array(items))
    }

    /// `SerializeJSONObject`: own enumerable string keys in property order.
    fn object(&mut self, object: &JsObject, context: &mut Context) -> Result<Value, ResultError> {
        let mut map = Map::new();
        if object.is_ordinary() {
            // The property storage in property order (indices, then string
            // keys as inserted), enumerability as of now, as
            // `EnumerableOwnProperties` would list them.
            let keys: Vec<PropertyKey> = {
                let borrowed = object.borrow();
                let properties = borrowed.properties();
                properties
                    .index_property_keys()
                    .map(PropertyKey::from)
                    .chain(borrowed.shape().keys())
                    .filter(|key| !matches!(key, PropertyKey::Symbol(_)))
                    .filter(|key| {
                        properties
                            .get(key)
                            .is_some_and(|d| d.enumerable().unwrap_or(false))
                    })
                    .collect()
            };
            for key in keys {
                let value = match own_property(object, &key) {
                    Own::Data(value) => value,
                    Own::Accessor(getter) => call_getter(getter, object, context)?,
                    // Deleted by an earlier getter: `Get` looks further.
                    Own::Missing => object.get(key.clone(), context)?,
                };
                self.entry(&mut map, key_name(&key), value, context)?;
            }
        } else {
            for key in object.enumerable_own_string_keys(context)? {
                let Some(name) = key.as_string() else {
                    continue;
                };
                let value = object.get(name.clone(), context)?;
                self.entry(&mut map, std_string(&name), value, context)?;
            }
        }
        Ok(Value::Object(map))
    }

    fn entry(
        &mut self,
        map: &mut Map,
        name: String,
        value: JsValue,
        context: &mut Context,
    ) -> Result<(), ResultError> {
        let converted = self
            .property(value, || JsString::from(name.as_str()).into(), context)
            .map_err(|e| e.at_key(&name))?;
        if let Some(converted) = converted {
            self.budget.charge_bytes(name.len())?;
            map.insert(name, converted);
        }
        Ok(())
    }
}

/// A string or index key as the JSON member name (`Display` would go
/// through the formatting machinery, several times the cost of the copy).
fn key_name(key: &PropertyKey) -> String {
    match key {
        PropertyKey::String(name) => std_string(name),
        PropertyKey::Index(index) => index.get().to_string(),
        PropertyKey::Symbol(_) => key.to_string(),
    }
}

/// `string` as UTF-8, a lone surrogate as U+FFFD (what
/// `to_std_string_lossy` gives, without its trip through `Display`).
fn std_string(string: &JsString) -> String {
    match string.as_str().variant() {
        // Latin-1 code units are the first 256 code points.
        JsStrVariant::Latin1(bytes) => bytes.iter().map(|&b| char::from(b)).collect(),
        JsStrVariant::Utf16(units) => String::from_utf16_lossy(units),
    }
}

/// What an object holds under a key of its own.
enum Own {
    Missing,
    Data(JsValue),
    /// The getter (`undefined` when it has none).
    Accessor(JsValue),
}

fn own_property(object: &JsObject, key: &PropertyKey) -> Own {
    match object.borrow().properties().get(key) {
        None => Own::Missing,
        Some(desc) if desc.is_accessor_descriptor() => {
            Own::Accessor(desc.get().cloned().unwrap_or_default())
        }
        Some(desc) => Own::Data(desc.value().cloned().unwrap_or_default()),
    }
}

fn call_getter(
    getter: JsValue,
    this: &JsObject,
    context: &mut Context,
) -> Result<JsValue, JsError> {
    match getter.as_object() {
        Some(getter) => getter.call(&this.clone().into(), &[], context),
        None => Ok(JsValue::undefined()),
    }
}

/// Step 4 of `SerializeJSONProperty`: the primitive inside a Number,
/// String, Boolean or BigInt object (`ToNumber` / `ToString` run the
/// object's own `valueOf` / `toString`, as `JSON.stringify` does).
fn unbox(object: &JsObject, context: &mut Context) -> Result<Option<JsValue>, JsError> {
    if object.is::<f64>() {
        let value: JsValue = object.clone().into();
        return Ok(Some(value.to_number(context)?.into()));
    }
    if object.is::<JsString>() {
        let value: JsValue = object.clone().into();
        return Ok(Some(value.to_string(context)?.into()));
    }
    if let Some(b) = object.downcast_ref::<bool>() {
        return Ok(Some(JsValue::from(*b)));
    }
    if let Some(bigint) = object.downcast_ref::<JsBigInt>() {
        return Ok(Some(JsValue::from(bigint.clone())));
    }
    Ok(None)
}

/// A BigInt by the number rule: within `i64` or `u64` an integer, else
/// refused (`JSON.stringify` would throw a TypeError).
fn bigint_to_json(bigint: &JsBigInt) -> Result<Value, DataError> {
    let wide = bigint.to_i128();
    if let Ok(i) = i64::try_from(wide) {
        return Ok(Value::from(i));
    }
    if let Ok(u) = u64::try_from(wide) {
        return Ok(Value::from(u));
    }
    let mut text = bigint.to_string();
    if text.len() > DIGITS_SHOWN {
        text.truncate(DIGITS_SHOWN);
        text.push('…');
    }
    Err(DataError::new(DataErrorKind::IntegerOutOfRange {
        value: format!("{text}n"),
        range: "a 64-bit integer",
    }))
}
