//! The memory limit. boa 0.22 has no heap limit and no public allocation
//! statistics, so `Limits::memory_bytes` is applied to the sizes of the values
//! the allocating built-ins produce (see the crate docs, "Memory limit").

use std::cell::{Cell, RefCell};

use boa_engine::error::PanicError;
use boa_engine::object::FunctionObjectBuilder;
use boa_engine::property::PropertyDescriptor;
use boa_engine::{
    Context, JsError, JsObject, JsResult, JsString, JsValue, NativeFunction, context::HostHooks,
    js_string,
};

thread_local! {
    /// The memory budget of the eval running on this (worker) thread.
    static LIMIT: Cell<u64> = const { Cell::new(u64::MAX) };
    /// Set when a check failed: the message for `LimitExceeded(Memory)`.
    static EXCEEDED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Bytes counted per string code unit (UTF-16; an upper bound for Latin-1).
const BYTES_PER_CODE_UNIT: u64 = 2;
/// Bytes counted per array element (one `JsValue`).
const BYTES_PER_ELEMENT: u64 = size_of::<JsValue>() as u64;

/// Starts an eval with `limit` bytes (`None`: unlimited) on this thread.
pub(crate) fn begin(limit: Option<u64>) {
    LIMIT.with(|l| l.set(limit.unwrap_or(u64::MAX)));
    EXCEEDED.with(|e| e.borrow_mut().take());
}

/// The message of the memory check that stopped the eval, if one did.
pub(crate) fn take_exceeded() -> Option<String> {
    EXCEEDED.with(|e| e.borrow_mut().take())
}

fn limit() -> u64 {
    LIMIT.with(Cell::get)
}

/// Fails the eval (uncatchably: an engine error, not a JS exception) when
/// `bytes` exceed the limit.
fn charge(bytes: u64, what: &str) -> JsResult<()> {
    let limit = limit();
    if bytes <= limit {
        return Ok(());
    }
    let message = format!("{what} would need about {bytes} bytes; the limit is {limit} bytes");
    EXCEEDED.with(|e| *e.borrow_mut() = Some(message.clone()));
    Err(JsError::from(PanicError::new(message)))
}

fn check_value(value: &JsValue, context: &mut Context) -> JsResult<()> {
    if let Some(s) = value.as_string() {
        charge(s.len() as u64 * BYTES_PER_CODE_UNIT, "a string")?;
    } else if let Some(obj) = value.as_object()
        && obj.is_array()
    {
        let len = obj.get(js_string!("length"), context)?.to_length(context)?;
        charge(len.saturating_mul(BYTES_PER_ELEMENT), "an array")?;
    }
    Ok(())
}

fn this_len(this: &JsValue, context: &mut Context) -> JsResult<u64> {
    match this.as_string() {
        Some(s) => Ok(s.len() as u64),
        None => Ok(this.to_string(context)?.len() as u64),
    }
}

/// After the call: the result's size.
fn post_result(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let result = orig.call(this, args, cx)?;
    check_value(&result, cx)?;
    Ok(result)
}

/// After the call: the receiver's size (push, unshift, splice grow `this`).
fn post_this(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let result = orig.call(this, args, cx)?;
    check_value(this, cx)?;
    Ok(result)
}

/// Before `String.prototype.repeat(count)`: `this.length * count`.
fn pre_repeat(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let count = args.first().cloned().unwrap_or_default().to_number(cx)?;
    if count.is_finite() && count > 0.0 {
        let units = (this_len(this, cx)? as f64 * count).min(u64::MAX as f64) as u64;
        charge(
            units.saturating_mul(BYTES_PER_CODE_UNIT),
            "String.prototype.repeat",
        )?;
    }
    orig.call(this, args, cx)
}

/// Before `padStart` / `padEnd(maxLength)`: `maxLength`.
fn pre_pad(
    this: &JsValue,
    args: &[JsValue],
    orig: &JsObject,
    cx: &mut Context,
) -> JsResult<JsValue> {
    let len = args.first().cloned().unwrap_or_default().to_length(cx)?;
    charge(
        len.saturating_mul(BYTES_PER_CODE_UNIT),
        "String.prototype.pad",
    )?;
    orig.call(this, args, cx)
}

type Wrapper = fn(&JsValue, &[JsValue], &JsObject, &mut Context) -> JsResult<JsValue>;

/// The checked built-ins: (prototype is String's?, method, check).
const CHECKED: &[(bool, &str, Wrapper)] = &[
    (true, "concat", post_result),
    (true, "repeat", pre_repeat),
    (true, "padStart", pre_pad),
    (true, "padEnd", pre_pad),
    (true, "replace", post_result),
    (true, "replaceAll", post_result),
    (false, "concat", post_result),
    (false, "join", post_result),
    (false, "flat", post_result),
    (false, "map", post_result),
    (false, "push", post_this),
    (false, "unshift", post_this),
    (false, "splice", post_this),
];

/// Replaces the allocating built-ins with checked wrappers (same name and
/// length, same attributes) that call the original.
pub(crate) fn install(context: &mut Context) -> JsResult<()> {
    let string_proto = context.intrinsics().constructors().string().prototype();
    let array_proto = context.intrinsics().constructors().array().prototype();
    for &(on_string, name, wrapper) in CHECKED {
        let proto = if on_string {
            &string_proto
        } else {
            &array_proto
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

/// Host hooks: `ArrayBuffer` sizes are capped by the memory limit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SandboxHooks;

impl HostHooks for SandboxHooks {
    fn max_buffer_size(&self, _context: &mut Context) -> u64 {
        // boa's default cap (1.5 GiB), lowered to the eval's memory limit.
        limit().min(1_610_612_736)
    }
}
