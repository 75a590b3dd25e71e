//! The sandboxed Lua states evals run on: one per thread and setting, lent
//! to one eval at a time and shared by every program of those settings,
//! each keeping the chunks it loaded for the programs it served lately.
//!
//! # Why per thread, not per instance
//!
//! An instance used to own a whole sandboxed state (its globals, registry,
//! sandbox views, interned strings: ≈ 50 KB). A process that rotates over
//! thousands of tenant scripts then touched a different, cold state on
//! every eval: measured over 10 000 evaluators, an eval in rotation cost
//! 2.5–3.4× a hot one, and idle evaluators held ≈ 51 KB each. A state holds
//! nothing of one program that outlives an eval (see [Isolation](crate#isolation):
//! what a script can write is in the environment table, emptied after every
//! eval; the libraries are read-only views), which is also why a dropped
//! instance's state could already serve the next program (`spare.rs`). So
//! the thread keeps the state, and an instance is only the settings it
//! needs; a program's chunk is loaded into the thread's state the first
//! time it runs there and kept, least recently used first out, within
//! [`CHUNKS_PER_STATE`] and [`CHUNK_BYTES_PER_STATE`]. Loading a chunk again
//! reads its bytecode: it never parses the source.
//!
//! States that bind host functions stay per instance (their functions are
//! closures over one registry, see `instance.rs`).
//!
//! # Nesting
//!
//! [`lend`] takes the state out of the thread's list and [`Lent`] puts it
//! back, so an eval that starts while another on the same thread holds the
//! state (a host function evaluating another script) gets its own.
//!
//! # What ends a state
//!
//! An eval that panicked, hit the memory limit, or whose reset failed
//! [`discard`](Lent::discard)s the state. A thread keeps at most
//! [`STATES_PER_THREAD`]; the least recently used one beyond it, and those
//! a thread holds when it ends, go to the process-wide spares (their chunks
//! dropped first), where the next thread to need one takes it.

use std::cell::RefCell;
use std::num::NonZeroUsize;

use lru::LruCache;
use mlua::Function;
use rustc_hash::FxBuildHasher;

use crate::engine::LuaProgram;
use crate::instance::Shell;
use crate::spare::{self, ShellKey};

/// Most states a thread keeps between evals: a few settings, or one nested
/// a few deep.
pub(crate) const STATES_PER_THREAD: usize = 4;

/// Most chunks a state keeps loaded. Loading one costs about what a small
/// eval does, so a thread rotating over more programs than this pays it
/// once per eval (measured in BENCHMARKS.md, "Scale").
pub(crate) const CHUNKS_PER_STATE: usize = 256;

/// Most bytecode, summed, of the chunks a state keeps loaded (a loaded
/// chunk takes about as much memory as its bytecode): a few large programs
/// evict the rest instead of growing the state without bound.
pub(crate) const CHUNK_BYTES_PER_STATE: usize = 4 << 20;

/// A chunk a state keeps, and the bytecode size it counts for.
struct Loaded {
    chunk: Function,
    bytes: usize,
}

/// One state of the thread's, in the list or lent out.
pub(crate) struct Kept {
    key: ShellKey,
    /// `None` only in `Drop`, which hands it to the spares or closes it.
    shell: Option<Shell>,
    /// Whether the state may serve another thread when it leaves this one
    /// (false after a discard or a panic).
    fit: bool,
    /// By program id ([`LuaProgram::id`]), most recently used first.
    chunks: LruCache<u64, Loaded, FxBuildHasher>,
    chunk_bytes: usize,
    /// The program whose chunk ran last (kept in `chunks`: only a load
    /// evicts, and it sets this to the program it loaded).
    last: Option<u64>,
}

impl Kept {
    fn new(key: ShellKey) -> mlua::Result<Self> {
        let shell = match spare::take(key) {
            Some(shell) => shell,
            None => Shell::new(key.grants, key.check_interval, &Default::default())?,
        };
        Ok(Kept {
            key,
            shell: Some(shell),
            fit: true,
            chunks: LruCache::with_hasher(
                NonZeroUsize::new(CHUNKS_PER_STATE).expect("not zero"),
                FxBuildHasher,
            ),
            chunk_bytes: 0,
            last: None,
        })
    }

    /// The state and `program`'s chunk in it, loaded now if it is not kept.
    fn parts(&mut self, program: &LuaProgram) -> mlua::Result<(&Shell, &Function)> {
        let shell = self.shell.as_ref().expect("kept until dropped");
        let id = program.id();
        // The program that ran last is the most recently used already: one
        // lookup, no reordering (the hot path of a program evaluated again
        // and again).
        if self.last != Some(id) && self.chunks.get(&id).is_none() {
            let chunk = shell.load(program)?;
            let bytes = program.bytecode().len();
            while self.chunks.len() >= CHUNKS_PER_STATE
                || (!self.chunks.is_empty() && self.chunk_bytes + bytes > CHUNK_BYTES_PER_STATE)
            {
                let Some((_, gone)) = self.chunks.pop_lru() else {
                    break;
                };
                self.chunk_bytes -= gone.bytes;
            }
            self.chunk_bytes += bytes;
            self.chunks.put(id, Loaded { chunk, bytes });
        }
        self.last = Some(id);
        let loaded = self.chunks.peek(&id).expect("kept or just loaded");
        Ok((shell, &loaded.chunk))
    }
}

