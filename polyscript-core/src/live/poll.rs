//! Polling a live script's URL with conditional requests.

use std::sync::{Mutex, Weak};
use std::time::Duration;

use super::{Inner, lock, reload_weak};
use crate::error::Result;
use crate::loader::{Fetched, HttpLoader, Validators};
use crate::source::Source;

/// The URL, how often to poll it, and what the last fetch answered.
pub(super) struct Poller {
    loader: HttpLoader,
    interval: Duration,
    validators: Mutex<Validators>,
}

impl Poller {
    pub(super) fn new(loader: HttpLoader, interval: Duration) -> Self {
        Poller {
            loader,
            interval,
            validators: Mutex::new(Validators::default()),
        }
    }

    pub(super) fn url(&self) -> &str {
        self.loader.url()
    }

    /// The script if it changed since the last fetch (`None`: a 304).
    pub(super) fn fetch(&self) -> Result<Option<Source>> {
        let previous = lock(&self.validators).clone();
        match self.loader.load_if_changed(&previous)? {
            Fetched::NotModified => Ok(None),
            Fetched::Modified(source, validators) => {
                *lock(&self.validators) = validators;
                Ok(Some(source))
            }
        }
    }

    /// Polls every interval on a thread of its own, until the live
    /// evaluator is dropped.
    pub(super) fn start(&self, live: Weak<Inner>) {
        let interval = self.interval;
        let spawned = std::thread::Builder::new()
            .name("polyscript-live-poll".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(interval);
                    if !reload_weak(&live) {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, url = %self.loader.url(), "cannot start polling a live script");
        }
    }
}
