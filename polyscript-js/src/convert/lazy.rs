//! A large input as a `ctx` whose entries are converted when the script
//! first reads them, so an eval that reads one key of a 10 000-key input
//! pays for one key, not 10 000.
//!
//! An input of at least [`LAZY_MIN_KEYS`] top-level keys becomes a `Proxy`
//! over an empty plain object, the *target*. The handler ([`Handler`], one
//! per boa context, unreachable from scripts) has a trap for every
//! operation that reads or changes the object's own properties; each trap
//! first does what makes the target hold what the eager conversion would
//! have put there, then forwards to the `Reflect` function of the same name
//! with its own arguments, so every answer is the target's and every
//! proxy invariant holds by construction:
//!
//! * `get` and `getOwnPropertyDescriptor` convert the entry asked for (all
//!   of it: laziness is one level deep) and define it on the target as
//!   `JSON.parse` would; a second read is a plain property hit.
//! * `has` answers "present" for an entry not converted yet.
//! * everything else that could see or change the raw contents (`ownKeys`,
//!   `set`, `defineProperty`, `deleteProperty`, `preventExtensions`,
//!   `setPrototypeOf`) first *fills* the target ([`fill`]): every entry in
//!   the input's order (entries read earlier are moved into place, keeping
//!   their identity), after which the proxy behaves as the target in every
//!   respect. A write therefore never lets a deleted key come back, and
//!   `Object.keys(ctx)` lists the keys as the eager `ctx` would.
//!
//! `getPrototypeOf` and `isExtensible` have no trap: the target's are the
//! answer. The result walk (`result.rs`) fills a proxy it meets and walks
//! its target, which is an ordinary object.
//!
//! Conversions are charged to the input budget of the eval, one per eval,
//! as the eager conversion is. A conversion error (an integer beyond the
//! number rule, the budget, the depth) stops the eval through the
//! interrupt flag (`interrupt::stop`): no `try` can catch it, and it is the
//! eval's input error whatever the script does.
//!
//! The current eval's lazy input lives in a thread-local for the length of
//! [`Active`] (a boa context lives on one thread and runs one eval at a
//! time); an eval nested in a host call saves and restores the outer one.
//! A trap called for any other target (a proxy of an eval that has ended,
//! which the global restore makes unreachable anyway) throws instead of
//! reading another eval's input.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::PropertyKey;
use boa_engine::{
    Context, JsError, JsNativeError, JsObject, JsResult, JsString, JsValue, NativeFunction,
};
use polyscript_core::EvalInput;
use polyscript_core::data::{Budget, DataError};

use super::input::{data_property, entry_to_js};
use crate::interrupt::{self, Reason};

/// Inputs with at least this many top-level keys are converted lazily.
/// Smaller ones are converted whole before the script runs. Measured with
/// callgrind (a script reading one key, release build): the proxy costs
/// ≈ 5 000 instructions per eval (creating it ≈ 2 700, the first trap
/// call ≈ 2 400 beyond the entry's own conversion), an eagerly converted
/// small entry ≈ 1 500, so laziness pays from about four keys; 8 leaves the
/// common small inputs on the eager path.
pub(crate) const LAZY_MIN_KEYS: usize = 8;

thread_local! {
    /// The smallest input converted lazily on this thread (see
    /// [`set_lazy_min_keys`]).
    static MIN_KEYS: Cell<usize> = const { Cell::new(LAZY_MIN_KEYS) };
    /// The current eval's lazy input, if it has one.
    static CURRENT: RefCell<Option<Lazy>> = const { RefCell::new(None) };
}

/// Sets the smallest input this thread converts lazily, returning the one
/// it replaces (`usize::MAX`: never, `0`: always): lets tests compare the
/// lazy and the eager `ctx` on one input.
#[doc(hidden)]
pub fn set_lazy_min_keys(keys: usize) -> usize {
    MIN_KEYS.with(|min| min.replace(keys))
}

/// Whether `input` is converted lazily (it has enough top-level keys).
pub(crate) fn is_lazy(input: &EvalInput<'_>) -> bool {
    input.len_at_least(MIN_KEYS.with(Cell::get))
}

/// One eval's lazy input.
struct Lazy {
    /// The eval's input, borrowed for the length of [`Active`] (its
    /// lifetime erased).
    input: *const EvalInput<'static>,
    proxy: JsObject,
    target: JsObject,
    /// Every entry is on the target: the traps only forward.
    filled: bool,
    budget: Budget,
}

/// The proxy handler: an ordinary object holding the traps, built once per
/// context and never given to a script.
pub(crate) struct Handler(JsObject);

