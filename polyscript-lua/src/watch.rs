//! Deadline, cancellation, operation and call-depth checks, run from a Lua
//! instruction-count hook.
//!
//! The hook is installed once per Lua state (as a *global* hook, so
//! coroutines the script creates inherit it); each eval only re-arms the
//! shared [`Watch`] with its [`Guard`]'s deadline, token and limits.

use std::sync::{Arc, Mutex, MutexGuard};

use mlua::{HookTriggers, Lua, VmState};
use polyscript_core::clock::Instant;
use polyscript_core::{CancelToken, Error, Guard, LimitKind};

/// Why the hook stopped an eval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    /// Past the deadline.
    Timeout,
    /// The cancel token fired.
    Cancelled,
    /// More instructions than `Limits::operations`.
    Operations(u64),
    /// Deeper than `Limits::call_depth`.
    CallDepth(u32),
}

impl Trip {
    /// The error reported for this trip.
    pub(crate) fn into_error(self, guard: &Guard<'_>) -> Error {
        match self {
            Trip::Timeout => guard.timeout_error(),
            Trip::Cancelled => guard.cancelled_error(),
            Trip::Operations(limit) => guard.limit_error(
                LimitKind::Operations,
                format!("more than {limit} Lua instructions"),
            ),
            Trip::CallDepth(limit) => {
                guard.limit_error(LimitKind::CallDepth, format!("call depth above {limit}"))
            }
        }
    }
}

#[derive(Debug, Default)]
struct Armed {
    deadline: Option<Instant>,
    cancel: Option<CancelToken>,
    operations: Option<u64>,
    used: u64,
    call_depth: Option<u32>,
    trip: Option<Trip>,
}

/// The per-instance state the hook reads; cheap to clone (one `Arc`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch(Arc<Mutex<Armed>>);

impl Watch {
    fn lock(&self) -> MutexGuard<'_, Armed> {
        // A poisoned lock only means a panic elsewhere; the data is plain.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Installs the hook on `lua`, checking every `every` instructions.
    pub(crate) fn install(&self, lua: &Lua, every: u32) -> mlua::Result<()> {
        let watch = self.clone();
        let every = every.max(1);
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(every),
            move |lua, _debug| watch.tick(lua, every),
        )
    }

    /// Arms the watch for one eval.
    pub(crate) fn arm(&self, guard: &Guard<'_>) {
        let limits = guard.limits();
        let mut armed = self.lock();
        *armed = Armed {
            deadline: guard.deadline(),
            cancel: Some(guard.cancel_token().clone()),
            operations: limits.operations,
            used: 0,
            call_depth: limits.call_depth,
            trip: None,
        };
    }

    /// Ends the eval: forgets the token, returns why the eval was stopped.
    pub(crate) fn disarm(&self) -> Option<Trip> {
        let mut armed = self.lock();
        armed.cancel = None;
        armed.trip.take()
    }

    /// Whether the current eval has been stopped.
    pub(crate) fn is_tripped(&self) -> bool {
        self.lock().trip.is_some()
    }

    fn tick(&self, lua: &Lua, every: u32) -> mlua::Result<VmState> {
        let mut armed = self.lock();
        if armed.trip.is_none() {
            armed.trip = armed.check(lua, every);
        }
        match armed.trip {
            // Keeps failing on every tick until the script is unwound; the
            // sandbox's pcall/xpcall/coroutine.resume rethrow meanwhile.
            Some(_) => Err(mlua::Error::runtime("polyscript: eval interrupted")),
            None => Ok(VmState::Continue),
        }
    }
}

impl Armed {
    fn check(&mut self, lua: &Lua, every: u32) -> Option<Trip> {
        if self.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            return Some(Trip::Cancelled);
        }
        if self.deadline.is_some_and(Instant::has_passed) {
            return Some(Trip::Timeout);
        }
        if let Some(limit) = self.operations {
            self.used = self.used.saturating_add(u64::from(every));
            if self.used > limit {
                return Some(Trip::Operations(limit));
            }
        }
        if let Some(depth) = self.call_depth
            && lua.inspect_stack(depth as usize, |_| ()).is_some()
        {
            return Some(Trip::CallDepth(depth));
        }
        None
    }
}
