//! Waiting for an instance without blocking: the future `eval_async` awaits.
//!
//! A waiting future announces itself like a blocking waiter (the shared
//! `waiters` count, so a return or a discard knows to wake someone) and
//! queues its waker in arrival order. A return wakes the oldest future,
//! which takes the instance when it is polled; a future leaves the queue
//! when it gets an instance, times out (a `futures-timer` delay, so no
//! runtime is needed) or is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_timer::Delay;

use super::Pool;
use crate::error::{Error, Result};

/// What waiting gave: an idle instance, or room to create one (created by
/// the eval thread, not the thread polling the future).
pub(crate) enum Permit<T> {
    Idle(Box<T>),
    Create,
}

/// Waits for an instance of `pool` for at most `timeout`.
pub(crate) struct AcquireAsync<'a, T: Send> {
    pool: &'a Pool<T>,
    timeout: Duration,
    /// Set once queued: the queue entry's id.
    queued: Option<u64>,
    delay: Option<Delay>,
}

impl<T: Send> Pool<T> {
    /// Waits for an instance without blocking the polling thread.
    pub(crate) fn acquire_async(&self, timeout: Duration) -> AcquireAsync<'_, T> {
        AcquireAsync {
            pool: self,
            timeout,
            queued: None,
            delay: None,
        }
    }

    /// The instance a permit stands for: the idle one, or a new one (on
    /// failure the reserved room is given back).
    pub(crate) fn instance_for(&self, permit: Permit<T>) -> Result<Box<T>> {
        match permit {
            Permit::Idle(item) => Ok(item),
            Permit::Create => self.create().inspect_err(|_| self.free_slot()),
        }
    }
}

impl<T: Send> AcquireAsync<'_, T> {
    fn try_take(&self) -> Option<Permit<T>> {
        if let Some(item) = self.pool.take_idle(self.pool.home()) {
            return Some(Permit::Idle(item));
        }
        self.pool.reserve().then_some(Permit::Create)
    }

    fn leave_queue(&mut self) {
        if let Some(id) = self.queued.take() {
            self.pool
                .async_waiters
                .lock()
                .retain(|(other, _)| *other != id);
            self.pool.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl<T: Send> Future for AcquireAsync<'_, T> {
    type Output = Result<Permit<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(permit) = this.try_take() {
            this.leave_queue();
            return Poll::Ready(Ok(permit));
        }
        match this.queued {
            Some(id) => {
                // Woken, but someone else was quicker: wait again, same place.
                let mut queue = this.pool.async_waiters.lock();
                if let Some(entry) = queue.iter_mut().find(|(other, _)| *other == id) {
                    entry.1.clone_from(cx.waker());
                }
            }
            None => {
                let id = this.pool.next_async_waiter.fetch_add(1, Ordering::Relaxed);
                // Announced before looking again, as blocking waiters do, so
                // a return either is seen by the look below or sees the
                // announcement and wakes the queue.
                this.pool.waiters.fetch_add(1, Ordering::SeqCst);
                this.pool
                    .async_waiters
                    .lock()
                    .push_back((id, cx.waker().clone()));
                this.queued = Some(id);
                if let Some(permit) = this.try_take() {
                    this.leave_queue();
                    return Poll::Ready(Ok(permit));
                }
            }
        }
        let delay = this.delay.get_or_insert_with(|| Delay::new(this.timeout));
        if Pin::new(delay).poll(cx).is_ready() {
            this.leave_queue();
            return Poll::Ready(Err(Error::PoolExhausted {
                engine: this.pool.engine,
                script_id: this.pool.script_id,
                max_size: this.pool.config.max_size,
                waited: this.timeout,
            }));
        }
        Poll::Pending
    }
}

impl<T: Send> Drop for AcquireAsync<'_, T> {
    fn drop(&mut self) {
        let was_first = self.queued.is_some_and(|id| {
            self.pool
                .async_waiters
                .lock()
                .front()
                .is_some_and(|(first, _)| *first == id)
        });
        self.leave_queue();
        // A wake-up meant for this future must not be lost with it.
        if was_first && self.pool.waiters.load(Ordering::SeqCst) > 0 {
            self.pool.wake_one();
        }
    }
}
