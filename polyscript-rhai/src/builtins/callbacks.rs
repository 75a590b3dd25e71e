//! `sort`/`sort_by`/`order`/`order_by` with a comparer and `dedup`: rhai
//! 1.27's semantics (bodies from `rhai/src/packages/array_basic.rs`), except
//! that a comparer stopped by a limit (any system error: the deadline,
//! cancellation, the operation budget, memory, call depth) ends the call with
//! that error. rhai treats a failing comparer as "equal" (or the elements'
//! types as the order) and goes on, so without this a comparer that loops
//! forever would only make the sort slow.

use std::cmp::Ordering;

use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Module, NativeCallContext, Position};

use super::RhaiResultOf;

pub(super) fn register(module: &mut Module) {
    set!(module, "sort", false, sort_by);
    set!(module, "sort_by", false, sort_by);
    set!(module, "order", true, order_by);
    set!(module, "order_by", true, order_by);
    set!(module, "dedup", false, dedup);
    set!(module, "dedup", false, dedup_by_comparer);
}

/// Remembers the first system error a callback returned.
#[derive(Default)]
struct Stop(Option<Box<EvalAltResult>>);

impl Stop {
    /// `Some(value)` on success; a system error is kept (`None`), any other
    /// error too but as `None` without keeping it (rhai's fallback applies).
    fn check(&mut self, outcome: RhaiResultOf<Dynamic>) -> Option<Dynamic> {
        match outcome {
            Ok(value) => Some(value),
            Err(error) if error.is_system_exception() => {
                self.0.get_or_insert(error);
                None
            }
            Err(_) => None,
        }
    }

    fn stopped(&self) -> bool {
        self.0.is_some()
    }

    fn into_result(self) -> RhaiResultOf<()> {
        self.0.map_or(Ok(()), Err)
    }
}

fn sort_by(ctx: NativeCallContext, array: &mut Array, comparer: FnPtr) -> RhaiResultOf<()> {
    if array.len() <= 1 {
        return Ok(());
    }
    let mut stop = Stop::default();
    let sorted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        array.sort_by(|x, y| {
            if stop.stopped() {
                return Ordering::Equal;
            }
            stop.check(comparer.call_raw(&ctx, None, [x.clone(), y.clone()]))
                .and_then(|v| {
                    v.as_int()
                        .or_else(|_| v.as_bool().map(|v| if v { -1 } else { 1 }))
                        .ok()
                })
                .map_or_else(|| x.type_id().cmp(&y.type_id()), |v| v.cmp(&0))
        });
    }));
    stop.into_result()?;
    // `slice::sort_by` may panic if the comparer is not a total order.
    sorted.map_err(|_| {
        EvalAltResult::ErrorRuntime("error in comparer for sorting".into(), Position::NONE).into()
    })
}

fn order_by(ctx: NativeCallContext, array: &mut Array, comparer: FnPtr) -> RhaiResultOf<Array> {
    let mut array = array.clone();
    sort_by(ctx, &mut array, comparer)?;
    Ok(array)
}

fn dedup(ctx: NativeCallContext, array: &mut Array) -> RhaiResultOf<()> {
    dedup_with(array, |x, y| {
        ctx.call_native_fn_raw("==", true, &mut [y, x])
    })
}

fn dedup_by_comparer(
    ctx: NativeCallContext,
    array: &mut Array,
    comparer: FnPtr,
) -> RhaiResultOf<()> {
    dedup_with(array, |x, y| {
        comparer.call_raw(&ctx, None, [y.clone(), x.clone()])
    })
}

fn dedup_with(
    array: &mut Array,
    mut same: impl FnMut(&mut Dynamic, &mut Dynamic) -> RhaiResultOf<Dynamic>,
) -> RhaiResultOf<()> {
    if array.is_empty() {
        return Ok(());
    }
    let mut stop = Stop::default();
    array.dedup_by(|x, y| {
        !stop.stopped()
            && stop
                .check(same(x, y))
                .unwrap_or(Dynamic::FALSE)
                .as_bool()
                .unwrap_or(false)
    });
    stop.into_result()
}
