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
        Ok(Globals {
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
    /// case costs one key listing, not a diff.
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
        let keys = global.own_property_keys(context)?;
        if keys.len() == self.locked.len() + self.sticky.len() {
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
