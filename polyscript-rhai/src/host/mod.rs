//! Host functions in Rhai: the registry's functions as `host.NAME(...)`.
//!
//! # The binding
//!
//! One rhai [`Module`] per registry, built once (when the engine is built)
//! and shared by every `rhai::Engine` the [`RhaiEngine`](crate::RhaiEngine)
//! makes (registering it is one `Arc` clone):
//!
//! * a module variable `host` holding a [`HostObject`]. rhai looks a
//!   variable up in the eval's scope first and in the global modules only
//!   when the scope does not have it, so `host` costs an eval nothing until
//!   a script reads it, it is visible everywhere (script functions, which
//!   see no caller's variables, closures, callbacks), it cannot be assigned
//!   (module variables are read-only), and a script's own `let host = ...`
//!   shadows it for the rest of that eval only (every eval has a fresh
//!   scope);
//! * for every registered name, rhai functions `NAME(host, args...)` for 0
//!   to [`MAX_ARGS`] arguments of any type, so that method-call syntax
//!   `host.NAME(x)` resolves to them. The first parameter is the private
//!   [`HostObject`] type: no other value's methods are affected, and no
//!   configuration can register a function that shadows these.
//!
//! Each function holds its [`HostFunction`], looked up once here; the call
//! ([`call`]) converts the arguments, lets the registry call it and converts
//! the result back, for the eval the calling thread runs (its
//! [`Guard`](polyscript_core::Guard) comes from [`crate::budget`]).
//!
//! # Closures
//!
//! A closure captures the free variables it uses from the scope it is
//! created in, and rhai fails to create one that uses a variable the scope
//! does not have, as `host` (a module variable) never is. So the engine of
//! a script that may capture `host` ([`may_capture_host`]: it names `host`
//! and has a `|`, or may `eval` code) also gets a variable resolver
//! ([`resolve_captures`]) that answers `host` wherever the script has not
//! declared a `host` of its own: rhai then skips it when capturing and the
//! closure reads it like any other code. A resolver is called for every
//! variable read, which is why other scripts' engines go without.
//!
//! A name that is not registered, or more than [`MAX_ARGS`] arguments, is
//! rhai's "function not found" inside the script; uncaught, the eval's
//! error names the function and lists what is registered
//! ([`not_found`]).

mod call;

use std::sync::OnceLock;

use polyscript_core::host::{HostFunction, HostFunctions};
use rhai::{Dynamic, FuncRegistration, Module, Shared};

/// The name scripts call host functions through.
pub(crate) const HOST: &str = "host";

/// The most arguments a host function can be called with from Rhai.
pub(crate) const MAX_ARGS: usize = 8;

/// The type of `host`. It holds nothing: the functions are rhai functions
/// taking it as their first argument, and the eval comes from the thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostObject;

/// A registry bound as a rhai module (see the module docs).
#[derive(Clone)]
pub(crate) struct Binding {
    registry: HostFunctions,
    module: Shared<Module>,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.registry.fmt(f)
    }
}

impl Default for Binding {
    /// No host functions: `host` exists (so calling anything on it is a
    /// clear error), with nothing registered. Built once per process.
    fn default() -> Self {
        static EMPTY: OnceLock<Binding> = OnceLock::new();
        EMPTY
            .get_or_init(|| Binding::new(HostFunctions::new()))
            .clone()
    }
}

impl Binding {
    /// The module for `registry`.
    pub(crate) fn new(registry: HostFunctions) -> Self {
        let mut module = Module::new();
        module.set_var(HOST, HostObject);
        module.set_custom_type::<HostObject>(HOST);
        for name in registry.names() {
            if let Some(function) = registry.get(name) {
                register(&mut module, function);
            }
        }
        module.build_index();
        Binding {
            registry,
            module: Shared::new(module),
        }
    }

    /// The registry bound.
    pub(crate) fn registry(&self) -> &HostFunctions {
        &self.registry
    }

    /// Binds `host` and the functions in `engine`.
    pub(crate) fn install(&self, engine: &mut rhai::Engine) {
        engine.register_global_module(self.module.clone());
    }

    /// Whether the engine for a script needs [`resolve_captures`]: there
    /// are functions to call, and the script may capture `host` in a
    /// closure (or `eval` code that does).
    pub(crate) fn needs_resolver(&self, text: &str, allow_eval: bool) -> bool {
        !self.registry.is_empty() && (allow_eval || may_capture_host(text))
    }
}

