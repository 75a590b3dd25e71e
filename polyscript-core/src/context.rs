//! The per-call context: data, deadline, cancellation and limit overrides.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cancel::CancelToken;
use crate::data::BoundedMap;
use crate::error::{Error, Result};
use crate::host::HostData;
use crate::limits::Limits;
use crate::provider::{deep_merge, to_data_map};
use crate::value::Map;

/// What one eval runs with: per-call data, an optional deadline, a
/// cancellation token and optional per-call [`Limits`].
///
/// This is go-polyscript's `context.Context` with its `eval_data` value.
/// Data lives in named slots; a [`ContextProvider`](crate::ContextProvider)
/// reads and writes the slot named by its key ([`EvalContext::DEFAULT_KEY`]
/// unless configured otherwise).
///
/// The data and limits are serde-serializable, so a context prepared on one
/// machine can be evaluated on another. The deadline and the cancellation
/// token are local to the process and are not serialized.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvalContext {
    #[serde(default, deserialize_with = "bounded_slots")]
    slots: BTreeMap<String, Map>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limits: Option<Limits>,
    #[serde(skip)]
    deadline: Option<Instant>,
    #[serde(skip)]
    cancel: CancelToken,
    #[serde(skip)]
    host_data: HostData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry_point: Option<String>,
}

impl EvalContext {
    /// The slot a default [`ContextProvider`](crate::ContextProvider) uses
    /// (go-polyscript's `eval_data`).
    pub const DEFAULT_KEY: &'static str = "eval_data";

    /// An empty context: no data, no deadline beyond the evaluator's limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context carrying `data` (any serde value that serializes to a map)
    /// in the default slot. Empty keys anywhere in the map are rejected with
    /// [`Error::InvalidData`] naming where they are.
    ///
    /// `data` is serialized by polyscript's own bounded serializer: a value
    /// nested deeper than [`Limits::MAX_DATA_DEPTH`], or holding a NaN or an
    /// infinity (which `serde_json::to_value` would turn into `null`), is
    /// [`Error::InvalidData`] naming the path to it.
    pub fn with_data(data: impl Serialize) -> Result<Self> {
        let mut ctx = Self::new();
        ctx.slots
            .insert(Self::DEFAULT_KEY.to_owned(), to_data_map(data)?);
        Ok(ctx)
    }

    /// The data in the default slot, if any.
    pub fn data(&self) -> Option<&Map> {
        self.slot(Self::DEFAULT_KEY)
    }

    /// The data in the slot named `key`, if any.
    pub fn slot(&self, key: &str) -> Option<&Map> {
        self.slots.get(key)
    }

    /// Deep-merges `data` into the slot named `key` (later values win, nested
    /// maps merge, lists and scalars are replaced). Empty keys and nesting
    /// past [`Limits::MAX_DATA_DEPTH`] are [`Error::InvalidData`]; the slot
    /// is then unchanged.
    pub fn merge_into_slot(&mut self, key: &str, data: Map) -> Result<()> {
        if key.is_empty() {
            return Err(Error::invalid_data("context slot key must not be empty"));
        }
        crate::provider::validate_keys(&data)?;
        match self.slots.get_mut(key) {
            // Both sides are within the bound, so the merge cannot fail.
            Some(existing) => deep_merge(existing, data)?,
            None => {
                self.slots.insert(key.to_owned(), data);
            }
        }
        Ok(())
    }

    /// A copy of this context without its data: same deadline, cancellation
    /// token, limits, host data and entry point (for handing the same budget
    /// to other evals).
    pub fn without_data(&self) -> Self {
        EvalContext {
            slots: BTreeMap::new(),
            limits: self.limits,
            deadline: self.deadline,
            cancel: self.cancel.clone(),
            host_data: self.host_data.clone(),
            entry_point: self.entry_point.clone(),
        }
    }

