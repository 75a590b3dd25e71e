//! The clock evals are timed and bounded with.
//!
//! Every eval reads the clock at least twice (its start, from which the
//! deadline and [`Response::exec_time`](crate::Response::exec_time) are
//! measured, and its end), and engines read it again in their interrupt
//! hooks. `std::time::Instant::now()` is a `clock_gettime` call: measured at
//! ~24 ns on the 2-core VM the benchmarks run on, two of them were half of
//! polyscript's fixed cost per eval. This clock reads the CPU's time-stamp
//! counter through [`quanta`] (~10 ns there) where the counter is invariant
//! and falls back to the operating system's monotonic clock where it is not.
//! The counter is calibrated once per process (under a millisecond); an
//! [`Evaluator`](crate::Evaluator) does that while it is built, so no eval
//! pays for it.
//!
//! The user-facing API keeps `std::time::Instant` (a context's
//! [`with_deadline`](crate::EvalContext::with_deadline)); [`Instant::from_std`]
//! converts one when a context carries it. Engines compare the
//! [`Guard::deadline`](crate::Guard::deadline) with [`Instant::now`].

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A moment on polyscript's eval clock: monotonic, comparable, and only
/// meaningful within this process (like `std::time::Instant`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(quanta::Instant);

impl Instant {
    /// Now.
    #[inline]
    pub fn now() -> Instant {
        Instant(quanta::Instant::now())
    }

    /// The moment on this clock that `instant` (on the standard library's
    /// monotonic clock) is: now, plus however far `instant` is ahead of the
    /// standard clock's now. A moment already past maps to now (or earlier,
    /// when this clock can go that far back), so it still reads as passed.
    /// `None` when `instant` is further ahead than this clock can represent
    /// (centuries): a deadline that never comes.
    pub fn from_std(instant: std::time::Instant) -> Option<Instant> {
        let std_now = std::time::Instant::now();
        let now = Instant::now();
        match instant.checked_duration_since(std_now) {
            Some(ahead) => now.checked_add(ahead),
            None => {
                let behind = std_now.duration_since(instant);
                Some(now.0.checked_sub(behind).map_or(now, Instant))
            }
        }
    }

    /// Time since this moment (zero if it is in the future).
    #[inline]
    pub fn elapsed(self) -> Duration {
        Instant::now().saturating_duration_since(self)
    }

    /// Whether this moment has come (now is at or after it).
    #[inline]
    pub fn has_passed(self) -> bool {
        Instant::now() >= self
    }

    /// Time from `earlier` to this moment, zero if `earlier` is later.
    #[inline]
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// This moment plus `duration`, if that can be represented.
    #[inline]
    pub fn checked_add(self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result overflows the clock (hundreds of years ahead); use
    /// [`checked_add`](Instant::checked_add) for a duration from input.
    fn add(self, duration: Duration) -> Instant {
        Instant(self.0 + duration)
    }
}

impl Sub for Instant {
    type Output = Duration;

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_with_the_standard_clock() {
        let (ours, std) = (Instant::now(), std::time::Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (ours, std) = (ours.elapsed(), std.elapsed());
        assert!(ours >= Duration::from_millis(20), "{ours:?}");
        // Both clocks measured the same sleep; allow for scheduling between reads.
        let diff = ours.abs_diff(std);
        assert!(diff < Duration::from_millis(5), "{ours:?} vs {std:?}");
    }

    #[test]
    fn std_deadlines_convert_to_the_same_distance() {
        let future =
            Instant::from_std(std::time::Instant::now() + Duration::from_secs(60)).unwrap();
        let left = future.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(59) && left <= Duration::from_secs(60),
            "{left:?}"
        );
        assert!(!future.has_passed());

        let past =
            Instant::from_std(std::time::Instant::now() - Duration::from_millis(50)).unwrap();
        assert!(past.has_passed());
        assert!(Instant::now() - past >= Duration::from_millis(50));
    }

    #[test]
    fn ordering_and_arithmetic() {
        let a = Instant::now();
        let b = a + Duration::from_millis(1);
        assert!(b > a);
        assert_eq!(b - a, Duration::from_millis(1));
        assert_eq!(a - b, Duration::ZERO, "saturates");
        assert_eq!(a.checked_add(Duration::from_millis(1)), Some(b));
    }
}
