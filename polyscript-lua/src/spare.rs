//! Spare sandboxed Lua states, shared by the whole process.
//!
//! Building a sandboxed state is most of a Lua instance's cost: creating the
//! state (~160 000 instructions), running the sandbox prelude (~225 000) and,
//! when the instance is dropped, closing it (~130 000), against ~20 000 to
//! load a program's chunk. A program used once (a CLI run, a rarely used
//! rule: the facade's one-shot constructors) paid all of it per evaluator.
//!
//! Evals without host functions run on their thread's state
//! (`thread_states.rs`). When a thread ends, or keeps more states than it
//! may, it hands them, without their chunks, to this set ([`put`]), and the
//! next thread that needs a state with the same settings takes one
//! ([`take`]) instead of building it: a program run once on a new thread (a
//! CLI run, a rarely used rule) pays ~20 000 instructions for its chunk, not
//! the whole state. Only states that bind no host functions are kept (host
//! functions are closures over one registry), only states no eval left
//! unfit (a memory error, a panic), and only a few: [`MAX_SPARES`].
//!
//! Isolation is the same as between two evals of one program: everything a
//! script can write is in its environment table, emptied after every eval,
//! and the sandbox's library tables are read-only views. Before a state is
//! kept its garbage is collected, and a state whose environment is not
//! empty or that holds more memory than a fresh one ([`MAX_SPARE_BYTES`])
//! is closed instead.

use std::sync::Mutex;

use crate::builder::Grants;
use crate::instance::Shell;

/// Most spare states kept at once (each ~40 KB).
pub(crate) const MAX_SPARES: usize = 8;

/// A state holding more than this after a full collection is not kept: a
/// fresh sandboxed state holds ~40 KB.
pub(crate) const MAX_SPARE_BYTES: usize = 256 << 10;

/// The settings a state was built with; a spare serves only instances with
/// the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShellKey {
    pub(crate) grants: Grants,
    pub(crate) check_interval: u32,
}

static SPARES: Mutex<Vec<(ShellKey, Shell)>> = Mutex::new(Vec::new());

/// A spare state built with `key`'s settings, if one is kept.
pub(crate) fn take(key: ShellKey) -> Option<Shell> {
    let mut spares = SPARES.lock().unwrap_or_else(|e| e.into_inner());
    let at = spares.iter().rposition(|(k, _)| *k == key)?;
    Some(spares.swap_remove(at).1)
}

/// Keeps `shell` for a later instance, unless enough are kept or it should
/// not be (see [`Shell::settle`]); otherwise it is closed here. The count is
/// checked before the collection `settle` runs (no collection for a state
/// that would not be kept) and again under the lock that adds it.
pub(crate) fn put(key: ShellKey, shell: Shell) {
    let full = || SPARES.lock().unwrap_or_else(|e| e.into_inner()).len() >= MAX_SPARES;
    if full() || !shell.settle() {
        return;
    }
    let mut spares = SPARES.lock().unwrap_or_else(|e| e.into_inner());
    if spares.len() < MAX_SPARES {
        spares.push((key, shell));
    }
}

#[cfg(test)]
mod tests {
    use polyscript_core::host::HostFunctions;
    use polyscript_core::serde_json::json;
    use polyscript_core::{EvalContext, Evaluator, Limits, Source, Value};

    use super::*;
    use crate::LuaEngine;

