//! The configured `rhai::Engine`s evals run on: a few per thread, lent to
//! one eval at a time and shared by every instance of the same
//! configuration.
//!
//! # Why per thread, not per instance
//!
//! An instance used to own its engine. A process that rotates over
//! thousands of tenant scripts then touched a different engine (the struct,
//! its function-resolution caches, its string interner) on every eval, each
//! one cold: measured with callgrind's cache simulation, ≈ 10 of the ≈ 53
//! first-level cache misses of a Rhai eval in a rotation over 10 000
//! evaluators, and several KB of resident memory per evaluator. The engine
//! holds nothing of one script: the `AST` is the instance's, the
//! script's id reaches `print` and `debug` through the eval's guard, and
//! the limits are set per eval anyway. Per thread, not per process: with
//! rhai's `sync` feature a shared engine makes every eval touch counters all
//! threads share (measured: a second thread made evals slower).
//!
//! # Nesting
//!
//! A host function may evaluate another Rhai script on the same thread
//! while an engine is lent out. [`lend`] takes an engine out of the
//! thread's list and the [`Lent`] puts it back, so a nested eval finds none
//! and builds its own (a few microseconds: the packages are shared); both
//! are kept afterwards, up to [`KEPT_PER_THREAD`].
//!
//! # Identity
//!
//! Engines are keyed by their [`Options`] (one allocation per
//! [`RhaiEngine`](crate::RhaiEngine) configuration, shared by its clones)
//! and by whether the script needs the resolver for closures capturing
//! `host`. A kept engine holds a `Weak` of its options, so their address
//! cannot be reused by another configuration while it is kept; an engine
//! whose configuration is gone is dropped the next time the list changes.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::builder::Options;
use crate::setup::{self, EngineLimits};

/// Most engines a thread keeps between evals: a few configurations, or one
/// configuration nested a few deep. Beyond it the least recently used go.
pub(crate) const KEPT_PER_THREAD: usize = 8;

/// What an engine was built for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct EngineKind {
    /// Whether the engine answers `host` inside closures
    /// ([`host::resolve_captures`](crate::host::resolve_captures)).
    pub(crate) resolves_host: bool,
}

/// One engine, out of the list or in it.
struct Kept {
    options: Weak<Options>,
    kind: EngineKind,
    engine: rhai::Engine,
    /// The limits `engine` has now (evals only call rhai's setters when
    /// theirs differ).
    applied: EngineLimits,
}

impl Kept {
    fn is_for(&self, options: &Arc<Options>, kind: EngineKind) -> bool {
        self.kind == kind && std::ptr::eq(self.options.as_ptr(), Arc::as_ptr(options))
    }
}

thread_local! {
    /// This thread's engines, least recently returned first. Boxed: lending
    /// and returning one then moves a pointer, not a whole `rhai::Engine`
    /// (measured on the paired bench, Rhai run many ÷ raw: 1.39× with the
    /// engines moved in and out, 1.31× boxed, 1.29× with per-instance
    /// engines). Hence clippy's `vec_box`, which assumes the boxing buys
    /// nothing, is allowed here.
    #[allow(clippy::vec_box)]
    static KEPT: RefCell<Vec<Box<Kept>>> = const { RefCell::new(Vec::new()) };
}

/// An engine lent to one eval; goes back to the thread's list when dropped
/// (unless the eval panicked: an engine a panic went through is not kept).
pub(crate) struct Lent(Option<Box<Kept>>);

impl Lent {
    /// The engine, with `limits` set on it.
    pub(crate) fn with_limits(&mut self, limits: EngineLimits) -> &rhai::Engine {
        let kept = self.0.as_mut().expect("lent until dropped");
        limits.apply(&mut kept.applied, &mut kept.engine);
        &kept.engine
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(kept) = self.0.take() else { return };
        if std::thread::panicking() {
            return;
        }
        // A thread being torn down has no list any more: the engine goes.
        let _ = KEPT.try_with(|list| {
            let mut list = list.borrow_mut();
            list.retain(|k| k.options.strong_count() > 0);
            if list.len() >= KEPT_PER_THREAD {
                list.remove(0);
            }
            list.push(kept);
        });
    }
}

/// An engine of `options` and `kind` for one eval on this thread: a kept
/// one if there is one free, or a new one.
pub(crate) fn lend(options: &Arc<Options>, kind: EngineKind) -> Lent {
    let kept = KEPT
        .try_with(|list| {
            let mut list = list.borrow_mut();
            let at = list.iter().rposition(|k| k.is_for(options, kind))?;
            Some(list.remove(at))
        })
        .ok()
        .flatten();
    Lent(Some(kept.unwrap_or_else(|| {
        Box::new(Kept {
            options: Arc::downgrade(options),
            kind,
            engine: setup::build_engine(options, kind.resolves_host),
            applied: EngineLimits::BUILT,
        })
    })))
}

/// How many engines this thread keeps now.
#[cfg(test)]
pub(crate) fn kept_on_this_thread() -> usize {
    KEPT.with(|list| list.borrow().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: EngineKind = EngineKind {
        resolves_host: false,
    };

    #[test]
    fn an_engine_is_kept_and_lent_again_to_the_same_configuration() {
        let options = Arc::new(Options::default());
        drop(lend(&options, PLAIN));
        let before = kept_on_this_thread();
        assert_eq!(before, 1, "kept after the eval");
        let again = lend(&options, PLAIN);
        assert_eq!(kept_on_this_thread(), 0, "taken out while lent");
        drop(again);
        assert_eq!(kept_on_this_thread(), 1, "the same one back, no second");
    }

    #[test]
    fn nested_lends_get_their_own_engines_and_both_are_kept() {
        let options = Arc::new(Options::default());
        let outer = lend(&options, PLAIN);
        let inner = lend(&options, PLAIN);
        assert!(!std::ptr::eq(
            &outer.0.as_ref().unwrap().engine,
            &inner.0.as_ref().unwrap().engine
        ));
        drop(inner);
        drop(outer);
        let mine = KEPT.with(|list| {
            list.borrow()
                .iter()
                .filter(|k| k.is_for(&options, PLAIN))
                .count()
        });
        assert_eq!(mine, 2);
    }

    #[test]
    fn configurations_and_kinds_do_not_share_engines() {
        let a = Arc::new(Options::default());
        let b = Arc::new(Options::default());
        drop(lend(&a, PLAIN));
        let resolving = EngineKind {
            resolves_host: true,
        };
        let kept = |options: &Arc<Options>, kind| {
            KEPT.with(|list| list.borrow().iter().any(|k| k.is_for(options, kind)))
        };
        assert!(kept(&a, PLAIN));
        assert!(!kept(&b, PLAIN), "another configuration");
        assert!(!kept(&a, resolving), "another kind");
    }

    #[test]
    fn engines_of_dropped_configurations_go_and_the_list_is_bounded() {
        for _ in 0..3 * KEPT_PER_THREAD {
            let options = Arc::new(Options::default());
            drop(lend(&options, PLAIN));
        }
        // Each configuration was dropped right after its eval; the list is
        // pruned when an engine comes back, so only the last one's remains.
        assert_eq!(kept_on_this_thread(), 1, "engines of dead configurations");
        let alive: Vec<_> = (0..2 * KEPT_PER_THREAD)
            .map(|_| Arc::new(Options::default()))
            .collect();
        for options in &alive {
            drop(lend(options, PLAIN));
        }
        assert_eq!(kept_on_this_thread(), KEPT_PER_THREAD);
    }
}
