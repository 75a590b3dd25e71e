//! Waiting for an instance without blocking: the future `eval_async` awaits.
//!
//! A waiting future announces itself like a blocking waiter (the shared
//! `waiters` count, so a return or a discard knows to wake someone) and
//! queues its waker in arrival order. A return wakes the oldest future,
//! which takes the instance when it is polled; a future leaves the queue
//! when it gets an instance, times out (a `futures-timer` delay, so no
//! runtime is needed) or is dropped.
//!
//! A return wakes the oldest future *without* dequeuing it (it stays first
//! until it has been polled), so several returns that land before it runs
//! all wake the same future. So a future that got an instance passes the
//! wake-up on: if the pool still has an idle instance or room for a new one
//! when it leaves the queue, it wakes the next one. Without this, one
//! woken future took one instance and the others stayed idle while
//! thousands waited: with a pool of 4 and 10 ms async host calls, a
//! saturated pool settled at 1 instance in use and 3 idle (88 evals/s
//! instead of ~400).

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
            let mut queue = self.pool.async_waiters.lock();
            // A woken future is usually the first: no walk over the queue.
            if queue.front().is_some_and(|(first, _)| *first == id) {
                queue.pop_front();
            } else {
                queue.retain(|(other, _)| *other != id);
            }
            drop(queue);
            self.pool.waiters.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Leaves the queue with an instance, and wakes the next waiter if
    /// there is still one for it (see the module docs). The queue is left
    /// first: a return that comes after the look below then wakes the next
    /// future itself, and one that came before it is seen by the look.
    fn got(&mut self, permit: Permit<T>) -> Poll<Result<Permit<T>>> {
        self.leave_and_pass_on();
        Poll::Ready(Ok(permit))
    }

    /// Leaves the queue; a wake-up this future may have taken in (and not
    /// used, or not needed all of) goes to the next waiter.
    fn leave_and_pass_on(&mut self) {
        self.leave_queue();
        if self.pool.waiters.load(Ordering::SeqCst) > 0 && self.pool.has_room() {
            self.pool.wake_one();
        }
    }
}

impl<T: Send> Pool<T> {
    /// Whether an instance is idle or one more may be created.
    fn has_room(&self) -> bool {
        self.live.load(Ordering::SeqCst) < self.config.max_size
            || self.shards.iter().any(|shard| !shard.0.lock().is_empty())
    }
}

impl<T: Send> Future for AcquireAsync<'_, T> {
    type Output = Result<Permit<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(permit) = this.try_take() {
            return this.got(permit);
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
                    return this.got(permit);
                }
            }
        }
        let delay = this.delay.get_or_insert_with(|| Delay::new(this.timeout));
        if Pin::new(delay).poll(cx).is_ready() {
            this.leave_and_pass_on();
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
        // A wake-up meant for this future must not be lost with it.
        if self.queued.is_some() {
            self.leave_and_pass_on();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    use super::*;
    use crate::engine::EngineKind;
    use crate::pool::PoolConfig;
    use crate::script_id::ScriptId;

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn pool(max_size: usize) -> Pool<usize> {
        let next = AtomicUsize::new(0);
        Pool::new(
            PoolConfig::default()
                .with_max_size(max_size)
                .with_min_idle(0)
                .with_acquire_timeout(Duration::from_secs(60)),
            EngineKind::Other("test"),
            ScriptId::of(b"p"),
            move || Ok(next.fetch_add(1, Ordering::Relaxed)),
        )
        .unwrap()
    }

    fn instance(pool: &Pool<usize>, poll: Poll<Result<Permit<usize>>>) -> Box<usize> {
        match poll {
            Poll::Ready(Ok(permit)) => pool.instance_for(permit).unwrap(),
            _ => panic!("no instance"),
        }
    }

    #[test]
    fn two_returns_before_the_first_waiter_runs_wake_two_waiters() {
        let pool = pool(2);
        let wakes: Vec<Arc<Wakes>> = (0..3).map(|_| Arc::default()).collect();
        let wakers: Vec<Waker> = wakes.iter().map(|w| Waker::from(Arc::clone(w))).collect();
        let mut first = Box::pin(pool.acquire_async(Duration::from_secs(60)));
        let mut second = Box::pin(pool.acquire_async(Duration::from_secs(60)));
        let mut third = Box::pin(pool.acquire_async(Duration::from_secs(60)));
        let busy = [
            pool.instance_for(Permit::Create).unwrap(),
            pool.instance_for(Permit::Create).unwrap(),
        ];
        assert!(pool.reserve() && pool.reserve() && !pool.reserve());
        for (future, waker) in [&mut first, &mut second, &mut third]
            .into_iter()
            .zip(&wakers)
        {
            let poll = future.as_mut().poll(&mut Context::from_waker(waker));
            assert!(poll.is_pending());
        }
        // Both instances come back before any waiter has run: both returns
        // wake the oldest waiter, which has not left the queue yet.
        for item in busy {
            pool.give_back(item, false);
        }
        assert!(wakes[0].0.load(Ordering::SeqCst) > 0);
        let got = instance(
            &pool,
            first.as_mut().poll(&mut Context::from_waker(&wakers[0])),
        );
        // The second instance must not stay idle: the next waiter is woken.
        assert!(
            wakes[1].0.load(Ordering::SeqCst) > 0,
            "the second waiter was never woken"
        );
        let also = instance(
            &pool,
            second.as_mut().poll(&mut Context::from_waker(&wakers[1])),
        );
        // Nothing left for the third: it is not woken for nothing.
        assert_eq!(wakes[2].0.load(Ordering::SeqCst), 0);
        assert!(
            third
                .as_mut()
                .poll(&mut Context::from_waker(&wakers[2]))
                .is_pending()
        );
        pool.give_back(got, false);
        assert!(wakes[2].0.load(Ordering::SeqCst) > 0);
        drop(also);
    }

    #[test]
    fn a_woken_waiter_that_is_dropped_passes_the_wake_up_on() {
        let pool = pool(1);
        let wakes: Vec<Arc<Wakes>> = (0..2).map(|_| Arc::default()).collect();
        let wakers: Vec<Waker> = wakes.iter().map(|w| Waker::from(Arc::clone(w))).collect();
        let busy = pool.instance_for(Permit::Create).unwrap();
        assert!(pool.reserve());
        let mut first = Box::pin(pool.acquire_async(Duration::from_secs(60)));
        let mut second = Box::pin(pool.acquire_async(Duration::from_secs(60)));
        for (future, waker) in [&mut first, &mut second].into_iter().zip(&wakers) {
            assert!(
                future
                    .as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_pending()
            );
        }
        pool.give_back(busy, false);
        assert!(wakes[0].0.load(Ordering::SeqCst) > 0);
        assert_eq!(wakes[1].0.load(Ordering::SeqCst), 0);
        drop(first);
        assert!(wakes[1].0.load(Ordering::SeqCst) > 0);
        let _ = instance(
            &pool,
            second.as_mut().poll(&mut Context::from_waker(&wakers[1])),
        );
    }
}
