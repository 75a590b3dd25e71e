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