    /// This context with an absolute deadline for its evals.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// This context with a deadline `timeout` from now. A timeout too long
    /// for the clock to represent (e.g. `Duration::MAX`) means no deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Instant::now().checked_add(timeout);
        self
    }

    /// The deadline, if one was set.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// This context with a given cancellation token (keep a clone to cancel).
    pub fn with_cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = token;
        self
    }

    /// The cancellation token; clone it and call `cancel()` from any thread.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }

    /// This context with limits that replace the evaluator's for its evals.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The per-call limits, if set.
    pub fn limits(&self) -> Option<&Limits> {
        self.limits.as_ref()
    }

    /// This context with `value` attached for the host functions its evals
    /// call (one value per type: a request id, a tenant, a connection;
    /// see [`host::CallContext::data`](crate::host::CallContext::data)).
    /// Process-local: not serialized.
    pub fn with_host_data<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.host_data.insert(value);
        self
    }

    /// The host data attached to this context.
    pub fn host_data(&self) -> &HostData {
        &self.host_data
    }

    /// This context calling `name` instead of the evaluator's configured
    /// entry point: another export of a WebAssembly module, compiled once.
    /// Engines without entry points refuse it with
    /// [`Error::Unsupported`](crate::Error::Unsupported).
    pub fn with_entry_point(mut self, name: impl Into<String>) -> Self {
        self.entry_point = Some(name.into());
        self
    }

    /// The entry point this context asks for, if any.
    pub fn entry_point(&self) -> Option<&str> {
        self.entry_point.as_deref()
    }
}

/// Deserializes the slots with polyscript's bounds (depth, empty keys,
/// non-finite floats): a context from the wire is as trusted as one built
/// with [`EvalContext::with_data`].
fn bounded_slots<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<BTreeMap<String, Map>, D::Error> {
    struct Slots;

    impl<'de> serde::de::Visitor<'de> for Slots {
        type Value = BTreeMap<String, Map>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of named data slots")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut access: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut slots = BTreeMap::new();
            while let Some(key) = access.next_key::<String>()? {
                let map = access.next_value_seed(BoundedMap::new(Limits::MAX_DATA_DEPTH))?;
                slots.insert(key, map);
            }
            Ok(slots)
        }
    }

    deserializer.deserialize_map(Slots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use serde_json::json;

    #[test]
    fn serde_round_trip_keeps_data_and_limits() {
        let ctx = EvalContext::with_data(json!({"name": "Ada", "n": [1, 2]}))
            .unwrap()
            .with_limits(Limits::default().with_operations(7))
            .with_timeout(Duration::from_secs(1));
        let wire = serde_json::to_string(&ctx).unwrap();
        let back: EvalContext = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.data(), ctx.data());
        assert_eq!(back.limits().unwrap().operations, Some(7));
        // The deadline is process-local and deliberately not carried.
        assert!(back.deadline().is_none());
    }

    #[test]
    fn with_data_rejects_non_maps_and_empty_keys() {
        assert!(matches!(
            EvalContext::with_data(json!([1, 2])),
            Err(Error::InvalidData { .. })
        ));
        let err = EvalContext::with_data(json!({"user": {"": 1}})).unwrap_err();
        assert!(err.to_string().contains("user"), "{err}");
    }

    #[test]
    fn huge_timeouts_mean_no_deadline_instead_of_a_panic() {
        let ctx = EvalContext::new().with_timeout(Duration::MAX);
        assert!(ctx.deadline().is_none());
        assert!(
            EvalContext::new()
                .with_timeout(Duration::from_secs(1))
                .deadline()
                .is_some()
        );
    }

    #[test]
    fn deep_or_non_finite_data_is_refused_with_its_path() {
        let mut v = json!(1);
        for _ in 0..10_000 {
            v = Value::Array(vec![v]);
        }
        let data = Value::Object(Map::from_iter([("deep".to_owned(), v)]));
        let err = EvalContext::with_data(&data).unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }), "{err}");
        assert!(err.to_string().contains("ctx.deep[0][0]"), "{err}");
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || drop(data))
            .unwrap()
            .join()
            .unwrap();
        #[derive(Serialize)]
        struct Reading {
            value: f64,
        }
        let err = EvalContext::with_data(Reading { value: f64::NAN }).unwrap_err();
        assert!(err.to_string().contains("ctx.value"), "{err}");
    }

    #[test]
    fn deserializing_is_bounded() {
        let deep = format!(
            r#"{{"slots": {{"eval_data": {{"a": {}1{}}}}}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(serde_json::from_str::<EvalContext>(&deep).is_ok());
        let empty_key = r#"{"slots": {"eval_data": {"": 1}}}"#;
        assert!(serde_json::from_str::<EvalContext>(empty_key).is_err());
    }

    #[test]
    fn merging_into_a_slot_is_deep() {
        let mut ctx = EvalContext::with_data(json!({"a": {"x": 1}})).unwrap();
        ctx.merge_into_slot(
            EvalContext::DEFAULT_KEY,
            json!({"a": {"y": 2}}).as_object().unwrap().clone(),
        )
        .unwrap();
        assert_eq!(ctx.data().unwrap()["a"], json!({"x": 1, "y": 2}));
    }
}