type Trap = fn(&JsValue, &[JsValue], &mut Context) -> JsResult<JsValue>;

/// The handler's traps: name, `length`, function.
const TRAPS: [(&str, usize, Trap); 9] = [
    ("get", 3, get),
    ("has", 2, has),
    ("getOwnPropertyDescriptor", 2, get_own_property_descriptor),
    ("ownKeys", 1, own_keys),
    ("set", 4, set),
    ("defineProperty", 3, define_property),
    ("deleteProperty", 2, delete_property),
    ("preventExtensions", 1, prevent_extensions),
    ("setPrototypeOf", 2, set_prototype_of),
];

impl Handler {
    /// The handler for `context`.
    pub(crate) fn new(context: &mut Context) -> JsResult<Self> {
        let handler = JsObject::with_object_proto(context.intrinsics());
        for (name, length, trap) in TRAPS {
            let function =
                FunctionObjectBuilder::new(context.realm(), NativeFunction::from_fn_ptr(trap))
                    .name(JsString::from(name))
                    .length(length)
                    .build();
            handler.create_data_property_or_throw(JsString::from(name), function, context)?;
        }
        Ok(Handler(handler))
    }
}

/// Keeps one eval's lazy input current on this thread; dropping it restores
/// the one it replaced. Borrows the input the proxy reads.
pub(crate) struct Active<'a> {
    saved: Option<Lazy>,
    _input: PhantomData<&'a EvalInput<'a>>,
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        let saved = self.saved.take();
        let _ = CURRENT.try_with(|current| current.replace(saved));
    }
}

/// Makes `input` the current eval's lazy input, charged to `budget`, and
/// returns the proxy to give the script as `ctx`.
pub(crate) fn install<'a>(
    input: &'a EvalInput<'a>,
    budget: Budget,
    handler: &Handler,
    context: &mut Context,
) -> Result<(Active<'a>, JsValue), JsError> {
    // `ctx` itself is at depth 1, as in the eager conversion.
    budget
        .enter(1)
        .map_err(|e| interrupt::stop(Reason::Input(Box::new(e))))?;
    let target = JsObject::with_object_proto(context.intrinsics());
    let proxy = context
        .intrinsics()
        .constructors()
        .proxy()
        .constructor()
        .construct(
            &[target.clone().into(), handler.0.clone().into()],
            None,
            context,
        )?;
    let input: *const EvalInput<'a> = input;
    let lazy = Lazy {
        input: input.cast(),
        proxy: proxy.clone(),
        target,
        filled: false,
        budget,
    };
    let saved = CURRENT.with(|current| current.replace(Some(lazy)));
    let active = Active {
        saved,
        _input: PhantomData,
    };
    Ok((active, proxy.into()))
}

/// If `object` is the current eval's lazy `ctx`: fills it and gives its
/// target, which from then on answers exactly as the proxy does.
pub(crate) fn filled_target(
    object: &JsObject,
    context: &mut Context,
) -> JsResult<Option<JsObject>> {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        let Some(lazy) = current
            .as_mut()
            .filter(|l| JsObject::equals(&l.proxy, object))
        else {
            return Ok(None);
        };
        fill(lazy, context)?;
        Ok(Some(lazy.target.clone()))
    })
}

/// The proxy's target (the traps' first argument) if it is the current
/// eval's; an error otherwise.
fn current_target(args: &[JsValue]) -> JsResult<JsObject> {
    let target = args.first().and_then(JsValue::as_object);
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .filter(|lazy| {
                target
                    .as_ref()
                    .is_some_and(|t| JsObject::equals(t, &lazy.target))
            })
            .map(|lazy| lazy.target.clone())
            .ok_or_else(|| {
                JsNativeError::typ()
                    .with_message("this ctx belongs to an eval that has ended")
                    .into()
            })
    })
}

/// The trap's property key as the input's key, if it is a string.
fn key_name(args: &[JsValue]) -> Option<String> {
    args.get(1)
        .and_then(JsValue::as_string)
        .map(|key| key.to_std_string_lossy())
}

/// Converts the input's entry `name` onto the target unless it is there
/// already (or the target is filled); gives the target's own data value
/// for `name` when it has one.
fn materialize(name: &str, context: &mut Context) -> JsResult<Option<JsValue>> {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        let Some(lazy) = current.as_mut() else {
            return Ok(None);
        };
        let key = PropertyKey::from(JsString::from(name));
        if let Some(value) = own_data(&lazy.target, &key) {
            return Ok(Some(value));
        }
        if lazy.filled {
            return Ok(None);
        }
        // SAFETY: set by `install` from a reference `Active` borrows.
        let input = unsafe { &*lazy.input };
        let item = match input.get(name) {
            Ok(Some(item)) => item,
            Ok(None) => return Ok(None),
            Err(e) => return Err(input_error(e.at_key(name))),
        };
        let value = entry_to_js(name, &item, &mut lazy.budget, context).map_err(input_error)?;
        lazy.target
            .insert_property(key, data_property(value.clone()));
        Ok(Some(value))
    })
}

