//! [`EvalInput`]: the input of one eval, its layers merged where read.

use std::borrow::Cow;
use std::ops::Deref;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::data::{DataError, deep_merge_checked};
use crate::limits::Limits;
use crate::value::{Map, Value};

/// One eval's input, as engines read it: the providers' maps, deep-merged
/// when an engine reads them rather than copied into one map first.
///
/// A [`CompositeProvider`](crate::CompositeProvider) over large static data
/// and small per-call data would otherwise copy the static map on every
/// eval just to merge the call's few keys into it. [`EvalInput`] keeps the
/// maps as layers instead: a read of one key looks it up in each layer and
/// merges only that entry, and only when two layers both hold a map there.
/// Nothing is copied for a key that one layer alone holds, so an eval that
/// reads one key of 10 000 costs one key (with the lazy `ctx` of the
/// script engines).
///
/// The layers give exactly what [`deep_merge`](crate::deep_merge) of them
/// in order gives: later values win, maps present in consecutive layers
/// merge recursively, lists and scalars are replaced whole, and the keys
/// come in the order the merge would leave them (the first layer's, then
/// each later layer's new keys).
///
/// Built by [`Provider::input`](crate::Provider::input); an engine test can
/// make one from a map with `EvalInput::from(&map)`.
#[derive(Debug, Clone)]
pub struct EvalInput<'a> {
    /// The first layer, the only one in the common case.
    first: Layer<'a>,
    /// Later layers, each winning over the ones before it.
    rest: Vec<Layer<'a>>,
}

/// One map of an [`EvalInput`].
#[derive(Debug, Clone)]
enum Layer<'a> {
    /// Borrowed from a provider or the context.
    Borrowed(&'a Map),
    /// Made for this eval.
    Owned(Map),
    /// A provider's map that outlives any one eval ([`StaticProvider`]'s),
    /// borrowed: [`EvalInput::to_static`] shares it instead of copying it.
    ///
    /// [`StaticProvider`]: crate::StaticProvider
    SharedRef(&'a Arc<Map>),
    /// The same, shared (in an input made by [`EvalInput::to_static`]).
    Shared(Arc<Map>),
}

impl Deref for Layer<'_> {
    type Target = Map;

    #[inline]
    fn deref(&self) -> &Map {
        match self {
            Layer::Borrowed(map) => map,
            Layer::Owned(map) => map,
            Layer::SharedRef(map) => map,
            Layer::Shared(map) => map,
        }
    }
}

impl<'a> From<Cow<'a, Map>> for Layer<'a> {
    #[inline]
    fn from(map: Cow<'a, Map>) -> Self {
        match map {
            Cow::Borrowed(map) => Layer::Borrowed(map),
            Cow::Owned(map) => Layer::Owned(map),
        }
    }
}

impl<'a> Layer<'a> {
    /// The layer as a map that lives as long as it was borrowed for.
    fn into_cow(self) -> Cow<'a, Map> {
        match self {
            Layer::Borrowed(map) => Cow::Borrowed(map),
            Layer::Owned(map) => Cow::Owned(map),
            Layer::SharedRef(map) => Cow::Borrowed(&**map),
            Layer::Shared(map) => Cow::Owned(Arc::unwrap_or_clone(map)),
        }
    }

    /// The layer without borrows: copied, unless it is shared.
    fn to_static(&self) -> Layer<'static> {
        match self {
            Layer::Borrowed(map) => Layer::Owned((*map).clone()),
            Layer::Owned(map) => Layer::Owned(map.clone()),
            Layer::SharedRef(map) => Layer::Shared(Arc::clone(map)),
            Layer::Shared(map) => Layer::Shared(Arc::clone(map)),
        }
    }
}

impl<'a> EvalInput<'a> {
    /// An input of one map.
    pub fn new(map: Cow<'a, Map>) -> Self {
        Self::of_layer(map.into())
    }

    /// An input of one map that a provider keeps for longer than any eval
    /// (its fixed data): read like any other, and shared rather than copied
    /// by [`to_static`](Self::to_static).
    pub fn shared(map: &'a Arc<Map>) -> Self {
        Self::of_layer(Layer::SharedRef(map))
    }

    fn of_layer(first: Layer<'a>) -> Self {
        EvalInput {
            first,
            rest: Vec::new(),
        }
    }

