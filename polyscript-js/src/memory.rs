//! The memory limit's checks inside the JavaScript built-ins, and the host
//! hooks that tie boa to the eval's interrupt state (see the crate docs,
//! "Limits", for what holds in each mode).
//!
//! With polyscript's accounting allocator installed, every byte the eval's
//! thread allocates is counted (`interrupt.rs`), so only the built-ins that
//! allocate in proportion to an argument *in one step* need a check before
//! they run: `'x'.repeat(2 ** 28)` would otherwise allocate and fill a
//! quarter of a gigabyte before the next interrupt point. Without the
//! allocator these pre-checks compare each value with the whole limit, and
//! a few more wrappers check the size of what the growing built-ins produce.
//!
//! The wrappers are installed before the intrinsics are frozen
//! (`lockdown.rs`), so no script can remove or replace them.

use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::PropertyDescriptor;
use boa_engine::{
    Context, JsError, JsObject, JsResult, JsString, JsValue, NativeFunction, context::HostHooks,
    js_string,
};

use crate::interrupt;

/// Bytes counted per array element (one `JsValue`).
const BYTES_PER_ELEMENT: u64 = size_of::<JsValue>() as u64;

/// boa's own cap on an `ArrayBuffer` (1.5 GiB).
const BOA_MAX_BUFFER: u64 = 1_610_612_736;

/// Bytes a string of `units` code units takes (Latin-1 strings one byte per
/// unit, others two).
fn string_bytes(units: u64, latin1: bool) -> u64 {
    if latin1 {
        units
    } else {
        units.saturating_mul(2)
    }
}

/// Fails the eval (uncatchably) with `LimitExceeded(Memory)` when `bytes`
/// are more than the eval may still allocate.
fn charge(bytes: u64, what: &str) -> JsResult<()> {
    let left = interrupt::memory_left();
    if bytes <= left {
        return Ok(());
    }
    Err(interrupt::memory_exceeded(format!(
        "{what} would need about {bytes} bytes; {left} are left of the memory limit"
    )))
}

/// `this` converted once (`RequireObjectCoercible` + `ToString`), so the
/// original built-in gets a string and runs no conversion a second time.
/// `None` for `null` / `undefined`: the original throws its own TypeError.
fn this_string(this: &JsValue, context: &mut Context) -> JsResult<Option<JsString>> {
    if this.is_null_or_undefined() {
        return Ok(None);
    }
    this.to_string(context).map(Some)
}

/// `String.prototype.repeat(count)`: `this.length * count` before it runs.
fn pre_repeat(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let Some(s) = this_string(this, cx)? else {
        return orig.call(this, args, cx);
    };
    let count = args.first().cloned().unwrap_or_default().to_number(cx)?;
    if count.is_finite() && count >= 1.0 {
        let units = (s.len() as f64 * count.trunc()).min(u64::MAX as f64) as u64;
        charge(
            string_bytes(units, s.as_str().is_latin1()),
            "String.prototype.repeat",
        )?;
    }
    orig.call(&s.into(), &[count.into()], cx)
}

/// `padStart` / `padEnd(maxLength, fill)`: `maxLength` before it runs.
fn pre_pad(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let Some(s) = this_string(this, cx)? else {
        return orig.call(this, args, cx);
    };
    let max_length = args.first().cloned().unwrap_or_default().to_length(cx)?;
    let fill = args.get(1).cloned().unwrap_or_default();
    let latin1 = s.as_str().is_latin1() && fill.as_string().is_none_or(|f| f.as_str().is_latin1());
    charge(
        string_bytes(max_length, latin1),
        "String.prototype.padStart/padEnd",
    )?;
    orig.call(&s.into(), &[(max_length as f64).into(), fill], cx)
}

/// `String.prototype.concat(...args)`: the sum of the lengths before it
/// runs (`s.concat(s, s, s, …)` would build the whole result in one step).
fn pre_concat(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let Some(s) = this_string(this, cx)? else {
        return orig.call(this, args, cx);
    };
    let mut units = s.len() as u64;
    let mut latin1 = s.as_str().is_latin1();
    let mut strings = Vec::with_capacity(args.len());
    for arg in args {
        let string = arg.to_string(cx)?;
        units = units.saturating_add(string.len() as u64);
        latin1 &= string.as_str().is_latin1();
        strings.push(JsValue::from(string));
    }
    charge(string_bytes(units, latin1), "String.prototype.concat")?;
    orig.call(&s.into(), &strings, cx)
}

/// Without the accounting allocator: `Array.prototype.fill` on a long
/// array would store that many elements.
fn pre_fill(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    if let Some(object) = this.as_object() {
        let length = object.get(js_string!("length"), cx)?.to_length(cx)?;
        charge(
            length.saturating_mul(BYTES_PER_ELEMENT),
            "Array.prototype.fill",
        )?;
    }
    orig.call(this, args, cx)
}

