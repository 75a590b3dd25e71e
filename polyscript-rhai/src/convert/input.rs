//! `serde_json` → rhai: the eval's input as the map scripts see as `ctx`,
//! and host functions' results.

use polyscript_core::data::{self, Budget, DataError, IntOrFloat};
use polyscript_core::{EvalInput, Map, Value};
use rhai::Dynamic;

use crate::reads::CtxReads;

/// Inputs with fewer top-level entries than this are converted whole even
/// when the script reads only some: walking a small map costs less than
/// looking each key up (the greeting's one-key input stays as cheap).
const PROJECT_FROM: usize = 16;

/// The input as a rhai object map (depth 1 is the map itself), holding
/// only the entries the script can read (`reads`) when the input is large.
/// A layered input (a composite provider's) is merged entry by entry, so
/// a projection copies only the entries it holds.
pub(crate) fn to_rhai(
    input: &EvalInput<'_>,
    reads: &CtxReads,
    budget: &mut Budget,
) -> Result<Dynamic, DataError> {
    budget.enter(1)?;
    budget.charge_value()?;
    match reads {
        CtxReads::Keys(keys) if input.len_at_least(PROJECT_FROM.max(keys.len() + 1)) => {
            projection(input, keys, budget).map(Dynamic::from_map)
        }
        _ => map(&*input.to_map()?, 1, budget).map(Dynamic::from_map),
    }
}

/// The entries of `input` named in `keys` (those present).
fn projection(
    input: &EvalInput<'_>,
    keys: &[String],
    budget: &mut Budget,
) -> Result<rhai::Map, DataError> {
    let mut out = rhai::Map::new();
    for key in keys {
        let Some(value) = input.get(key).map_err(|e| e.at_key(key.as_str()))? else {
            continue;
        };
        budget.charge_bytes(key.len())?;
        let value = convert(&value, 1, budget).map_err(|e| e.at_key(key.as_str()))?;
        out.insert(key.as_str().into(), value);
    }
    Ok(out)
}

/// A host function's result as a rhai value (depth 1 is its outermost
/// container).
pub(crate) fn value_to_rhai(value: &Value, budget: &mut Budget) -> Result<Dynamic, DataError> {
    convert(value, 0, budget)
}

fn map(input: &Map, depth: u32, budget: &mut Budget) -> Result<rhai::Map, DataError> {
    data::with_stack(|| {
        let mut out = rhai::Map::new();
        for (key, value) in input {
            budget.charge_bytes(key.len())?;
            let value = convert(value, depth, budget).map_err(|e| e.at_key(key.as_str()))?;
            out.insert(key.as_str().into(), value);
        }
        Ok(out)
    })
}

fn array(input: &[Value], depth: u32, budget: &mut Budget) -> Result<rhai::Array, DataError> {
    data::with_stack(|| {
        let mut out = rhai::Array::with_capacity(input.len());
        for (index, value) in input.iter().enumerate() {
            out.push(convert(value, depth, budget).map_err(|e| e.at_index(index))?);
        }
        Ok(out)
    })
}

/// One value inside a container at `depth`.
fn convert(value: &Value, depth: u32, budget: &mut Budget) -> Result<Dynamic, DataError> {
    budget.charge_value()?;
    Ok(match value {
        Value::String(s) => {
            budget.charge_bytes(s.len())?;
            Dynamic::from(rhai::ImmutableString::from(s.as_str()))
        }
        Value::Number(n) => match data::i64_from_json(n)? {
            IntOrFloat::Int(i) => Dynamic::from_int(i),
            IntOrFloat::Float(f) => Dynamic::from_float(f),
        },
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Null => Dynamic::UNIT,
        Value::Object(m) => {
            budget.enter(depth + 1)?;
            Dynamic::from_map(map(m, depth + 1, budget)?)
        }
        Value::Array(a) => {
            budget.enter(depth + 1)?;
            Dynamic::from_array(array(a, depth + 1, budget)?)
        }
    })
}
