//! Built-ins frozen once per context, so that no eval can change them for
//! the next (as Hardened JavaScript's `lockdown()` does).
//!
//! When a context is created, every object reachable from the built-in
//! globals (constructors, prototypes, their methods and accessor
//! functions, namespaces such as `Math`, `JSON`, `Reflect`, `Temporal`) and
//! from the intrinsics no global names (`%GeneratorFunction%`, the iterator
//! prototypes, `%ThrowTypeError%`, ...) is frozen: `Object.prototype.leak =
//! secret`, `String.prototype.toUpperCase = f`, `JSON.parse = f` and
//! `delete String.prototype.repeat` fail (silently in sloppy code, with a
//! `TypeError` in strict code, as on any frozen object), and so does
//! `Object.defineProperty` on them. Scripts still create and change their
//! own objects, classes and functions freely. The global object itself is
//! not frozen (scripts may add globals; `globals.rs` removes them after
//! each eval).
//!
//! Freezing has one well-known side effect, the "override mistake": an
//! object that *inherits* a read-only property cannot get its own by
//! assignment (`obj.toString = f` where `obj` inherits
//! `Object.prototype.toString`). As SES does, the properties scripts
//! commonly override that way are turned into accessor pairs before
//! freezing ([`TAMED`]): reading gives the built-in as before, assigning on
//! an inheriting object defines the object's own property. Others
//! (`obj.push = f` on an array, say) need `Object.defineProperty` or a class
//! / object literal, as in any hardened realm.

use std::collections::HashSet;

use boa_engine::object::{FunctionObjectBuilder, IntegrityLevel};
use boa_engine::property::{PropertyDescriptor, PropertyKey};
use boa_engine::{
    Context, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, js_string,
};

/// Properties turned into accessors before freezing, by prototype: the
/// overrides scripts make by assignment (`Child.prototype.constructor =
/// Child`, `MyError.prototype.name = 'MyError'`, `obj.toString = ...`).
const TAMED: &[(Proto, &[&str])] = &[
    (
        Proto::Object,
        &["constructor", "toString", "toLocaleString", "valueOf"],
    ),
    (Proto::Function, &["toString"]),
    (
        Proto::Errors,
        &["constructor", "name", "message", "toString"],
    ),
];

#[derive(Clone, Copy)]
enum Proto {
    Object,
    Function,
    /// `Error.prototype` and every native error's prototype.
    Errors,
}

/// The data properties turned into accessors, with their values: code
/// that must not call getters (error classification) reads them here.
#[derive(Default)]
pub(crate) struct Tamed {
    properties: Vec<(JsObject, PropertyKey, JsValue)>,
}

impl Tamed {
    /// The value `home[key]` held before it was tamed, if it was.
    pub(crate) fn value(&self, home: &JsObject, key: &PropertyKey) -> Option<&JsValue> {
        self.properties
            .iter()
            .find(|(h, k, _)| h == home && k == key)
            .map(|(_, _, value)| value)
    }
}

/// Freezes every built-in of `context` (see the module docs). Call once,
/// after every sandbox global is installed; `skip` names the global
/// properties that are not built-ins (`ctx`).
pub(crate) fn freeze_builtins(context: &mut Context, skip: &[&str]) -> JsResult<Tamed> {
    let tamed = tame_override_mistake(context)?;

    let global = context.global_object();
    let mut seen: HashSet<JsObject> = HashSet::new();
    seen.insert(global.clone());
    let mut pending: Vec<JsObject> = hidden_intrinsics(context);
    let skip: Vec<PropertyKey> = skip
        .iter()
        .map(|k| PropertyKey::from(js_string!(*k)))
        .collect();
    for (key, desc) in own_properties(&global) {
        if !skip.contains(&key) {
            push_values(&desc, &mut pending);
        }
    }
    if let Some(proto) = global.prototype() {
        pending.push(proto);
    }

    while let Some(object) = pending.pop() {
        if !seen.insert(object.clone()) {
            continue;
        }
        if let Some(proto) = object.prototype() {
            pending.push(proto);
        }
        for (_, desc) in own_properties(&object) {
            push_values(&desc, &mut pending);
        }
        if !object.set_integrity_level(IntegrityLevel::Frozen, context)? {
            return Err(JsNativeError::typ()
                .with_message("a built-in object could not be frozen")
                .into());
        }
    }
    Ok(tamed)
}