/// Whether `text` (a script) may create a closure that uses `host`: it
/// has the word `host` and a `|` (closures are `|x| ...` and `|| ...`).
/// Cheap and conservative: a comment or a string that says `host` counts.
pub(crate) fn may_capture_host(text: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.contains('|')
        && text.match_indices(HOST).any(|(at, _)| {
            !text[..at].chars().next_back().is_some_and(ident)
                && !text[at + HOST.len()..].chars().next().is_some_and(ident)
        })
}

/// Installs the variable resolver that answers `host` (see the module
/// docs): only where the parser found no declaration of its own
/// (`index == 0`) and the scope has no `host` either (code that declares
/// one at run time).
pub(crate) fn resolve_captures(engine: &mut rhai::Engine) {
    // rhai marks `on_var` "volatile" (deprecated only to say so); it is in
    // every 1.x release, and the tests cover what it does here.
    #[allow(deprecated)]
    engine.on_var(|name, index, context| {
        if index == 0 && name == HOST && !context.scope().contains(HOST) {
            Ok(Some(Dynamic::from(HostObject)))
        } else {
            Ok(None)
        }
    });
}

/// Registers `function` as `NAME(host)`, `NAME(host, a)`, ... up to
/// [`MAX_ARGS`] arguments of any type (`Dynamic`). Pure, so it can be
/// called on a constant holding `host`; volatile, so the optimizer never
/// calls it while compiling.
fn register(module: &mut Module, function: &HostFunction) {
    macro_rules! arities {
        ($( ($($arg:ident),*) )*) => {$(
            let f = function.clone();
            FuncRegistration::new(function.name())
                .with_purity(true)
                .with_volatility(true)
                .set_into_module(module, move |_: &mut HostObject, $($arg: Dynamic),*| {
                    call::call(&f, &[$($arg),*])
                });
        )*};
    }
    arities! {
        ()
        (a)
        (a, b)
        (a, b, c)
        (a, b, c, d)
        (a, b, c, d, e)
        (a, b, c, d, e, g)
        (a, b, c, d, e, g, h)
        (a, b, c, d, e, g, h, i)
    }
}

/// If `signature` (rhai's "function not found" text, `NAME (host, i64)`)
/// is a call on `host`, the message that says what went wrong: no such
/// function (and what there is), or too many arguments.
pub(crate) fn not_found(signature: &str, registry: &HostFunctions) -> Option<String> {
    let (name, params) = signature.split_once(" (")?;
    let params = params.strip_suffix(')')?;
    let mut params = params.split(", ");
    // Operators (`host == x`) are not calls of host functions, whose names
    // are identifiers.
    let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if params.next() != Some(HOST) || !identifier {
        return None;
    }
    let count = params.count();
    if registry.contains(name) {
        return (count > MAX_ARGS).then(|| {
            format!(
                "host function {name}: called with {count} arguments; \
                 Rhai scripts can pass at most {MAX_ARGS}"
            )
        });
    }
    let names: Vec<&str> = registry.names().collect();
    Some(if names.is_empty() {
        format!("no host function named `{name}` (none is registered)")
    } else {
        format!(
            "no host function named `{name}` (registered: {})",
            names.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> HostFunctions {
        HostFunctions::new()
            .register("add", |(a, b): (i64, i64)| Ok(a + b))
            .register("user", |(id,): (String,)| Ok(id))
    }

    #[test]
    fn a_missing_host_function_is_explained() {
        let host = registry();
        assert_eq!(
            not_found("nope (host, i64)", &host).as_deref(),
            Some("no host function named `nope` (registered: add, user)")
        );
        assert_eq!(
            not_found("nope (host)", &HostFunctions::new()).as_deref(),
            Some("no host function named `nope` (none is registered)")
        );
        let nine = format!("add (host{})", ", i64".repeat(9));
        assert_eq!(
            not_found(&nine, &host).as_deref(),
            Some("host function add: called with 9 arguments; Rhai scripts can pass at most 8")
        );
    }

    #[test]
    fn other_missing_functions_are_left_to_rhai() {
        let host = registry();
        assert_eq!(not_found("nope (i64, host)", &host), None);
        assert_eq!(not_found("== (host, host)", &host), None);
        assert_eq!(not_found("add (host, i64, i64)", &host), None);
        assert_eq!(not_found("no parentheses", &host), None);
    }

    #[test]
    fn scripts_that_may_capture_host_are_found() {
        assert!(may_capture_host("[1].map(|x| host.add(x, 1))"));
        assert!(may_capture_host("let f = || host;"));
        assert!(!may_capture_host("host.add(1, 2)"), "no closure");
        assert!(!may_capture_host("let f = |x| x; ghost + hostname"));
        assert!(may_capture_host("a || b; (host)"), "conservative");
    }
}
