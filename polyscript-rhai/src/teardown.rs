//! Dropping what an eval leaves (its scope, its result) without recursion,
//! and without leaking reference cycles reachable from it.
//!
//! Dropping a rhai value recurses once per nesting level, and a closure that
//! captures a variable holding itself (`let f = 0; f = || f.call();`) is a
//! reference cycle that is never freed. After the eval nothing can observe
//! these values any more (the result has been converted), so [`dismantle`]
//! takes them apart with a work list: every array, map, captured variable
//! and function pointer is emptied into the list before it is dropped, which
//! drops each value shallowly and breaks every cycle it reaches. A flat
//! value (a scalar, or a container of scalars: almost every eval's scope and
//! result) is dropped directly, with no list.
//!
//! Cycles a script creates and drops *during* the eval (in an inner block)
//! are not reachable here; rhai cannot free them.

use rhai::{Dynamic, FnPtr, Scope};

use crate::convert::is_flat;

/// Drops what an eval left in `scope`: directly when every value is flat
/// (no allocation), else taken apart.
pub(crate) fn dismantle_scope(scope: Scope<'_>) {
    if scope.iter_raw().all(|(_, _, value)| is_flat(value)) {
        drop(scope);
    } else {
        dismantle(scope.into_iter().map(|(_, value, _)| value));
    }
}

/// Drops `values`, taking apart the ones that are not flat.
pub(crate) fn dismantle(values: impl IntoIterator<Item = Dynamic>) {
    let mut work = Vec::new();
    for value in values {
        if is_flat(&value) {
            drop(value);
        } else {
            work.push(value);
        }
    }
    while let Some(mut value) = work.pop() {
        empty_into(&mut value, &mut work);
    }
}

/// Moves everything `value` holds into `work`, leaving it shallow.
fn empty_into(value: &mut Dynamic, work: &mut Vec<Dynamic>) {
    if value.is_shared() {
        // Also clears the cell for every other holder: nothing else of this
        // eval survives it.
        if let Some(mut inner) = value.write_lock::<Dynamic>() {
            work.push(inner.take());
        }
    } else if let Ok(mut array) = value.as_array_mut() {
        work.append(&mut array);
    } else if let Ok(mut map) = value.as_map_mut() {
        work.extend(std::mem::take(&mut *map).into_values());
    } else if let Some(mut f) = value.write_lock::<FnPtr>() {
        work.extend(f.iter_curry_mut().map(Dynamic::take));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deep_value_is_dropped_without_recursion() {
        let mut deep = Dynamic::from_int(0);
        for _ in 0..1_000_000 {
            deep = Dynamic::from_array(vec![deep]);
        }
        // A plain drop of this would overflow a test thread's stack.
        dismantle([deep]);
    }

    #[test]
    fn a_cycle_through_a_captured_variable_is_broken() {
        let engine = rhai::Engine::new();
        let mut scope = rhai::Scope::new();
        engine
            .run_with_scope(
                &mut scope,
                "let big = [1, 2, 3]; let f = 0; f = || { big; f };",
            )
            .unwrap();
        let (_, f, _) = scope.into_iter().find(|(name, ..)| name == "f").unwrap();
        let big = f
            .read_lock::<FnPtr>()
            .unwrap()
            .iter_curry()
            .find(|c| c.read_lock::<rhai::Array>().is_some())
            .cloned()
            .unwrap();
        dismantle([f]);
        // The captured array's cell was emptied: nothing holds the cycle.
        assert!(big.is_shared() && big.read_lock::<rhai::Array>().is_none());
    }
}