impl Drop for Kept {
    /// Offers the state to the spares without its chunks (`spare::put`
    /// collects it and closes it instead when it should not be kept).
    fn drop(&mut self) {
        self.chunks.clear();
        if let Some(shell) = self.shell.take().filter(|_| self.fit) {
            spare::put(self.key, shell);
        }
    }
}

thread_local! {
    /// This thread's states, least recently returned first. Boxed, so that
    /// lending and returning one moves a pointer (the chunk map and the
    /// state's handles are several hundred bytes).
    #[allow(clippy::vec_box)]
    static KEPT: RefCell<Vec<Box<Kept>>> = const { RefCell::new(Vec::new()) };
}

/// A state lent to one eval; goes back to the thread's list when dropped,
/// unless [discarded](Self::discard) or the eval panicked.
pub(crate) struct Lent(Option<Box<Kept>>);

impl Lent {
    /// The state and `program`'s chunk in it (see [`Kept::parts`]).
    pub(crate) fn parts(&mut self, program: &LuaProgram) -> mlua::Result<(&Shell, &Function)> {
        self.0.as_mut().expect("lent until dropped").parts(program)
    }

    /// Closes the state instead of returning it: the eval left it unfit for
    /// another (a memory error, a failed reset).
    pub(crate) fn discard(mut self) {
        if let Some(mut kept) = self.0.take() {
            // Not a spare either.
            kept.fit = false;
        }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(mut kept) = self.0.take() else {
            return;
        };
        if std::thread::panicking() {
            kept.fit = false;
            return;
        }
        // A thread being torn down has no list any more: the state goes to
        // the spares through `Kept`'s drop.
        let _ = KEPT.try_with(|list| {
            let mut list = list.borrow_mut();
            let evicted = (list.len() >= STATES_PER_THREAD).then(|| list.remove(0));
            list.push(kept);
            // Dropped (offered to the spares) outside the borrow.
            drop(list);
            drop(evicted);
        });
    }
}

/// The state for `key`'s settings for one eval on this thread: the kept one
/// if it is free, else a spare or a new one.
pub(crate) fn lend(key: ShellKey) -> mlua::Result<Lent> {
    let kept = KEPT
        .try_with(|list| {
            let mut list = list.borrow_mut();
            let at = list.iter().rposition(|k| k.key == key)?;
            Some(list.remove(at))
        })
        .ok()
        .flatten();
    Ok(Lent(Some(match kept {
        Some(kept) => kept,
        None => Box::new(Kept::new(key)?),
    })))
}

/// The chunks this thread's kept state for `key` holds, if it keeps one.
#[cfg(test)]
fn chunks_kept(key: ShellKey) -> Option<usize> {
    KEPT.with(|list| {
        let list = list.borrow();
        list.iter().find(|k| k.key == key).map(|k| k.chunks.len())
    })
}

#[cfg(test)]
mod tests {
    use polyscript_core::serde_json::json;
    use polyscript_core::{EvalContext, Evaluator, Limits, Source};

    use super::*;
    use crate::LuaEngine;
    use crate::builder::Grants;

    /// Each test runs on a thread of its own, with a check interval of its
    /// own: its key alone, whatever else runs.
    fn on_a_thread(f: impl FnOnce() + Send) {
        std::thread::scope(|s| s.spawn(f).join().unwrap());
    }

    fn key(check_interval: u32) -> ShellKey {
        ShellKey {
            grants: Grants::default(),
            check_interval,
        }
    }

    fn evaluator(check_interval: u32, script: &str, limits: Limits) -> Evaluator<LuaEngine> {
        let engine = LuaEngine::builder().check_interval(check_interval).build();
        Evaluator::builder(engine, Source::from_text(script))
            .limits(limits)
            .build()
            .unwrap()
    }

    fn eval(ev: &Evaluator<LuaEngine>) -> polyscript_core::Result<polyscript_core::Value> {
        ev.eval(&EvalContext::new()).map(|r| r.into_value())
    }

    #[test]
    fn programs_of_one_setting_share_the_thread_state() {
        on_a_thread(|| {
            let interval = 7_001;
            let evs: Vec<_> = (0..3)
                .map(|i| evaluator(interval, &format!("return {i}"), Limits::default()))
                .collect();
            for (i, ev) in evs.iter().enumerate() {
                assert_eq!(eval(ev).unwrap(), json!(i));
            }
            assert_eq!(chunks_kept(key(interval)), Some(3));
            // Again: the chunks are found, not loaded a second time.
            for (i, ev) in evs.iter().enumerate() {
                assert_eq!(eval(ev).unwrap(), json!(i));
            }
            assert_eq!(chunks_kept(key(interval)), Some(3));
        });
    }