    /// The spares are one list for the process: tests that fill it (the
    /// cap) would make the others' `put` find it full, so they take turns.
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn turn() -> std::sync::MutexGuard<'static, ()> {
        TURN.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many spares built with `check_interval` (each test uses its own
    /// interval, so tests running at once do not take each other's).
    fn spares_with(check_interval: u32) -> usize {
        SPARES
            .lock()
            .unwrap()
            .iter()
            .filter(|(key, _)| key.check_interval == check_interval)
            .count()
    }

    fn evaluator(check_interval: u32, script: &str) -> Evaluator<LuaEngine> {
        let engine = LuaEngine::builder().check_interval(check_interval).build();
        Evaluator::new(engine, Source::from_text(script)).unwrap()
    }

    fn eval(ev: &Evaluator<LuaEngine>) -> polyscript_core::Result<Value> {
        ev.eval(&EvalContext::new()).map(|r| r.into_value())
    }

    /// Runs `f` on a thread of its own, which ends (leaving its states)
    /// before this returns.
    fn on_a_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| s.spawn(f).join().unwrap())
    }

    #[test]
    fn the_state_a_thread_leaves_serves_the_next_thread() {
        let _turn = turn();
        let interval = 9_001;
        on_a_thread(|| {
            assert_eq!(eval(&evaluator(interval, "return 1")).unwrap(), json!(1));
            assert_eq!(spares_with(interval), 0, "in use, not spare");
        });
        assert_eq!(spares_with(interval), 1, "kept when the thread ended");
        on_a_thread(|| {
            assert_eq!(eval(&evaluator(interval, "return 2")).unwrap(), json!(2));
            assert_eq!(spares_with(interval), 0, "taken by the next thread");
        });
        assert_eq!(spares_with(interval), 1);
        SPARES
            .lock()
            .unwrap()
            .retain(|(key, _)| key.check_interval != interval);
    }

    #[test]
    fn the_next_program_sees_nothing_the_last_one_left() {
        let _turn = turn();
        let interval = 9_002;
        let seeded = on_a_thread(|| {
            let writer = evaluator(
                interval,
                r#"
plain = 1
_G.via_g = 2
rawset(_ENV, "raw", 3)
co = coroutine.create(function() coroutine.yield(1) end)
coroutine.resume(co)
math.randomseed(42)
local n = math.random(1000000)
_ENV = { leaked = true }
return n
"#,
            );
            eval(&writer).unwrap()
        });
        assert_eq!(spares_with(interval), 1);
        let seen = on_a_thread(|| {
            let reader = evaluator(
                interval,
                r#"
return {
  plain = plain == nil, via_g = _G.via_g == nil, raw = rawget(_ENV, "raw") == nil,
  co = co == nil, leaked = leaked == nil, n = math.random(1000000),
}
"#,
            );
            let seen = eval(&reader).unwrap();
            assert_eq!(
                spares_with(interval),
                0,
                "the reader got the writer's state"
            );
            seen
        });
        for key in ["plain", "via_g", "raw", "co", "leaked"] {
            assert_eq!(seen[key], json!(true), "{key} leaked: {seen}");
        }
        // Reseeded after the writer's eval: not the seeded sequence.
        assert_ne!(seen["n"], seeded);
        SPARES
            .lock()
            .unwrap()
            .retain(|(key, _)| key.check_interval != interval);
    }

    #[test]
    fn a_state_an_eval_ran_out_of_memory_in_is_closed() {
        let _turn = turn();
        let interval = 9_003;
        on_a_thread(|| {
            let engine = LuaEngine::builder().check_interval(interval).build();
            let hog =
                Evaluator::builder(engine, Source::from_text("return string.rep('x', 1 << 24)"))
                    .limits(Limits::default().with_memory_bytes(1 << 20))
                    .build()
                    .unwrap();
            let err = eval(&hog).unwrap_err();
            assert!(err.to_string().contains("memory"), "{err}");
        });
        assert_eq!(spares_with(interval), 0);
    }

    #[test]
    fn a_state_with_host_functions_is_closed() {
        let _turn = turn();
        let interval = 9_004;
        on_a_thread(|| {
            let registry = HostFunctions::new().register("one", |(): ()| Ok(1));
            let engine = LuaEngine::builder()
                .check_interval(interval)
                .host_functions(registry)
                .build();
            let ev = Evaluator::new(engine, Source::from_text("return host.one()")).unwrap();
            assert_eq!(eval(&ev).unwrap(), json!(1));
        });
        assert_eq!(spares_with(interval), 0);
    }

    #[test]
    fn at_most_max_spares_are_kept() {
        let _turn = turn();
        let interval = 9_005;
        // Every thread holds its state until all have one.
        let all_hold = std::sync::Barrier::new(MAX_SPARES + 3);
        std::thread::scope(|s| {
            for i in 0..MAX_SPARES + 3 {
                let all_hold = &all_hold;
                s.spawn(move || {
                    eval(&evaluator(interval, &format!("return {i}"))).unwrap();
                    all_hold.wait();
                });
            }
        });
        assert!(spares_with(interval) <= MAX_SPARES);
        assert!(SPARES.lock().unwrap().len() <= MAX_SPARES);
        // Leave room for the other tests.
        SPARES
            .lock()
            .unwrap()
            .retain(|(key, _)| key.check_interval != interval);
    }
}
