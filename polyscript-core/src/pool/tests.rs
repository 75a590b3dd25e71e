use super::*;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

fn counting_pool(config: PoolConfig) -> Pool<usize> {
    let next = AtomicUsize::new(0);
    Pool::new(
        config,
        EngineKind::Other("test"),
        ScriptId::of(b"p"),
        move || Ok(next.fetch_add(1, Ordering::Relaxed)),
    )
    .unwrap()
}

#[test]
fn min_idle_instances_are_created_up_front() {
    let pool = counting_pool(PoolConfig::default().with_max_size(4).with_min_idle(2));
    assert_eq!(pool.stats().created, 2);
    assert_eq!(pool.stats().idle, 2);
}

#[test]
fn guard_returns_instance_on_drop_and_it_is_reused() {
    let pool = counting_pool(PoolConfig::default().with_max_size(1).with_min_idle(0));
    let first = *pool.acquire().unwrap();
    assert_eq!(pool.stats().idle, 1);
    assert_eq!(*pool.acquire().unwrap(), first);
    assert_eq!(pool.stats().created, 1);
}

#[test]
fn exhausted_pool_errors_after_timeout_and_recovers_on_release() {
    let pool = counting_pool(
        PoolConfig::default()
            .with_max_size(2)
            .with_acquire_timeout(Duration::from_millis(50)),
    );
    let a = pool.acquire().unwrap();
    let _b = pool.acquire().unwrap();
    assert_eq!(pool.stats().in_use, 2);
    let err = pool.acquire().map(|_| ()).unwrap_err();
    assert!(
        matches!(err, Error::PoolExhausted { max_size: 2, .. }),
        "{err}"
    );
    drop(a);
    assert!(pool.acquire().is_ok());
}

#[test]
fn waiting_acquire_gets_an_instance_released_by_another_thread() {
    let pool = Arc::new(counting_pool(
        PoolConfig::default()
            .with_max_size(1)
            .with_acquire_timeout(Duration::from_secs(10)),
    ));
    let held = pool.acquire().unwrap();
    let waiter = {
        let pool = Arc::clone(&pool);
        std::thread::spawn(move || pool.acquire().map(|g| *g).is_ok())
    };
    std::thread::sleep(Duration::from_millis(50));
    drop(held);
    assert!(waiter.join().unwrap());
}

#[test]
fn panicking_user_discards_the_instance() {
    let pool = counting_pool(PoolConfig::default().with_max_size(1).with_min_idle(1));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.with_instance(|_| panic!("boom")).unwrap();
    }));
    assert!(result.is_err());
    let stats = pool.stats();
    assert_eq!(stats.discarded, 1);
    assert_eq!(stats.idle, 0);
    // A fresh instance replaces it.
    assert_eq!(*pool.acquire().unwrap(), 1);
}

#[test]
fn explicit_discard_drops_the_instance() {
    let pool = counting_pool(PoolConfig::default().with_max_size(1));
    pool.acquire().unwrap().discard();
    assert_eq!(pool.stats().discarded, 1);
    assert_eq!(pool.stats().in_use + pool.stats().idle, 0);
}

#[test]
fn factory_error_frees_the_slot() {
    let fail = std::sync::atomic::AtomicBool::new(true);
    let pool = Pool::new(
        PoolConfig::default().with_max_size(1).with_min_idle(0),
        EngineKind::Other("test"),
        ScriptId::of(b"p"),
        move || {
            if fail.swap(false, Ordering::Relaxed) {
                Err(Error::invalid_data("first fails"))
            } else {
                Ok(7)
            }
        },
    )
    .unwrap();
    assert!(pool.acquire().is_err());
    assert_eq!(*pool.acquire().unwrap(), 7);
}

