//! Host functions: Rust functions a script calls, registered once for every
//! engine.
//!
//! A [`HostFunctions`] registry maps names to Rust closures whose arguments
//! and result are serde types. It is `Send + Sync` and cheap to clone (an
//! `Arc`), so one registry serves any number of evaluators of any engine:
//! each engine's builder takes it (`.host_functions(registry)`) and binds it
//! to its own mechanism when it builds an instance. Scripts see every
//! function as a method of one global object, `host`:
//!
//! | engine | call | failure the script can catch |
//! |---|---|---|
//! | Rhai | `host.price("sku-1", 2)` | `try { … } catch (e) { … }` |
//! | Lua | `host.price("sku-1", 2)` | `pcall(host.price, "sku-1", 2)` |
//! | JavaScript | `host.price("sku-1", 2)` | `try { … } catch (e) { … }` |
//! | Extism | an import from the `polyscript` namespace, JSON in and out | the guest's error path |
//! | WASI | the `polyscript_host` import ABI (see `polyscript-wasm`) | a non-zero status |
//!
//! ```
//! use polyscript_core::host::{CallContext, HostError, HostFunctions};
//!
//! #[derive(serde::Serialize)]
//! struct Price { sku: String, cents: u64 }
//!
//! let host = HostFunctions::new()
//!     .register("price", |(sku, qty): (String, u64)| -> Result<Price, HostError> {
//!         if sku.is_empty() {
//!             return Err(HostError::new("no such product"));
//!         }
//!         Ok(Price { sku, cents: 250 * qty })
//!     })
//!     .register_with_context("tenant", |call: &CallContext<'_>, (): ()| {
//!         Ok(call.data::<String>().cloned().unwrap_or_default())
//!     });
//! assert!(host.contains("price") && host.contains("tenant"));
//! ```
//!
//! # Arguments and results
//!
//! Positional arguments arrive as JSON values (each engine converts its own
//! values by its value table and the number rule of [`data`](crate::data))
//! and are deserialized one by one into the closure's argument tuple, so a
//! wrong type names the argument (`price: argument 2: invalid type: string
//! "x", expected u64`) and a wrong count says how many the function takes.
//! A closure taking `Vec<Value>` accepts any arguments. The result is
//! serialized with polyscript's bounded serializer; converting it into the
//! engine counts against the eval's data depth and memory limit like any
//! input.
//!
//! # Errors, panics and limits
//!
//! * An `Err(HostError)` is raised inside the script as that language's
//!   catchable error, with the message `NAME: MESSAGE`; uncaught, the eval
//!   ends with [`Error::Runtime`](crate::Error::Runtime) carrying it.
//! * A panic inside a host function is caught and becomes such an error; it
//!   never unwinds through an engine's C or wasm frames.
//! * Before each call the eval's deadline and cancellation token are
//!   checked: a call from an eval that is past its deadline or cancelled
//!   fails at once and ends the eval (uncatchably) with `Timeout` /
//!   `Cancelled`. Time spent inside a host function counts against the
//!   deadline; [`CallContext::remaining`] tells a slow function how long it
//!   has, and the eval is stopped right after a call that overran it.
//! * Host functions are the only capability scripts get by default; calling
//!   a name that is not registered is an error in every engine.

mod args;
mod call;
mod data;
mod error;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde::Serialize;

pub use args::HostArgs;
pub use call::{CallContext, HostCallInfo};
pub use data::HostData;
pub use error::{HostCallError, HostCallErrorKind, HostError};

use crate::engine::Guard;
use crate::value::Value;

