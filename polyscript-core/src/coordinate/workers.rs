//! A bounded set of scoped worker threads pulling indices from a counter.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::cancel::CancelToken;

/// Runs `job(i)` for every `i < count` on at most `workers` threads (no thread
/// per item; with one worker everything runs on the caller's thread). Items
/// not started because `cancel` fired are `None`.
pub(crate) fn run_indexed<T: Send>(
    count: usize,
    workers: usize,
    cancel: &CancelToken,
    job: impl Fn(usize) -> T + Sync,
) -> Vec<Option<T>> {
    let workers = workers.clamp(1, count.max(1));
    let next = AtomicUsize::new(0);
    let work = |results: &mut Vec<(usize, T)>| {
        loop {
            if cancel.is_cancelled() {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                break;
            }
            results.push((i, job(i)));
        }
    };

    let mut done: Vec<(usize, T)> = Vec::with_capacity(count);
    if workers == 1 {
        work(&mut done);
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        work(&mut mine);
                        mine
                    })
                })
                .collect();
            for handle in handles {
                match handle.join() {
                    Ok(mine) => done.extend(mine),
                    // A job panicked: re-raise on the caller's thread, as a
                    // sequential loop would have.
                    Err(payload) => std::panic::resume_unwind(payload),
                }
            }
        });
    }

    let mut ordered: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for (i, value) in done {
        ordered[i] = Some(value);
    }
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_from_several_workers() {
        let out = run_indexed(100, 4, &CancelToken::new(), |i| i * 2);
        assert_eq!(
            out.into_iter().map(Option::unwrap).collect::<Vec<_>>(),
            (0..100).map(|i| i * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn cancelled_work_is_not_started() {
        let token = CancelToken::new();
        let out = run_indexed(50, 1, &token, |i| {
            if i == 9 {
                token.cancel();
            }
            i
        });
        assert_eq!(out.iter().filter(|r| r.is_some()).count(), 10);
        assert!(out[10].is_none());
    }

    #[test]
    fn no_threads_beyond_the_worker_count() {
        let peak = AtomicUsize::new(0);
        let live = AtomicUsize::new(0);
        run_indexed(64, 3, &CancelToken::new(), |_| {
            let now = live.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_micros(200));
            live.fetch_sub(1, Ordering::SeqCst);
        });
        assert!(peak.load(Ordering::SeqCst) <= 3);
    }
}