    /// This input without borrows, for an eval that runs on another thread
    /// and may outlive the caller's data (JavaScript's worker threads): the
    /// layers are copied, except those given by [`shared`](Self::shared),
    /// whose maps are shared. So a large static map is not copied per eval.
    pub fn to_static(&self) -> EvalInput<'static> {
        EvalInput {
            first: self.first.to_static(),
            rest: self.rest.iter().map(Layer::to_static).collect(),
        }
    }

    /// Adds `layer` over the ones already there (its values win). An empty
    /// layer changes nothing and is not kept.
    pub fn push_layer(&mut self, layer: Cow<'a, Map>) {
        self.push(layer.into());
    }

    fn push(&mut self, layer: Layer<'a>) {
        if layer.is_empty() {
            return;
        }
        if self.first.is_empty() && self.rest.is_empty() {
            self.first = layer;
        } else {
            self.rest.push(layer);
        }
    }

    /// Adds every layer of `other` over the ones already there.
    pub fn push_layers(&mut self, other: EvalInput<'a>) {
        self.push(other.first);
        for layer in other.rest {
            self.push(layer);
        }
    }

    /// The input as one map when it has a single layer (the common case):
    /// engines read it directly then.
    #[inline]
    pub fn as_map(&self) -> Option<&Map> {
        self.rest.is_empty().then_some(&*self.first)
    }

    /// The layers, first to last.
    fn layers(&self) -> impl DoubleEndedIterator<Item = &Map> {
        std::iter::once(&*self.first).chain(self.rest.iter().map(|l| &**l))
    }

    /// Whether the input has no entries.
    pub fn is_empty(&self) -> bool {
        self.layers().all(Map::is_empty)
    }

    /// The number of distinct top-level keys.
    pub fn len(&self) -> usize {
        match self.as_map() {
            Some(map) => map.len(),
            None => self.keys().count(),
        }
    }

    /// Whether the input has at least `n` distinct top-level keys: what an
    /// engine asks to choose between converting a `ctx` whole and lazily.
    /// Costs nothing per entry when one layer alone has `n` keys (a wide
    /// static map), unlike [`len`](Self::len), which visits every key.
    #[inline]
    pub fn len_at_least(&self, n: usize) -> bool {
        if let Some(map) = self.as_map() {
            return map.len() >= n;
        }
        self.layers().any(|layer| layer.len() >= n)
            || self.keys().nth(n.saturating_sub(1)).is_some()
    }

    /// Whether any layer holds `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.layers().any(|layer| layer.contains_key(key))
    }

    /// The top-level keys, in the merged map's order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.layers().enumerate().flat_map(move |(i, layer)| {
            layer
                .keys()
                .filter(move |key| !self.layers().take(i).any(|e| e.contains_key(key.as_str())))
                .map(String::as_str)
        })
    }

    /// The value of `key` as the merge of all layers would hold it:
    /// borrowed unless two or more layers hold maps there that must merge.
    /// The error is a merge nested past [`Limits::MAX_DATA_DEPTH`] (on both
    /// sides); its path starts below `key`, as a converter's error on the
    /// value would (the caller adds the key).
    pub fn get(&self, key: &str) -> Result<Option<Cow<'_, Value>>, DataError> {
        if let Some(map) = self.as_map() {
            return Ok(map.get(key).map(Cow::Borrowed));
        }
        // From the last layer back: the winning value, and the maps of
        // earlier layers it merges with (up to one that holds a non-map,
        // which the merge replaced).
        let mut held = self.layers().rev().filter_map(|layer| layer.get(key));
        let Some(last) = held.next() else {
            return Ok(None);
        };
        let Value::Object(_) = last else {
            return Ok(Some(Cow::Borrowed(last)));
        };
        let mut maps: Vec<&Map> = vec![];
        for value in std::iter::once(last).chain(held) {
            match value {
                Value::Object(map) => maps.push(map),
                _ => break,
            }
        }
        if maps.len() == 1 {
            return Ok(Some(Cow::Borrowed(last)));
        }
        let mut layers = maps.into_iter().rev();
        let mut merged = layers.next().cloned().unwrap_or_default();
        for layer in layers {
            deep_merge_checked(&mut merged, layer.clone(), 2, Limits::MAX_DATA_DEPTH)?;
        }
        Ok(Some(Cow::Owned(Value::Object(merged))))
    }

    /// The entries in the merged map's order, each as [`get`](Self::get)
    /// gives it.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Result<Cow<'_, Value>, DataError>)> {
        self.keys().map(move |key| {
            let value = self
                .get(key)
                .map(|v| v.expect("a listed key is held by a layer"));
            (key, value)
        })
    }

    /// The input as one map: borrowed when it has one layer, merged (a
    /// copy) otherwise. For engines that convert every entry anyway.
    #[inline]
    pub fn to_map(&self) -> Result<Cow<'_, Map>, DataError> {
        match self.as_map() {
            Some(map) => Ok(Cow::Borrowed(map)),
            None => self.merged().map(Cow::Owned),
        }
    }

    /// Like [`to_map`](Self::to_map), giving up the input: a single layer
    /// comes back as it was given (borrowed stays borrowed).
    pub fn into_map(self) -> Result<Cow<'a, Map>, DataError> {
        if self.rest.is_empty() {
            return Ok(self.first.into_cow());
        }
        self.merged().map(Cow::Owned)
    }

    /// The layers merged into a new map.
    #[cold]
    fn merged(&self) -> Result<Map, DataError> {
        let mut merged = Map::new();
        for (key, value) in self.iter() {
            merged.insert(
                key.to_owned(),
                value.map_err(|e| e.at_key(key))?.into_owned(),
            );
        }
        Ok(merged)
    }
}

impl<'a> From<&'a Map> for EvalInput<'a> {
    fn from(map: &'a Map) -> Self {
        EvalInput::new(Cow::Borrowed(map))
    }
}

impl From<Map> for EvalInput<'static> {
    fn from(map: Map) -> Self {
        EvalInput::new(Cow::Owned(map))
    }
}

impl<'a> From<Cow<'a, Map>> for EvalInput<'a> {
    fn from(map: Cow<'a, Map>) -> Self {
        EvalInput::new(map)
    }
}

/// Serializes as the merged map, without building it.
impl Serialize for EvalInput<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(map) = self.as_map() {
            return map.serialize(serializer);
        }
        let mut out = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            let value = value.map_err(|e| {
                let e = e.at_key(key);
                serde::ser::Error::custom(format_args!("{} at {}", e.kind(), e.path("ctx")))
            })?;
            out.serialize_entry(key, &*value)?;
        }
        out.end()
    }
}

#[cfg(test)]
mod tests;
