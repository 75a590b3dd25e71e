//! [`RhaiEngineBuilder`]: the options of a [`RhaiEngine`].

use std::fmt;
use std::sync::Arc;

use polyscript_core::host::HostFunctions;
use rhai::{ModuleResolver, OptimizationLevel, RhaiNativeFunc};

use crate::engine::RhaiEngine;
use crate::host;

/// A change applied to every `rhai::Engine` the [`RhaiEngine`] builds.
pub(crate) type Configure = Arc<dyn Fn(&mut rhai::Engine) + Send + Sync>;

/// Everything the builder collects; shared by the clones of a [`RhaiEngine`].
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) optimization_level: OptimizationLevel,
    pub(crate) strict_variables: bool,
    pub(crate) allow_eval: bool,
    /// Installs the granted module resolver on a `rhai::Engine`.
    pub(crate) module_resolver: Option<Configure>,
    pub(crate) max_expr_depth: usize,
    pub(crate) max_function_expr_depth: usize,
    pub(crate) configure: Vec<Configure>,
    /// Whether a [`RhaiEngineBuilder::configure`] closure may have given the
    /// engine a way to read the scope (custom syntax, `on_var`), so that
    /// `ctx` can be read in ways its `AST` does not show (see `reads`).
    pub(crate) configured_freely: bool,
    /// The host functions, bound as `host` (none by default).
    pub(crate) host: host::Binding,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            optimization_level: OptimizationLevel::Simple,
            strict_variables: false,
            allow_eval: false,
            module_resolver: None,
            max_expr_depth: RhaiEngineBuilder::DEFAULT_MAX_EXPR_DEPTH,
            max_function_expr_depth: RhaiEngineBuilder::DEFAULT_MAX_FUNCTION_EXPR_DEPTH,
            configure: Vec::new(),
            configured_freely: false,
            host: host::Binding::default(),
        }
    }
}

impl Options {
    /// Whether these are the defaults: no closure, no grant, no host
    /// function, every setting at its default (so an engine of them is
    /// interchangeable with one of [`Options::default`]).
    pub(crate) fn is_default(&self) -> bool {
        let default = Options::default();
        self.optimization_level == default.optimization_level
            && self.strict_variables == default.strict_variables
            && self.allow_eval == default.allow_eval
            && self.module_resolver.is_none()
            && self.max_expr_depth == default.max_expr_depth
            && self.max_function_expr_depth == default.max_function_expr_depth
            && self.configure.is_empty()
            && !self.configured_freely
            && self.host.registry().is_empty()
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("optimization_level", &self.optimization_level)
            .field("strict_variables", &self.strict_variables)
            .field("allow_eval", &self.allow_eval)
            .field("module_resolver", &self.module_resolver.is_some())
            .field("max_expr_depth", &self.max_expr_depth)
            .field("max_function_expr_depth", &self.max_function_expr_depth)
            .field("configure", &self.configure.len())
            .field("configured_freely", &self.configured_freely)
            .field("host", &self.host)
            .finish()
    }
}

/// Configures a [`RhaiEngine`]: optimization, strict variables, what the
/// sandbox grants, and extra functions or packages.
///
/// Resource limits are not set here: they come from the
/// [`Evaluator`](polyscript_core::Evaluator)'s [`Limits`](polyscript_core::Limits).
///
/// ```
/// use polyscript_core::{EvalContext, Evaluator, Source};
/// use polyscript_rhai::RhaiEngine;
///
/// let engine = RhaiEngine::builder()
///     .strict_variables(true)
///     .register_fn("double", |x: i64| x * 2)
///     .build();
/// let evaluator = Evaluator::new(engine, Source::from_text("double(ctx.n)"))?;
/// let response = evaluator.eval(&EvalContext::with_data(serde_json::json!({"n": 21}))?)?;
/// assert_eq!(response.value(), &serde_json::json!(42));
/// # Ok::<(), polyscript_core::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct RhaiEngineBuilder {
    options: Options,
}

impl RhaiEngineBuilder {
    /// Default maximum nesting of expressions at global level.
    pub const DEFAULT_MAX_EXPR_DEPTH: usize = 64;
    /// Default maximum nesting of expressions inside functions.
    pub const DEFAULT_MAX_FUNCTION_EXPR_DEPTH: usize = 32;

    /// A builder with the defaults: simple optimization, no strict variables,
    /// no modules, no `eval`.
    pub fn new() -> Self {
        Self::default()
    }

    /// How much rhai optimizes the script when compiling it (default
    /// [`OptimizationLevel::Simple`]). `Full` evaluates pure-looking function
    /// calls on constants at compile time.
    pub fn optimization_level(mut self, level: OptimizationLevel) -> Self {
        self.options.optimization_level = level;
        self
    }

    /// Strict variables mode: using a variable that was never declared is a
    /// compile error (default off). `ctx` is always declared.
    pub fn strict_variables(mut self, strict: bool) -> Self {
        self.options.strict_variables = strict;
        self
    }

    /// Allows `eval("...")` of strings inside scripts (default off: `eval` is
    /// a disabled symbol, so a script using it does not compile).
    pub fn allow_eval(mut self, allow: bool) -> Self {
        self.options.allow_eval = allow;
        self
    }

