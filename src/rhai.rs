//! Rhai (feature `rhai`): compile a Rhai script once and get an
//! [`AnyEvaluator`](crate::AnyEvaluator). Scripts read the constant `ctx` and
//! return their last expression; see [`polyscript_rhai`] for the value
//! rules, the sandbox and the limits. For builder options (strict variables,
//! registered functions, modules, [`OptimizationLevel`]) build a
//! [`RhaiEngine`] and use [`Evaluator::builder`](crate::Evaluator::builder).
//! This module is `polyscript_rhai`'s API (with the [`rhai`] crate it is
//! built on, to name its types) plus the constructors, which are also at
//! the crate root.
//!
//! ```
//! use polyscript::{EvalContext, serde_json::json};
//! let ev = polyscript::from_rhai_str(r#"#{ greeting: "Hello, " + ctx.name + "!" }"#)?;
//! let out = ev.eval(&EvalContext::with_data(json!({"name": "Rhai"}))?)?;
//! assert_eq!(out.value(), &json!({"greeting": "Hello, Rhai!"}));
//!
//! let ev = polyscript::from_rhai_str_with_data("ctx.greeting + ctx.name", json!({"greeting": "Hi "}))?;
//! let out = ev.eval(&EvalContext::with_data(json!({"name": "Ada"}))?)?;
//! assert_eq!(out.value(), &json!("Hi Ada"));
//! # Ok::<(), polyscript::Error>(())
//! ```
//!
//! ```
//! use polyscript::rhai::{OptimizationLevel, RhaiEngine};
//! let engine = RhaiEngine::builder().optimization_level(OptimizationLevel::Full).build();
//! let ev = polyscript::Evaluator::new(engine, polyscript::Source::from_text("40 + 2"))?;
//! assert_eq!(ev.eval(&polyscript::EvalContext::new())?.value(), &polyscript::serde_json::json!(42));
//! # Ok::<(), polyscript::Error>(())
//! ```

pub use polyscript_rhai::*;

engine_constructors! {
    root: root,
    what: "Rhai script",
    input: script: impl AsRef<str> => Source::from_text,
    args: (),
    note: "",
    engine: super::RhaiEngine::new(),
    export: [RhaiEngine, RhaiEngineBuilder, RhaiInstance, RhaiProgram],
    fns: [
        from_rhai_str, from_rhai_str_with_data,
        from_rhai_file, from_rhai_file_with_data,
        from_rhai_loader, from_rhai_loader_with_data,
    ],
}