/// The type-erased body of one host function.
type Body = dyn Fn(&CallContext<'_>, &[Value]) -> Result<Value, HostCallError> + Send + Sync;

/// One registered host function.
#[derive(Clone)]
pub struct HostFunction {
    name: Arc<str>,
    body: Arc<Body>,
}

impl HostFunction {
    /// The name scripts call it by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Calls the function with `args` for the eval `guard` describes — the
    /// fast path for engines, which look a function up once when they bind
    /// it: checks cancellation first (a cancelled eval's next call fails at
    /// once), catches a panic, and checks the deadline and cancellation
    /// after the call (a call that outlasted the deadline ends the eval).
    /// Engines turn an [`Interrupted`](HostCallErrorKind::Interrupted) error
    /// into their own uncatchable stop and every other kind into a
    /// catchable script error.
    pub fn call(&self, args: &[Value], guard: &Guard<'_>) -> Result<Value, HostCallError> {
        if guard.cancel_token().is_cancelled() {
            return Err(HostCallError::interrupted(guard.cancelled_error()));
        }
        let call = CallContext::new(guard, &self.name);
        let outcome = catch_unwind(AssertUnwindSafe(|| (self.body)(&call, args)));
        let result = match outcome {
            Ok(result) => result,
            Err(payload) => Err(HostCallError::failed(
                &self.name,
                format!(
                    "panicked: {}",
                    crate::error::panic_message(payload.as_ref())
                ),
            )),
        };
        guard.check().map_err(HostCallError::interrupted)?;
        result
    }
}

impl fmt::Debug for HostFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostFunction")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A registry of host functions, built once and shared by every evaluator
/// that should offer them (see the [module docs](self)).
#[derive(Clone, Default)]
pub struct HostFunctions {
    functions: Arc<BTreeMap<String, HostFunction>>,
}

impl HostFunctions {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `f` as `name`: `f` takes its arguments as a tuple of serde
    /// types (`()`, `(String,)`, `(String, u64)`, …, or `Vec<Value>` for
    /// any) and returns any serializable result. A later registration of the
    /// same name replaces the earlier one.
    ///
    /// # Panics
    /// If `name` is not a valid identifier (`[A-Za-z_][A-Za-z0-9_]*`): every
    /// engine must be able to call it as `host.NAME(...)`.
    pub fn register<A, R, F>(self, name: impl Into<String>, f: F) -> Self
    where
        A: HostArgs,
        R: Serialize,
        F: Fn(A) -> Result<R, HostError> + Send + Sync + 'static,
    {
        self.register_with_context(name, move |_: &CallContext<'_>, args: A| f(args))
    }

    /// Like [`register`](Self::register) for a function that also receives
    /// the [`CallContext`]: the eval's deadline, cancellation token, script
    /// id, engine and the host data attached to its
    /// [`EvalContext`](crate::EvalContext).
    ///
    /// # Panics
    /// If `name` is not a valid identifier (see [`register`](Self::register)).
    pub fn register_with_context<A, R, F>(mut self, name: impl Into<String>, f: F) -> Self
    where
        A: HostArgs,
        R: Serialize,
        F: Fn(&CallContext<'_>, A) -> Result<R, HostError> + Send + Sync + 'static,
    {
        let name = name.into();
        assert!(
            is_identifier(&name),
            "host function names must be identifiers, got {name:?}"
        );
        let shared: Arc<str> = Arc::from(name.as_str());
        let fn_name = Arc::clone(&shared);
        let body = move |call: &CallContext<'_>, args: &[Value]| {
            let args = A::from_values(args).map_err(|e| HostCallError::arguments(&fn_name, e))?;
            let result = f(call, args).map_err(|e| match e.into_interrupt() {
                Ok(stop) => HostCallError::interrupted(stop),
                Err(e) => HostCallError::failed(&fn_name, e.message()),
            })?;
            crate::data::to_value(&result, call.guard().limits().effective_data_depth())
                .map_err(|e| HostCallError::failed(&fn_name, format!("its result: {e}")))
        };
        Arc::make_mut(&mut self.functions).insert(
            name,
            HostFunction {
                name: shared,
                body: Arc::new(body),
            },
        );
        self
    }

    /// Registers an async host function: `f` returns a future, which the
    /// eval waits for (the script sees an ordinary call that returns the
    /// value). The wait happens on the eval's thread — one of polyscript's
    /// eval threads under [`eval_async`](crate::AnyEvaluator::eval_async),
    /// so the caller's executor is never blocked — and is bounded by the
    /// eval's deadline and cancellation (the future is dropped when either
    /// strikes, and the eval ends with `Timeout` / `Cancelled`). With the
    /// `tokio` feature, futures that need tokio's runtime (timers, I/O) work
    /// when the eval was started with `eval_async` from inside a runtime.
    ///
    /// ```
    /// use polyscript_core::host::HostFunctions;
    ///
    /// let host = HostFunctions::new().register_async("lookup", |(id,): (u64,)| async move {
    ///     // e.g. a database query
    ///     Ok(format!("user-{id}"))
    /// });
    /// assert!(host.contains("lookup"));
    /// ```
    ///
    /// # Panics
    /// If `name` is not a valid identifier (see [`register`](Self::register)).
    pub fn register_async<A, R, Fut, F>(self, name: impl Into<String>, f: F) -> Self
    where
        A: HostArgs,
        R: Serialize,
        Fut: Future<Output = Result<R, HostError>> + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
    {
        self.register_async_with_context(name, move |_: HostCallInfo, args: A| f(args))
    }

    /// Like [`register_async`](Self::register_async) for a function that
    /// also receives the [`HostCallInfo`] of the call (an owned
    /// [`CallContext`], since the future outlives the borrow).
    ///
    /// # Panics
    /// If `name` is not a valid identifier (see [`register`](Self::register)).
    pub fn register_async_with_context<A, R, Fut, F>(self, name: impl Into<String>, f: F) -> Self
    where
        A: HostArgs,
        R: Serialize,
        Fut: Future<Output = Result<R, HostError>> + Send + 'static,
        F: Fn(HostCallInfo, A) -> Fut + Send + Sync + 'static,
    {
        self.register_with_context(name, move |call: &CallContext<'_>, args: A| {
            let future = f(HostCallInfo::of(call), args);
            crate::async_eval::block_on_bounded(future, call.guard())
                .map_err(HostError::interrupt)?
        })
    }

    /// Whether a function named `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.functions.contains_key(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }

    /// Whether no function is registered.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The function named `name`.
    pub fn get(&self, name: &str) -> Option<&HostFunction> {
        self.functions.get(name)
    }

    /// Calls `name` with `args` for the eval `guard` describes (see
    /// [`HostFunction::call`]); a name that is not registered is a
    /// [`NotFound`](HostCallErrorKind::NotFound) error listing the names
    /// that are.
    pub fn call(
        &self,
        name: &str,
        args: &[Value],
        guard: &Guard<'_>,
    ) -> Result<Value, HostCallError> {
        match self.functions.get(name) {
            Some(function) => function.call(args, guard),
            None => Err(HostCallError::not_found(name, self.names())),
        }
    }
}

impl fmt::Debug for HostFunctions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