/// Without the accounting allocator: `Array.prototype.join` on a long array
/// makes at least `(length - 1)` separators; checked before it runs (its
/// result is checked afterwards too).
fn pre_join(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    if let Some(object) = this.as_object() {
        let length = object.get(js_string!("length"), cx)?.to_length(cx)?;
        let separator = match args.first() {
            Some(sep) if !sep.is_undefined() => sep.to_string(cx)?,
            _ => js_string!(","),
        };
        let units = length
            .saturating_sub(1)
            .saturating_mul(separator.len() as u64);
        charge(
            string_bytes(units, separator.as_str().is_latin1()),
            "Array.prototype.join",
        )?;
        let result = orig.call(this, &[separator.into()], cx)?;
        check_size(&result, cx)?;
        return Ok(result);
    }
    post_result(this, args, orig, cx)
}

/// Without the accounting allocator: the size of what a built-in returned.
fn post_result(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let result = orig.call(this, args, cx)?;
    check_size(&result, cx)?;
    Ok(result)
}

/// Without the accounting allocator: the size of the receiver afterwards
/// (`push`, `unshift`, `splice` grow `this`).
fn post_this(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let result = orig.call(this, args, cx)?;
    check_size(this, cx)?;
    Ok(result)
}

fn check_size(value: &JsValue, context: &mut Context) -> JsResult<()> {
    if let Some(s) = value.as_string() {
        charge(
            string_bytes(s.len() as u64, s.as_str().is_latin1()),
            "a string",
        )?;
    } else if let Some(obj) = value.as_object()
        && obj.is_array()
    {
        let len = obj.get(js_string!("length"), context)?.to_length(context)?;
        charge(len.saturating_mul(BYTES_PER_ELEMENT), "an array")?;
    }
    Ok(())
}

type Wrapper = fn(&JsValue, &[JsValue], &JsObject, &mut Context) -> JsResult<JsValue>;

/// Which prototype a wrapped method is on.
#[derive(Clone, Copy)]
enum On {
    String,
    Array,
}

/// Checked in both modes: one step allocates in proportion to an argument.
const PRE_CHECKED: &[(On, &str, Wrapper)] = &[
    (On::String, "repeat", pre_repeat),
    (On::String, "padStart", pre_pad),
    (On::String, "padEnd", pre_pad),
    (On::String, "concat", pre_concat),
];

/// Checked only without the accounting allocator (with it, what these
/// allocate is counted as it grows).
const FALLBACK_CHECKED: &[(On, &str, Wrapper)] = &[
    (On::String, "replace", post_result),
    (On::String, "replaceAll", post_result),
    (On::Array, "fill", pre_fill),
    (On::Array, "concat", post_result),
    (On::Array, "join", pre_join),
    (On::Array, "flat", post_result),
    (On::Array, "map", post_result),
    (On::Array, "push", post_this),
    (On::Array, "unshift", post_this),
    (On::Array, "splice", post_this),
];

/// Replaces the allocating built-ins with checked wrappers (same name,
/// length and attributes) that call the original. `metered`: the
/// accounting allocator is installed.
pub(crate) fn install(context: &mut Context, metered: bool) -> JsResult<()> {
    let string_proto = context.intrinsics().constructors().string().prototype();
    let array_proto = context.intrinsics().constructors().array().prototype();
    let fallback: &[(On, &str, Wrapper)] = if metered { &[] } else { FALLBACK_CHECKED };
    for &(on, name, wrapper) in PRE_CHECKED.iter().chain(fallback) {
        let proto = match on {
            On::String => &string_proto,
            On::Array => &array_proto,
        };
        let key = JsString::from(name);
        let original = proto.get(key.clone(), context)?;
        let Some(original) = original.as_object() else {
            continue;
        };
        let length = original
            .get(js_string!("length"), context)?
            .to_length(context)?;
        let function = FunctionObjectBuilder::new(
            context.realm(),
            NativeFunction::from_copy_closure_with_captures(wrapper, original.clone()),
        )
        .name(key.clone())
        .length(length as usize)
        .build();
        proto.define_property_or_throw(
            key,
            PropertyDescriptor::builder()
                .value(function)
                .writable(true)
                .enumerable(false)
                .configurable(true),
            context,
        )?;
    }
    Ok(())
}

/// boa's host hooks for a polyscript context.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SandboxHooks;

impl HostHooks for SandboxHooks {
    /// `ArrayBuffer` (and typed array) sizes are capped by the memory the
    /// eval has left.
    fn max_buffer_size(&self, _context: &mut Context) -> u64 {
        interrupt::memory_left().min(BOA_MAX_BUFFER)
    }

    /// A buffer over that cap ends the eval with `LimitExceeded(Memory)`
    /// (boa would throw a catchable RangeError).
    fn buffer_too_large(&self, size: u64, _context: &mut Context) -> JsError {
        if size <= BOA_MAX_BUFFER {
            let left = interrupt::memory_left();
            interrupt::memory_exceeded(format!(
                "an ArrayBuffer of {size} bytes is more than the {left} bytes left of the memory limit"
            ))
        } else {
            boa_engine::JsNativeError::range()
                .with_message("cannot allocate a buffer that exceeds the maximum buffer size")
                .into()
        }
    }

    /// The VM found the interrupt flag raised: stop, or (after a garbage
    /// collection freed enough memory) go on.
    fn interrupt_requested(&self, _context: &mut Context) -> bool {
        interrupt::decide()
    }
}
