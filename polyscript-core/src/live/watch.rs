//! Watching a live script's file: `notify` on its directory, debounced.

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use super::{Inner, reload_weak};
use crate::error::{Error, Result};

/// The running watch; dropping it stops it.
pub(super) struct Watcher {
    _debouncer: Debouncer<notify::RecommendedWatcher>,
}

impl Watcher {
    /// Watches `path`'s directory and reloads the live evaluator behind
    /// `live` when an event names `path` (the directory, so a file that an
    /// editor replaces with a rename, or deletes and re-creates, is seen).
    pub(super) fn start(path: &Path, debounce: Duration, live: Weak<Inner>) -> Result<Self> {
        let file = absolute(path);
        let dir = file
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let target = file.clone();
        let mut debouncer = new_debouncer(debounce, move |events: DebounceEventResult| {
            let relevant = match &events {
                Ok(events) => events.iter().any(|e| same_file(&e.path, &target)),
                // An error of the watcher itself: look at the file anyway.
                Err(_) => true,
            };
            if relevant {
                reload_weak(&live);
            }
        })
        .map_err(|e| Error::load(file.display(), format!("cannot watch: {e}")))?;
        debouncer
            .watcher()
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| Error::load(dir.display(), format!("cannot watch: {e}")))?;
        Ok(Watcher {
            _debouncer: debouncer,
        })
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn same_file(event: &Path, target: &Path) -> bool {
    event == target || absolute(event) == target
}
