//! The global object between evals: built-ins are locked once, and after
//! each eval only what the script added is undone (see the crate docs,
//! "Compile once, isolate every eval").

use std::collections::HashSet;

use boa_engine::object::JsPrototype;
use boa_engine::property::{PropertyDescriptor, PropertyKey};
use boa_engine::{Context, JsObject, JsResult, JsString, JsValue, js_string};

/// The global object of one context, and what it looked like after
/// instantiation.
pub(crate) struct Globals {
    global: JsObject,
    /// Built-ins and `ctx`. All non-configurable, so none can be deleted or
    /// redefined, and the built-ins are also non-writable.
    locked: HashSet<PropertyKey>,
    /// Non-configurable writable data properties the script itself created
    /// (`var`, sloppy-mode block functions): they cannot be deleted, so they
    /// are reset to `undefined` after every eval.
    sticky: Vec<PropertyKey>,
    /// The global object's prototype (`Object.prototype`).
    prototype: JsPrototype,
    /// Bindings of the realm's global declarative environment: top-level
    /// `let` / `const` / `class` of code run by an indirect `eval` land
    /// there (not on the global object), and none can be removed.
    lexical_bindings: u32,
    /// Whether the global object's property storage counts its own keys
    /// exactly (it does for boa's ordinary global object; checked once at
    /// [`lock`](Self::lock)), so that [`restore`](Self::restore) can compare
    /// a count instead of listing ≈70 keys after every eval.
    counted: bool,
}

impl Globals {
    /// Makes every own property of the global object non-configurable (and,
    /// except `ctx`, non-writable), and records the result as the baseline.
    /// Call once, after every sandbox global is installed.
    pub(crate) fn lock(context: &mut Context) -> JsResult<Self> {
        let global = context.global_object();
        let keys = global.own_property_keys(context)?;
        let ctx = PropertyKey::from(js_string!("ctx"));
        for key in &keys {
            let Some(current) = global.borrow().properties().get(key) else {
                continue;
            };
            let mut lock = PropertyDescriptor::builder().configurable(false);
            if current.is_data_descriptor() && *key != ctx {
                lock = lock.writable(false);
            }
            global.define_property_or_throw(key.clone(), lock, context)?;
        }
        let counted = global.borrow().properties().key_count() == keys.len();
        Ok(Globals {
            counted,
            lexical_bindings: context.realm().scope().num_bindings(),
            prototype: global.prototype(),
            global,
            locked: keys.into_iter().collect(),
            sticky: Vec::new(),
        })
    }

    /// Gives the script its input. `false` if `ctx` could not be set (only
    /// after a failed [`restore`](Self::restore), which the caller acts on).
    pub(crate) fn set_ctx(&self, input: JsValue, context: &mut Context) -> JsResult<bool> {
        self.global.set(js_string!("ctx"), input, false, context)
    }

    /// Undoes what an eval did to the global object: clears `ctx`, resets
    /// the sticky `var`s, deletes added properties. `Ok(false)` when the
    /// state cannot be brought back (global made non-extensible, prototype
    /// swapped, `ctx` or a `var` made read-only or an accessor, a global
    /// `let` declared through an indirect `eval`, ...): the instance must
    /// then be rebuilt.
    ///
    /// Built-ins need no check: they are non-configurable and non-writable,
    /// so no script can delete, replace or redefine them. Hence the global
    /// object's own keys are always a superset of the baseline, and when
    /// their count equals the baseline's, nothing was added — the common
    /// case costs one look at the storage's key count, not a key listing
    /// or a diff.
    ///
    /// `allowed` are the names the script's own declarations make global
    /// `var`s (see `JsProgram::global_vars`): a non-deletable global by any
    /// other name is unclean too, so that every program sharing the context
    /// (they all declare the same names) sees exactly the globals it would
    /// see alone.
    pub(crate) fn restore(&mut self, context: &mut Context, allowed: &[String]) -> JsResult<bool> {
        let global = &self.global;
        if !global.set(js_string!("ctx"), JsValue::undefined(), false, context)?
            || !global.is_extensible(context)?
            || global.prototype() != self.prototype
            || context.realm().scope().num_bindings() != self.lexical_bindings
        {
            return Ok(false);
        }
        for key in &self.sticky {
            if !reset_var(global, key, context)? {
                return Ok(false);
            }
        }
        let baseline = self.locked.len() + self.sticky.len();
        if self.counted && global.borrow().properties().key_count() == baseline {
            return Ok(true);
        }
        let keys = global.own_property_keys(context)?;
        if keys.len() == baseline {
            return Ok(true);
        }
        let mut clean = true;
        for key in keys {
            if self.locked.contains(&key) || self.sticky.contains(&key) {
                continue;
            }
            if global
                .delete_property_or_throw(key.clone(), context)
                .is_ok()
            {
                continue;
            }
            if allowed
                .iter()
                .any(|name| key == PropertyKey::from(JsString::from(name.as_str())))
                && reset_var(global, &key, context)?
            {
                self.sticky.push(key);
            } else {
                clean = false;
            }
        }
        Ok(clean)
    }
}

impl Globals {
    /// Takes the realm's current number of global lexical bindings as the
    /// baseline (after compiling a script, before it runs).
    pub(crate) fn rebase(&mut self, context: &mut Context) {
        self.lexical_bindings = context.realm().scope().num_bindings();
    }
}

/// Sets a non-deletable global back to `undefined` without running script
/// code. `false` unless it is a writable data property (an accessor or a
/// read-only value would carry state into the next eval).
fn reset_var(global: &JsObject, key: &PropertyKey, context: &mut Context) -> JsResult<bool> {
    let writable_data = global
        .borrow()
        .properties()
        .get(key)
        .is_some_and(|d| d.is_data_descriptor() && d.writable() == Some(true));
    if !writable_data {
        return Ok(false);
    }
    global.define_property_or_throw(
        key.clone(),
        PropertyDescriptor::builder().value(JsValue::undefined()),
        context,
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use boa_engine::Source;

    use super::*;

    /// `restore`'s fast path trusts the storage's key count to be the
    /// length of the key list, for every kind of key and storage.
    #[test]
    fn the_key_count_is_the_length_of_the_key_list() {
        let mut context = Context::default();
        let objects = [
            "({})",
            "({ a: 1, b: 2 })",
            "({ 0: 'index', z: 'string', [Symbol.for('s')]: 'symbol' })",
            "(() => { const o = { a: 1, b: 2 }; delete o.a; o.c = 3; return o; })()",
            "[1, 2, 3]",
            "[1.5, 'x', {}]",
            "(() => { const a = []; a[100000] = 1; a[7] = 2; return a; })()",
            "(() => { const o = {}; Object.defineProperty(o, 5, { get() {} }); return o; })()",
            "globalThis",
            "(() => { globalThis.added = 1; globalThis[3] = 2; return globalThis; })()",
        ];
        for text in objects {
            let value = context.eval(Source::from_bytes(text)).expect("runs");
            let object = value.as_object().expect("an object");
            let listed = object.own_property_keys(&mut context).expect("lists").len();
            assert_eq!(object.borrow().properties().key_count(), listed, "{text}");
        }
    }
}
