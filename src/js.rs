//! JavaScript (feature `js`, the boa engine): compile a script once and get
//! an [`AnyEvaluator`](crate::AnyEvaluator). Scripts read the global `ctx`
//! and return their completion value (the last expression statement), or
//! define `function main(ctx)` whose return value is the result; a `.js` or
//! `.mjs` file runs as a classic script, not a module. See [`polyscript_js`]
//! for the value rules, isolation, the sandbox and the limits. For engine
//! options (thread mode, console, stack size, yield budget) build a
//! [`JsEngine`] and use [`Evaluator::builder`](crate::Evaluator::builder).
//! This module is `polyscript_js`'s API (with the [`boa_engine`] crate it is
//! built on, and its constants such as [`DEFAULT_STACK_SIZE`]) plus the
//! constructors, which are also at the crate root.
//!
//! ```
//! use polyscript::{EvalContext, serde_json::json};
//! let ev = polyscript::from_js_str("({ greeting: `Hello, ${ctx.name}!` })")?;
//! let out = ev.eval(&EvalContext::with_data(json!({"name": "JS"}))?)?;
//! assert_eq!(out.value(), &json!({"greeting": "Hello, JS!"}));
//!
//! let ev = polyscript::from_js_str_with_data(
//!     "function main(ctx) { return ctx.greeting + ctx.name; }",
//!     json!({"greeting": "Hi "}),
//! )?;
//! let out = ev.eval(&EvalContext::with_data(json!({"name": "Ada"}))?)?;
//! assert_eq!(out.value(), &json!("Hi Ada"));
//! # Ok::<(), polyscript::Error>(())
//! ```

pub use polyscript_js::*;

engine_constructors! {
    root: root,
    what: "JavaScript",
    input: script: impl AsRef<str> => Source::from_text,
    args: (),
    note: "",
    engine: super::JsEngine::new(),
    export: [JsEngine, JsEngineBuilder, JsInstance, JsProgram, ThreadMode],
    fns: [
        from_js_str, from_js_str_with_data,
        from_js_file, from_js_file_with_data,
        from_js_loader, from_js_loader_with_data,
    ],
}