#[test]
fn two_threads_hammering_never_exceed_max_size() {
    let pool = Arc::new(counting_pool(PoolConfig::default().with_max_size(2)));
    let busy = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let pool = Arc::clone(&pool);
            let busy = Arc::clone(&busy);
            std::thread::spawn(move || {
                for _ in 0..5_000 {
                    pool.with_instance(|_| {
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(now <= 2);
                        busy.fetch_sub(1, Ordering::SeqCst);
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = pool.stats();
    assert!(stats.created <= 2);
    assert_eq!(stats.in_use, 0);
}

fn sharded_counting_pool(config: PoolConfig, shards: usize) -> Pool<usize> {
    let next = AtomicUsize::new(0);
    Pool::with_shards(
        config,
        shards,
        EngineKind::Other("test"),
        ScriptId::of(b"p"),
        Box::new(move || Ok(next.fetch_add(1, Ordering::Relaxed))),
    )
    .unwrap()
}

/// Runs `f` on a new thread whose home shard in `pool` is not `not`
/// (thread numbers are global, so other tests' threads may take some).
fn on_thread_with_other_home<R: Send>(
    pool: &Pool<usize>,
    not: usize,
    f: impl Fn() -> R + Send + Sync,
) -> R {
    std::thread::scope(|scope| {
        loop {
            let run = scope.spawn(|| (pool.home() != not).then(&f));
            if let Some(result) = run.join().unwrap() {
                return result;
            }
        }
    })
}

#[test]
fn each_thread_gets_back_the_instance_it_returned() {
    let pool = sharded_counting_pool(PoolConfig::default().with_max_size(4).with_min_idle(0), 2);
    let home = pool.home();
    let mine = pool.acquire().unwrap();
    let theirs = std::sync::Mutex::new(Some(pool.acquire().unwrap()));
    let (mine_id, theirs_id) = (*mine, **theirs.lock().unwrap().as_ref().unwrap());
    drop(mine);
    // The other instance is returned last, by a thread with another home:
    // one LIFO list would hand it to this thread next.
    on_thread_with_other_home(&pool, home, || drop(theirs.lock().unwrap().take()));
    assert_eq!(
        *pool.acquire().unwrap(),
        mine_id,
        "this thread's own instance"
    );
    let got = on_thread_with_other_home(&pool, home, || *pool.acquire().unwrap());
    assert_eq!(got, theirs_id, "the other thread's own instance");
    assert_eq!(pool.stats().created, 2);
}

#[test]
fn a_thread_with_an_empty_home_shard_takes_from_another_before_creating() {
    let pool = sharded_counting_pool(PoolConfig::default().with_max_size(4).with_min_idle(1), 2);
    let home = pool.home();
    let got = on_thread_with_other_home(&pool, home, || *pool.acquire().unwrap());
    assert_eq!(got, 0, "the idle instance in the other shard");
    assert_eq!(pool.stats().created, 1);
}

#[test]
fn a_discard_lets_a_waiter_create_a_new_instance() {
    let pool = Arc::new(counting_pool(
        PoolConfig::default()
            .with_max_size(1)
            .with_acquire_timeout(Duration::from_secs(10)),
    ));
    let mut held = pool.acquire().unwrap();
    let waiter = {
        let pool = Arc::clone(&pool);
        std::thread::spawn(move || {
            let started = Instant::now();
            let got = pool.acquire().map(|g| *g);
            (got.ok(), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    held.discard();
    drop(held);
    let (got, waited) = waiter.join().unwrap();
    assert_eq!(got, Some(1), "a new instance, made once the slot was free");
    assert!(waited < Duration::from_secs(10), "woken, not timed out");
}

#[test]
fn four_threads_with_discards_keep_the_count_right() {
    /// Counts the instances alive at once.
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let alive = Arc::new(AtomicUsize::new(0));
    let pool = {
        let alive = Arc::clone(&alive);
        Arc::new(
            Pool::with_shards(
                PoolConfig::default()
                    .with_max_size(3)
                    .with_acquire_timeout(Duration::from_secs(10)),
                4,
                EngineKind::Other("test"),
                ScriptId::of(b"p"),
                Box::new(move || {
                    let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= 3, "{now} instances alive");
                    Ok(Tracked(Arc::clone(&alive)))
                }),
            )
            .unwrap(),
        )
    };
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || {
                for i in 0..3_000 {
                    let mut guard = pool.acquire().expect("no acquire times out");
                    if (i + t) % 7 == 0 {
                        guard.discard();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.in_use, 0);
    assert_eq!(
        stats.idle,
        alive.load(Ordering::SeqCst),
        "no instance lost or leaked"
    );
    assert!(stats.discarded > 0);
    assert_eq!(stats.created - stats.discarded, stats.idle as u64);
}
