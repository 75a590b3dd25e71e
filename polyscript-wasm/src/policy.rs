//! Whether an instance keeps its state between evals.

/// How WASM instances are used across evals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InstancePolicy {
    /// A fresh, fully isolated instance for every eval (the default): nothing
    /// one eval writes to linear memory or globals is seen by the next.
    #[default]
    Fresh,
    /// Pooled instances that keep their state (linear memory, globals)
    /// between evals, for modules that are stateful on purpose (the seed's
    /// `set_state` / `get_state`). Must be chosen explicitly.
    Stateful,
}
