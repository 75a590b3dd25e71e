//! Waiting for an async host function's future on an eval thread, within
//! the eval's deadline.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use crate::engine::Guard;
use crate::error::Error;

/// Unparks the waiting thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// How often a waiting eval looks at its deadline and token even without a
/// wake-up.
const RECHECK: Duration = Duration::from_millis(10);

/// Polls `future` to completion on this thread, parking between polls; gives
/// up with the eval's `Timeout` / `Cancelled` as soon as the deadline passes
/// or the token is cancelled (the future is dropped then).
pub(crate) fn block_on_bounded<F: Future>(
    future: F,
    guard: &Guard<'_>,
) -> Result<F::Output, Error> {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Ok(output);
        }
        guard.check()?;
        let wait = guard.remaining().map_or(RECHECK, |left| left.min(RECHECK));
        std::thread::park_timeout(wait);
    }
}
