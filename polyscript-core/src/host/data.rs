//! [`HostData`]: typed, per-eval values the embedding program hands to its
//! host functions through the [`EvalContext`](crate::EvalContext).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A small type map: at most one value per type (a request id, a tenant, a
/// database handle). Cloning shares the values. Process-local: never
/// serialized with the context.
#[derive(Clone, Default)]
pub struct HostData {
    values: Option<Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>,
}

impl HostData {
    /// Stores `value`, replacing any earlier value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let values = self.values.get_or_insert_with(Default::default);
        Arc::make_mut(values).insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was stored.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values
            .as_ref()?
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.values.as_ref().is_none_or(|v| v.is_empty())
    }
}

impl fmt::Debug for HostData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.values.as_ref().map_or(0, |v| v.len());
        write!(f, "HostData({count} values)")
    }
}
