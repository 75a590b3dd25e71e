//! Host functions in JavaScript: the registry's functions as
//! `host.NAME(...)`.
//!
//! # The `host` object
//!
//! Every context gets one global `host`, built when the context is (never
//! per eval): an ordinary object whose own properties are the registered
//! functions (read-only, enumerable, non-configurable), frozen, and bound
//! as a non-writable, non-configurable global by the global lockdown
//! (`globals.rs`), so no script can replace it, add to it, change a
//! function on it or delete it, and every eval sees the same `host`.
//!
//! Its prototype is [`missing_names`]: a `Proxy` over a frozen empty
//! object whose only trap, `get`, throws a `TypeError` naming the name. A
//! read of a registered name is an ordinary own-property read (no trap
//! runs); only a name `host` does not have reaches the prototype, so
//! `host.nope` and `host.nope()` are errors, not `undefined`, while `'nope'
//! in host` (the trap leaves `has` alone) and `Object.keys(host)` tell what
//! is there. Symbol keys read as `undefined` (the language probes some,
//! `Symbol.toPrimitive` for one).
//!
//! # The functions
//!
//! One native function per name, holding the function's
//! [`HostFunction`] (looked up once here) and the context's [`Binding`],
//! which knows the [`Guard`] of the eval running while one runs
//! ([`Binding::arm`]). The call itself is in [`call`]. A context whose
//! engine has no host functions gets no binding, and its evals arm
//! nothing.

mod call;

use std::cell::Cell;
use std::rc::Rc;

use boa_engine::object::{FunctionObjectBuilder, IntegrityLevel};
use boa_engine::property::{Attribute, PropertyDescriptor};
use boa_engine::{
    Context, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction, js_string,
};
use polyscript_core::Guard;
use polyscript_core::host::HostFunctions;

/// The global scripts call host functions through.
pub(crate) const HOST: &str = "host";

/// What the host functions of one context share: the guard of the eval
/// running.
#[derive(Debug, Default)]
pub(crate) struct Binding {
    /// The running eval's guard (null between evals). Set by [`arm`](Self::arm)
    /// for the length of one eval, which outlives every call made in it.
    guard: Cell<*const Guard<'static>>,
}

impl Binding {
    /// Makes `guard` the one host calls see until the result is dropped.
    pub(crate) fn arm<'a>(&'a self, guard: &'a Guard<'_>) -> Armed<'a> {
        let previous = self
            .guard
            .replace(std::ptr::from_ref(guard).cast::<Guard<'static>>());
        Armed {
            binding: self,
            previous,
        }
    }

    /// The running eval's guard.
    ///
    /// # Safety
    /// Use the reference within the host call asking, which the armed eval
    /// outlives.
    unsafe fn guard(&self) -> Option<&Guard<'_>> {
        // SAFETY: set only by `arm`, from a guard that outlives the `Armed`
        // that clears it again; the caller keeps the reference inside the
        // call.
        unsafe { self.guard.get().as_ref() }
    }
}

/// An eval's guard made visible to host calls; dropping it (also while
/// unwinding) hides it again.
pub(crate) struct Armed<'a> {
    binding: &'a Binding,
    previous: *const Guard<'static>,
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        self.binding.guard.set(self.previous);
    }
}

/// Defines the frozen global `host` with a function per name in `registry`
/// (none for an empty one) and returns their binding (`None` when there is
/// nothing to call). Call after the built-ins are frozen and before the
/// globals are locked.
pub(crate) fn install(
    context: &mut Context,
    registry: &HostFunctions,
) -> JsResult<Option<Rc<Binding>>> {
    let host = JsObject::with_null_proto();
    host.set_prototype(Some(missing_names(context, registry)?));
    let binding = (!registry.is_empty()).then(Rc::<Binding>::default);
    if let Some(binding) = &binding {
        for name in registry.names() {
            let Some(function) = registry.get(name) else {
                continue;
            };
            let native = NativeFunction::from_copy_closure_with_captures(
                call::host_call,
                call::Captures::new(Rc::clone(binding), function.clone()),
            );
            let object = FunctionObjectBuilder::new(context.realm(), native)
                .name(JsString::from(name))
                .length(0)
                .build();
            freeze(&object.clone().into(), context)?;
            host.define_property_or_throw(
                JsString::from(name),
                PropertyDescriptor::builder()
                    .value(object)
                    .writable(false)
                    .enumerable(true)
                    .configurable(false),
                context,
            )?;
        }
    }
    freeze(&host, context)?;
    context.register_global_property(js_string!(HOST), host, Attribute::empty())?;
    Ok(binding)
}

/// The prototype of `host`: a `Proxy` whose `get` throws for every string
/// key (see the module docs). The target and the handler are frozen null-
/// prototype objects no script can reach.
fn missing_names(context: &mut Context, registry: &HostFunctions) -> JsResult<JsObject> {
    let names: Vec<&str> = registry.names().collect();
    let known = if names.is_empty() {
        "none is registered".to_owned()
    } else {
        format!("registered: {}", names.join(", "))
    };
    let get = FunctionObjectBuilder::new(
        context.realm(),
        NativeFunction::from_copy_closure_with_captures(missing_get, JsString::from(known)),
    )
    .name(js_string!("get"))
    .length(3)
    .build();
    freeze(&get.clone().into(), context)?;
    let handler = JsObject::with_null_proto();
    handler.create_data_property_or_throw(js_string!("get"), get, context)?;
    freeze(&handler, context)?;
    let target = JsObject::with_null_proto();
    freeze(&target, context)?;
    context
        .intrinsics()
        .constructors()
        .proxy()
        .constructor()
        .construct(&[target.into(), handler.into()], None, context)
}

/// The `get` trap of [`missing_names`]: `(target, key, receiver)`.
fn missing_get(
    _: &JsValue,
    args: &[JsValue],
    known: &JsString,
    _: &mut Context,
) -> JsResult<JsValue> {
    let key = args.get(1).cloned().unwrap_or_default();
    let Some(name) = key.as_string() else {
        // A symbol: nothing is registered under one.
        return Ok(JsValue::undefined());
    };
    Err(JsNativeError::typ()
        .with_message(format!(
            "host.{} is not a registered host function ({})",
            name.to_std_string_lossy(),
            known.to_std_string_lossy()
        ))
        .into())
}

fn freeze(object: &JsObject, context: &mut Context) -> JsResult<()> {
    if object.set_integrity_level(IntegrityLevel::Frozen, context)? {
        Ok(())
    } else {
        Err(JsNativeError::typ()
            .with_message("the host object could not be frozen")
            .into())
    }
}
