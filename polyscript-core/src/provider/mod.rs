//! Where a script's input comes from: go-polyscript's three providers.
//!
//! * [`StaticProvider`]: fixed data given when the evaluator is created.
//! * [`ContextProvider`]: per-call data carried by the [`EvalContext`].
//! * [`CompositeProvider`]: asks each provider in order and deep-merges their
//!   maps; later values win, nested maps merge, lists and scalars are replaced.
//!
//! [`Provider`] is public so programs can add their own (environment, a config
//! file, a database row).

mod merge;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::context::EvalContext;
use crate::error::{Error, Result};
use crate::input::EvalInput;
use crate::value::Map;

pub use merge::deep_merge;
pub(crate) use merge::validate_keys;

/// A source of input data for evals.
pub trait Provider: Send + Sync + fmt::Debug {
    /// The data for one eval. Borrow where possible: this runs on every eval.
    fn data<'a>(&'a self, ctx: &'a EvalContext) -> Result<Cow<'a, Map>>;

    /// The data for one eval as the engine reads it: [`data`](Self::data)
    /// as one layer by default. A provider that combines others returns
    /// their maps as layers (see [`EvalInput`]) so that nothing is copied
    /// to merge them; the evaluator calls this one.
    fn input<'a>(&'a self, ctx: &'a EvalContext) -> Result<EvalInput<'a>> {
        self.data(ctx).map(EvalInput::new)
    }

    /// Stores `data` for later evals in (a copy of) `ctx`: go-polyscript's
    /// `AddDataToContext`. Providers that cannot hold runtime data return
    /// [`Error::InvalidData`] rather than dropping it.
    fn add_data(&self, ctx: EvalContext, data: Map) -> Result<EvalContext>;

    /// Whether [`add_data`](Self::add_data) can succeed.
    fn accepts_runtime_data(&self) -> bool;
}

/// Converts any serde value into a data map: non-maps, empty keys,
/// non-finite floats and nesting past [`Limits::MAX_DATA_DEPTH`] are
/// [`Error::InvalidData`] (see [`data::to_map`](crate::data::to_map)).
///
/// [`Limits::MAX_DATA_DEPTH`]: crate::Limits::MAX_DATA_DEPTH
pub(crate) fn to_data_map(data: impl Serialize) -> Result<Map> {
    crate::data::to_map(&data)
}

/// Fixed data given at creation; refuses runtime data.
#[derive(Debug, Clone, Default)]
pub struct StaticProvider {
    /// Shared so that an eval handed to another thread (JavaScript's
    /// workers) shares it instead of copying it (see [`EvalInput::shared`]).
    data: Arc<Map>,
}

impl StaticProvider {
    /// A provider that always returns `data` (a serde value that serializes
    /// to a map). Empty keys are rejected.
    pub fn new(data: impl Serialize) -> Result<Self> {
        Ok(StaticProvider {
            data: Arc::new(to_data_map(data)?),
        })
    }

    /// The fixed data (named `as_map`, not `data`, so that it does not
    /// shadow [`Provider::data`]).
    pub fn as_map(&self) -> &Map {
        &self.data
    }
}

impl Provider for StaticProvider {
    fn data<'a>(&'a self, _ctx: &'a EvalContext) -> Result<Cow<'a, Map>> {
        Ok(Cow::Borrowed(&self.data))
    }

    fn input<'a>(&'a self, _ctx: &'a EvalContext) -> Result<EvalInput<'a>> {
        Ok(EvalInput::shared(&self.data))
    }

    fn add_data(&self, _ctx: EvalContext, data: Map) -> Result<EvalContext> {
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        Err(Error::invalid_data(format!(
            "a static provider does not accept runtime data (keys: {}); use a \
             ContextProvider or a CompositeProvider that holds one",
            keys.join(", ")
        )))
    }

    fn accepts_runtime_data(&self) -> bool {
        false
    }
}

/// Per-call data carried by the [`EvalContext`] in the slot named by its key.
#[derive(Debug, Clone)]
pub struct ContextProvider {
    key: Cow<'static, str>,
}

impl ContextProvider {
    /// A provider reading the default slot ([`EvalContext::DEFAULT_KEY`]).
    pub fn new() -> Self {
        ContextProvider {
            key: Cow::Borrowed(EvalContext::DEFAULT_KEY),
        }
    }

    /// A provider reading the slot named `key`; an empty key is an error.
    pub fn with_key(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        if key.is_empty() {
            return Err(Error::invalid_data(
                "context provider key must not be empty",
            ));
        }
        Ok(ContextProvider {
            key: Cow::Owned(key),
        })
    }

    /// The slot this provider reads and writes.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl Default for ContextProvider {
    fn default() -> Self {
        Self::new()
    }
}

static EMPTY: std::sync::LazyLock<Map> = std::sync::LazyLock::new(Map::new);

impl Provider for ContextProvider {
    fn data<'a>(&'a self, ctx: &'a EvalContext) -> Result<Cow<'a, Map>> {
        Ok(Cow::Borrowed(ctx.slot(&self.key).unwrap_or(&EMPTY)))
    }

    fn add_data(&self, mut ctx: EvalContext, data: Map) -> Result<EvalContext> {
        ctx.merge_into_slot(&self.key, data)?;
        Ok(ctx)
    }

    fn accepts_runtime_data(&self) -> bool {
        true
    }
}

/// Asks each provider in order and deep-merges what they return.
#[derive(Debug, Clone, Default)]
pub struct CompositeProvider {
    providers: Vec<Arc<dyn Provider>>,
}

impl CompositeProvider {
    /// An empty composite; add providers with [`with`](Self::with).
    pub fn new() -> Self {
        Self::default()
    }

    /// This composite with `provider` appended (its values win over earlier ones).
    pub fn with(mut self, provider: impl Provider + 'static) -> Self {
        self.providers.push(Arc::new(provider));
        self
    }

    /// This composite with a shared provider appended.
    pub fn with_shared(mut self, provider: Arc<dyn Provider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// The providers, in the order they are asked.
    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.providers
    }
}

impl Provider for CompositeProvider {
    /// The layers of [`input`](Provider::input) merged into one map
    /// (borrowed when only one provider has data).
    fn data<'a>(&'a self, ctx: &'a EvalContext) -> Result<Cow<'a, Map>> {
        self.input(ctx)?
            .into_map()
            .map_err(|e| e.into_plain_error("ctx"))
    }

    /// Each provider's layers over the previous ones, merged only where an
    /// engine reads them (the static data is never copied per eval).
    fn input<'a>(&'a self, ctx: &'a EvalContext) -> Result<EvalInput<'a>> {
        let mut input = EvalInput::new(Cow::Borrowed(&EMPTY));
        for provider in &self.providers {
            input.push_layers(provider.input(ctx)?);
        }
        Ok(input)
    }

    fn add_data(&self, ctx: EvalContext, data: Map) -> Result<EvalContext> {
        validate_keys(&data)?;
        let mut ctx = ctx;
        let mut accepted = false;
        for provider in self.providers.iter().filter(|p| p.accepts_runtime_data()) {
            ctx = provider.add_data(ctx, data.clone())?;
            accepted = true;
        }
        if accepted {
            Ok(ctx)
        } else {
            Err(Error::invalid_data(
                "no provider in this composite accepts runtime data; add a ContextProvider",
            ))
        }
    }

    fn accepts_runtime_data(&self) -> bool {
        self.providers.iter().any(|p| p.accepts_runtime_data())
    }
}

#[cfg(test)]
mod tests;