    #[test]
    fn more_programs_than_kept_chunks_each_run_their_own() {
        on_a_thread(|| {
            let interval = 7_002;
            let evs: Vec<_> = (0..CHUNKS_PER_STATE + 20)
                .map(|i| {
                    evaluator(
                        interval,
                        &format!("local seen = mine\nmine = {i}\nreturn {{ {i}, seen }}"),
                        Limits::default(),
                    )
                })
                .collect();
            for _round in 0..2 {
                for (i, ev) in evs.iter().enumerate() {
                    assert_eq!(eval(ev).unwrap(), json!([i]), "program {i}");
                }
            }
            assert_eq!(chunks_kept(key(interval)), Some(CHUNKS_PER_STATE));
        });
    }

    #[test]
    fn large_chunks_are_kept_within_the_byte_bound() {
        on_a_thread(|| {
            let interval = 7_003;
            // ~1 MiB of bytecode each (a long string constant).
            let big = "y".repeat(1 << 20);
            let evs: Vec<_> = (0..6)
                .map(|i| {
                    evaluator(
                        interval,
                        &format!("return #'{big}' + {i}"),
                        Limits::default(),
                    )
                })
                .collect();
            for (i, ev) in evs.iter().enumerate() {
                assert_eq!(eval(ev).unwrap(), json!((1 << 20) + i));
            }
            let kept = chunks_kept(key(interval)).unwrap();
            assert!((1..6).contains(&kept), "{kept} chunks of ~1 MiB kept");
        });
    }

    #[test]
    fn what_the_state_keeps_for_others_does_not_count_against_a_limit() {
        on_a_thread(|| {
            let interval = 7_004;
            // Chunks of other programs: ~3 MiB kept in the state.
            let filler = "z".repeat(16 << 10);
            let others: Vec<_> = (0..200)
                .map(|i| {
                    evaluator(
                        interval,
                        &format!("return #'{filler}{i}'"),
                        Limits::default(),
                    )
                })
                .collect();
            for ev in &others {
                eval(ev).unwrap();
            }
            // Needs ~512 KiB under a 1 MiB limit: fits only if the others'
            // chunks are not charged to it.
            let ev = evaluator(
                interval,
                "local s = string.rep('q', 512 * 1024) return #s",
                Limits::default().with_memory_bytes(1 << 20),
            );
            assert_eq!(eval(&ev).unwrap(), json!(512 * 1024));
            // And the limit still holds for what the eval itself takes.
            let hog = evaluator(
                interval,
                "local s = string.rep('q', 4 * 1024 * 1024) return #s",
                Limits::default().with_memory_bytes(1 << 20),
            );
            let err = eval(&hog).unwrap_err();
            assert!(err.to_string().contains("memory"), "{err}");
        });
    }

    #[test]
    fn a_memory_error_closes_the_state() {
        on_a_thread(|| {
            let interval = 7_005;
            let ok = evaluator(interval, "return 1", Limits::default());
            eval(&ok).unwrap();
            assert_eq!(chunks_kept(key(interval)), Some(1));
            let hog = evaluator(
                interval,
                "return string.rep('q', 1 << 24)",
                Limits::default().with_memory_bytes(1 << 20),
            );
            assert!(eval(&hog).is_err());
            assert_eq!(chunks_kept(key(interval)), None, "the state was kept");
            // The next eval gets a fresh state.
            assert_eq!(eval(&ok).unwrap(), json!(1));
            assert_eq!(chunks_kept(key(interval)), Some(1));
        });
    }

    #[test]
    fn a_script_error_keeps_the_state_and_leaves_nothing() {
        on_a_thread(|| {
            let interval = 7_006;
            let failing = evaluator(interval, "leak = 1 error('no')", Limits::default());
            assert!(eval(&failing).is_err());
            assert_eq!(chunks_kept(key(interval)), Some(1));
            let reader = evaluator(interval, "return leak == nil", Limits::default());
            assert_eq!(eval(&reader).unwrap(), json!(true));
        });
    }

    #[test]
    fn a_nested_lend_gets_a_state_of_its_own() {
        on_a_thread(|| {
            let interval = 7_007;
            let outer = lend(key(interval)).unwrap();
            let inner = lend(key(interval)).unwrap();
            let (a, b) = (outer.0.as_ref().unwrap(), inner.0.as_ref().unwrap());
            assert!(!std::ptr::eq(
                a.shell.as_ref().unwrap(),
                b.shell.as_ref().unwrap()
            ));
            drop(inner);
            drop(outer);
            KEPT.with(|list| {
                let kept = list
                    .borrow()
                    .iter()
                    .filter(|k| k.key == key(interval))
                    .count();
                assert_eq!(kept, 2);
            });
        });
    }

    #[test]
    fn a_thread_keeps_at_most_states_per_thread() {
        on_a_thread(|| {
            for interval in 7_100..7_100 + STATES_PER_THREAD as u32 + 2 {
                eval(&evaluator(interval, "return 1", Limits::default())).unwrap();
            }
            KEPT.with(|list| assert_eq!(list.borrow().len(), STATES_PER_THREAD));
        });
    }
}