/// Intrinsics no global property leads to.
fn hidden_intrinsics(context: &Context) -> Vec<JsObject> {
    let intrinsics = context.intrinsics();
    let constructors = intrinsics.constructors();
    let objects = intrinsics.objects();
    let iterators = objects.iterator_prototypes();
    let mut hidden = Vec::new();
    for standard in [
        constructors.generator_function(),
        constructors.async_function(),
        constructors.async_generator_function(),
        constructors.typed_array(),
    ] {
        hidden.push(standard.constructor());
        hidden.push(standard.prototype());
    }
    hidden.extend([
        objects.throw_type_error().into(),
        objects.generator(),
        objects.async_generator(),
        iterators.array(),
        iterators.async_iterator(),
        iterators.async_from_sync_iterator(),
        iterators.set(),
        iterators.string(),
        iterators.regexp_string(),
        iterators.map(),
        iterators.iterator_helper(),
        iterators.wrap_for_valid_iterator(),
    ]);
    hidden
}

/// The object's own properties, read from its storage (no script code).
fn own_properties(object: &JsObject) -> Vec<(PropertyKey, PropertyDescriptor)> {
    let borrowed = object.borrow();
    let properties = borrowed.properties();
    properties
        .index_property_keys()
        .map(PropertyKey::from)
        .chain(borrowed.shape().keys())
        .filter_map(|key| properties.get(&key).map(|desc| (key, desc)))
        .collect()
}

/// The objects a property holds: its value, or its getter and setter.
fn push_values(desc: &PropertyDescriptor, pending: &mut Vec<JsObject>) {
    for value in [desc.value(), desc.get(), desc.set()].into_iter().flatten() {
        if let Some(object) = value.as_object() {
            pending.push(object.clone());
        }
    }
}

/// Turns the [`TAMED`] data properties into accessor pairs.
fn tame_override_mistake(context: &mut Context) -> JsResult<Tamed> {
    let mut tamed = Tamed::default();
    for &(proto, names) in TAMED {
        let constructors = context.intrinsics().constructors();
        let prototypes = match proto {
            Proto::Object => vec![constructors.object().prototype()],
            Proto::Function => vec![constructors.function().prototype()],
            Proto::Errors => vec![
                constructors.error().prototype(),
                constructors.eval_error().prototype(),
                constructors.range_error().prototype(),
                constructors.reference_error().prototype(),
                constructors.syntax_error().prototype(),
                constructors.type_error().prototype(),
                constructors.uri_error().prototype(),
                constructors.aggregate_error().prototype(),
            ],
        };
        for prototype in prototypes {
            for name in names {
                let key = JsString::from(*name);
                if let Some(value) = tame(&prototype, key.clone(), context)? {
                    tamed
                        .properties
                        .push((prototype.clone(), PropertyKey::from(key), value));
                }
            }
        }
    }
    Ok(tamed)
}

/// Replaces `home[key]` (a data property) with a getter returning its
/// value and a setter that defines `key` on the object assigned to; the
/// value, if it did.
fn tame(home: &JsObject, key: JsString, context: &mut Context) -> JsResult<Option<JsValue>> {
    let Some(desc) = home
        .borrow()
        .properties()
        .get(&PropertyKey::from(key.clone()))
    else {
        return Ok(None);
    };
    let Some(value) = desc.value().cloned() else {
        return Ok(None);
    };
    let getter = FunctionObjectBuilder::new(
        context.realm(),
        NativeFunction::from_copy_closure_with_captures(
            |_, _, value: &JsValue, _| Ok(value.clone()),
            value.clone(),
        ),
    )
    .name(JsString::from(format!(
        "get {}",
        key.to_std_string_escaped()
    )))
    .length(0)
    .build();
    let setter = FunctionObjectBuilder::new(
        context.realm(),
        NativeFunction::from_copy_closure_with_captures(
            |this, args, (home, key): &(JsObject, JsString), context| {
                let value = args.first().cloned().unwrap_or_default();
                let Some(object) = this.as_object() else {
                    // Assigning on a primitive stores nothing, as ever.
                    return Ok(JsValue::undefined());
                };
                if &object == home {
                    return Err(JsNativeError::typ()
                        .with_message(format!(
                            "cannot assign to read only property '{}' of a built-in prototype \
                             (built-ins are frozen)",
                            key.to_std_string_escaped()
                        ))
                        .into());
                }
                object.create_data_property_or_throw(key.clone(), value, context)?;
                Ok(JsValue::undefined())
            },
            (home.clone(), key.clone()),
        ),
    )
    .name(JsString::from(format!(
        "set {}",
        key.to_std_string_escaped()
    )))
    .length(1)
    .build();
    home.define_property_or_throw(
        key,
        PropertyDescriptor::builder()
            .get(getter)
            .set(setter)
            .enumerable(desc.enumerable().unwrap_or(false))
            .configurable(true),
        context,
    )?;
    Ok(Some(value))
}