/// Puts every entry not converted yet on the target, all in the input's
/// order, and marks the input filled.
fn fill(lazy: &mut Lazy, context: &mut Context) -> JsResult<()> {
    if lazy.filled {
        return Ok(());
    }
    // SAFETY: set by `install` from a reference `Active` borrows.
    let input = unsafe { &*lazy.input };
    let mut entries = Vec::with_capacity(input.len());
    let mut moved = Vec::new();
    for (name, item) in input.iter() {
        let key = PropertyKey::from(JsString::from(name));
        let value = match own_data(&lazy.target, &key) {
            Some(value) => {
                moved.push(key.clone());
                value
            }
            None => {
                let item = item.map_err(|e| input_error(e.at_key(name)))?;
                entry_to_js(name, &item, &mut lazy.budget, context).map_err(input_error)?
            }
        };
        entries.push((key, value));
    }
    // Entries read before the fill were defined in the order they were
    // read: take them out so that every key goes back in the input's.
    for key in moved {
        lazy.target.delete_property_or_throw(key, context)?;
    }
    for (key, value) in entries {
        lazy.target.insert_property(key, data_property(value));
    }
    lazy.filled = true;
    Ok(())
}

/// The value of `target`'s own data property `key`.
fn own_data(target: &JsObject, key: &PropertyKey) -> Option<JsValue> {
    let object = target.borrow();
    let desc = object.properties().get(key)?;
    if desc.is_accessor_descriptor() {
        return None;
    }
    desc.value().cloned()
}

/// Records a conversion error as the eval's input error and stops it.
fn input_error(error: DataError) -> JsError {
    interrupt::stop(Reason::Input(Box::new(error)))
}

/// Calls `Reflect[name]` with the trap's arguments: what the proxy would do
/// without a trap, on the target.
fn forward(name: &str, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let reflect = context.intrinsics().objects().reflect();
    let function = reflect.get(JsString::from(name), context)?;
    let function = function.as_callable().ok_or_else(|| {
        JsNativeError::typ().with_message(format!("Reflect.{name} is not a function"))
    })?;
    function.call(&JsValue::undefined(), args, context)
}

/// Fills the target, then forwards: the traps that see or change every key.
fn fill_then(name: &str, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    current_target(args)?;
    CURRENT.with(|current| match current.borrow_mut().as_mut() {
        Some(lazy) => fill(lazy, context),
        None => Ok(()),
    })?;
    forward(name, args, context)
}

fn get(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    current_target(args)?;
    if let Some(name) = key_name(args)
        && let Some(value) = materialize(&name, context)?
    {
        return Ok(value);
    }
    forward("get", args, context)
}

fn get_own_property_descriptor(
    _: &JsValue,
    args: &[JsValue],
    context: &mut Context,
) -> JsResult<JsValue> {
    current_target(args)?;
    if let Some(name) = key_name(args) {
        materialize(&name, context)?;
    }
    forward("getOwnPropertyDescriptor", args, context)
}

fn has(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    current_target(args)?;
    if let Some(name) = key_name(args) {
        let unconverted = CURRENT.with(|current| {
            current.borrow().as_ref().is_some_and(|lazy| {
                // SAFETY: set by `install` from a reference `Active` borrows.
                !lazy.filled && unsafe { &*lazy.input }.contains_key(name.as_str())
            })
        });
        if unconverted {
            return Ok(true.into());
        }
    }
    forward("has", args, context)
}

fn own_keys(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    fill_then("ownKeys", args, context)
}

fn set(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    fill_then("set", args, context)
}

fn define_property(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    fill_then("defineProperty", args, context)
}

fn delete_property(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    fill_then("deleteProperty", args, context)
}

fn prevent_extensions(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    fill_then("preventExtensions", args, context)
}

fn set_prototype_of(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    fill_then("setPrototypeOf", args, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trap_has_its_reflect_function() {
        let mut context = Context::default();
        let reflect = context.intrinsics().objects().reflect();
        for (name, _, _) in TRAPS {
            let f = reflect.get(JsString::from(name), &mut context).unwrap();
            assert!(f.is_callable(), "Reflect.{name}");
        }
    }
}
