//! A minimal `console` whose output goes to `tracing` (target
//! `polyscript_js::console`), never to stdout.

use boa_engine::object::ObjectInitializer;
use boa_engine::property::Attribute;
use boa_engine::{Context, JsResult, JsValue, NativeFunction, js_string};

fn join(args: &[JsValue], context: &mut Context) -> JsResult<String> {
    let mut parts = Vec::with_capacity(args.len());
    for arg in args {
        parts.push(arg.to_string(context)?.to_std_string_escaped());
    }
    Ok(parts.join(" "))
}

fn log(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    tracing::info!(target: "polyscript_js::console", "{}", join(args, context)?);
    Ok(JsValue::undefined())
}

fn debug(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    tracing::debug!(target: "polyscript_js::console", "{}", join(args, context)?);
    Ok(JsValue::undefined())
}

fn warn(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    tracing::warn!(target: "polyscript_js::console", "{}", join(args, context)?);
    Ok(JsValue::undefined())
}

fn error(_: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    tracing::error!(target: "polyscript_js::console", "{}", join(args, context)?);
    Ok(JsValue::undefined())
}

/// Defines the global `console` (`log`, `info`, `debug`, `warn`, `error`).
pub(crate) fn install(context: &mut Context) -> JsResult<()> {
    let console = ObjectInitializer::new(context)
        .function(NativeFunction::from_fn_ptr(log), js_string!("log"), 0)
        .function(NativeFunction::from_fn_ptr(log), js_string!("info"), 0)
        .function(NativeFunction::from_fn_ptr(debug), js_string!("debug"), 0)
        .function(NativeFunction::from_fn_ptr(warn), js_string!("warn"), 0)
        .function(NativeFunction::from_fn_ptr(error), js_string!("error"), 0)
        .build();
    context.register_global_property(
        js_string!("console"),
        console,
        Attribute::WRITABLE | Attribute::CONFIGURABLE,
    )
}
