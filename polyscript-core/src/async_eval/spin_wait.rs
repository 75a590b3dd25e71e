//! Waiting for an eval thread's result: a bounded spin first, when the evals
//! of this evaluator are short, then an ordinary wake-up.
//!
//! Handing a result back through a waker costs a futex wake-up of the
//! polling thread and its rescheduling: ~10 µs on the 2-core VM the
//! benchmarks run on, five times a greeting eval. When the evaluator's
//! recent evals took only a few microseconds, the future's first poll
//! instead watches the result slot for about as long as an eval takes (never
//! more than [`MAX_SPIN`]) and returns the result without ever parking. A
//! script that runs longer than that costs the polling thread at most
//! [`MAX_SPIN`] of CPU once, and the evaluator stops spinning as soon as its
//! recent evals are long: the executor is never held for longer than a
//! small, fixed bound, as with any other CPU work done inside a `poll`.
//!
//! On a single core, spinning would only keep the eval thread from running:
//! there is no spin then.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_channel::oneshot;

use crate::clock::Instant;

/// The longest a first poll spins for a result.
pub(crate) const MAX_SPIN: Duration = Duration::from_micros(40);
/// What the hand-off to an eval thread and back adds to an eval when both
/// threads are awake.
const HAND_OFF: Duration = Duration::from_micros(10);

/// How long this evaluator's recent evals took on their eval thread
/// (a moving average, in nanoseconds; 0 before the first).
#[derive(Default)]
pub(crate) struct RecentEvalTime(AtomicU32);

impl RecentEvalTime {
    /// Adds one eval's time to the average (weight 1/4: a change of regime
    /// shows after a few evals).
    pub(crate) fn record(&self, took: Duration) {
        let took = u32::try_from(took.as_nanos()).unwrap_or(u32::MAX);
        let old = self.0.load(Ordering::Relaxed);
        let new = if old == 0 {
            took
        } else {
            let old = u64::from(old);
            u32::try_from((old * 3 + u64::from(took)) / 4).unwrap_or(u32::MAX)
        };
        // A lost update between two evals finishing at once only skews the
        // average a little; it is a hint, not a measurement.
        self.0.store(new.max(1), Ordering::Relaxed);
    }

    /// How long a first poll should spin for the result: twice the recent
    /// eval time plus the hand-off, when that fits in [`MAX_SPIN`]; zero when
    /// the evals are long, when nothing is known yet, or on one core.
    fn spin_budget(&self) -> Duration {
        let recent = self.0.load(Ordering::Relaxed);
        if recent == 0 || crate::cores::cores() < 2 {
            return Duration::ZERO;
        }
        let budget = Duration::from_nanos(u64::from(recent) * 2) + HAND_OFF;
        if budget > MAX_SPIN {
            Duration::ZERO
        } else {
            budget
        }
    }
}

/// The result of an eval thread's job: spins for it on the first poll when
/// `recent` says evals are short, then waits for the wake-up.
pub(crate) struct SpinThenWait<'a, T> {
    rx: oneshot::Receiver<T>,
    recent: &'a RecentEvalTime,
    spun: bool,
}

impl<'a, T> SpinThenWait<'a, T> {
    pub(crate) fn new(rx: oneshot::Receiver<T>, recent: &'a RecentEvalTime) -> Self {
        SpinThenWait {
            rx,
            recent,
            spun: false,
        }
    }
}

impl<T> Future for SpinThenWait<'_, T> {
    type Output = Result<T, oneshot::Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.spun {
            this.spun = true;
            let budget = this.recent.spin_budget();
            if !budget.is_zero() {
                let until = Instant::now() + budget;
                loop {
                    match this.rx.try_recv() {
                        Ok(Some(value)) => return Poll::Ready(Ok(value)),
                        Err(canceled) => return Poll::Ready(Err(canceled)),
                        Ok(None) if Instant::now() >= until => break,
                        Ok(None) => std::hint::spin_loop(),
                    }
                }
            }
        }
        Pin::new(&mut this.rx).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_evals_get_a_bounded_budget_and_long_ones_none() {
        let recent = RecentEvalTime::default();
        assert_eq!(recent.spin_budget(), Duration::ZERO, "nothing known yet");
        recent.record(Duration::from_micros(2));
        if crate::cores::cores() >= 2 {
            assert_eq!(recent.spin_budget(), Duration::from_micros(14));
        }
        for _ in 0..20 {
            recent.record(Duration::from_millis(5));
        }
        assert_eq!(recent.spin_budget(), Duration::ZERO, "long evals: no spin");
        for _ in 0..40 {
            recent.record(Duration::from_micros(1));
        }
        assert!(recent.spin_budget() <= MAX_SPIN);
        if crate::cores::cores() >= 2 {
            assert!(!recent.spin_budget().is_zero(), "short again: spins again");
        }
    }

    #[test]
    fn a_dropped_sender_ends_the_wait() {
        let recent = RecentEvalTime::default();
        recent.record(Duration::from_micros(1));
        let (tx, rx) = oneshot::channel::<i32>();
        drop(tx);
        let mut fut = std::pin::pin!(SpinThenWait::new(rx, &recent));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
    }
}