    /// Grants `import`: each `rhai::Engine` of this configuration gets the
    /// resolver `make` returns. `make` is called once per engine built: one
    /// per compiled script, and one per thread that evaluates this
    /// configuration's scripts (all of them share it there, so a resolver
    /// that caches, like `FileModuleResolver`, serves them all from one
    /// cache; imported modules are read-only to scripts). Without this,
    /// every `import` fails with rhai's `DummyModuleResolver`.
    ///
    /// ```
    /// use polyscript_rhai::{RhaiEngine, rhai};
    ///
    /// let engine = RhaiEngine::builder()
    ///     .module_resolver(|| rhai::module_resolvers::FileModuleResolver::new_with_path("scripts"))
    ///     .build();
    /// # let _ = engine;
    /// ```
    pub fn module_resolver<R, F>(mut self, make: F) -> Self
    where
        R: ModuleResolver + 'static,
        F: Fn() -> R + Send + Sync + 'static,
    {
        self.options.module_resolver = Some(Arc::new(move |engine: &mut rhai::Engine| {
            engine.set_module_resolver(make());
        }));
        self
    }

    /// Maximum nesting of expressions, at global level and inside functions
    /// (defaults [`DEFAULT_MAX_EXPR_DEPTH`](Self::DEFAULT_MAX_EXPR_DEPTH) and
    /// [`DEFAULT_MAX_FUNCTION_EXPR_DEPTH`](Self::DEFAULT_MAX_FUNCTION_EXPR_DEPTH)).
    /// Deeper scripts fail to compile; this bounds the parser's recursion.
    pub fn max_expr_depths(mut self, global: usize, function: usize) -> Self {
        self.options.max_expr_depth = global.max(1);
        self.options.max_function_expr_depth = function.max(1);
        self
    }

    /// Offers the functions of `registry` to scripts as `host.NAME(...)`,
    /// the same call and the same registry as in every other polyscript
    /// engine (see [Host functions](crate#host-functions) in the crate
    /// docs). Without a registry `host` exists with nothing registered. The
    /// registry is shared, not copied: one registry can serve any number of
    /// engines. A later call replaces the registry.
    pub fn host_functions(mut self, registry: HostFunctions) -> Self {
        self.options.host = host::Binding::new(registry);
        self
    }

    /// Registers a native Rust function scripts can call (rhai's
    /// `Engine::register_fn`): `name(args...)`, with rhai's own argument
    /// types and overloading, no JSON conversion and no polyscript checks
    /// around the call (see [Host functions](crate#host-functions) for how
    /// it differs from [`host_functions`](Self::host_functions)).
    pub fn register_fn<A, const N: usize, const X: bool, R, const F: bool, Func>(
        mut self,
        name: impl Into<String>,
        func: Func,
    ) -> Self
    where
        A: 'static,
        R: Clone + Send + Sync + 'static,
        Func: RhaiNativeFunc<A, N, X, R, F> + Clone + Send + Sync + 'static,
    {
        let name = name.into();
        // Not through `configure`: a registered function sees only its
        // arguments, never the scope (and rhai calls no property getter on a
        // map), so `ctx.key` still reads just `key`.
        self.options.configure.push(Arc::new(move |engine| {
            engine.register_fn(name.as_str(), func.clone());
        }));
        self
    }

    /// Any other change to the `rhai::Engine` (register types, packages,
    /// custom syntax, custom operators...). Runs after the sandbox settings
    /// (so it may deliberately change them, e.g. `on_print`) and before
    /// polyscript's hooks and limits, which are always applied last: an
    /// `on_progress` set here is replaced by polyscript's (every limit but
    /// memory lives there), rhai's own operation counter is switched off, and
    /// each eval sets the call-level and size limits for its own limits. A
    /// function registered here under the name and signature of one
    /// polyscript replaces (see the crate docs, "Replaced standard functions")
    /// takes precedence over polyscript's. A variable resolver (`on_var`)
    /// set here replaces the one polyscript gives scripts that capture
    /// `host` in a closure: such a closure then fails to be created
    /// (`Variable not found: host`) unless the script copies `host` into a
    /// variable of its own first (`let h = host;`).
    ///
    /// As such a change may read the scope (custom syntax, `on_var`), an
    /// engine configured with it converts all of a large `ctx` on every eval
    /// (see the crate docs, "Large inputs").
    ///
    /// `f` runs once per `rhai::Engine` built: one per compiled script, and
    /// one per thread that evaluates this configuration's scripts, shared by
    /// all of them there (see the crate docs, "Compile once, isolated
    /// evals"). State `f` puts into the engine is therefore seen by every
    /// script of this configuration that runs on that thread.
    pub fn configure(mut self, f: impl Fn(&mut rhai::Engine) + Send + Sync + 'static) -> Self {
        self.options.configure.push(Arc::new(f));
        self.options.configured_freely = true;
        self
    }

    /// The engine.
    pub fn build(self) -> RhaiEngine {
        RhaiEngine::from_options(self.options)
    }
}
