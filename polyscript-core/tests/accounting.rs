//! The accounting allocator and memory meters, with the allocator installed
//! as this test binary's global allocator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use polyscript_core::alloc::{self, Accounting, MemoryMeter};

#[global_allocator]
static ALLOCATOR: Accounting = Accounting::system();

#[test]
fn the_allocator_is_detected() {
    assert!(alloc::is_installed());
}

#[test]
fn a_meter_counts_what_the_thread_holds_and_trips_past_its_limit() {
    let meter = MemoryMeter::start(1 << 20).expect("installed");
    assert!(!meter.exceeded());
    let small = vec![0u8; 4096];
    assert!(meter.used() >= 4096, "{}", meter.used());
    assert!(!meter.exceeded());
    let big = vec![1u8; 2 << 20];
    assert!(meter.exceeded(), "2 MiB held past a 1 MiB limit");
    assert_eq!(meter.remaining(), 0);
    drop(big);
    // Tripped stays tripped: the limit was crossed during the eval.
    assert!(meter.exceeded());
    drop(small);
    drop(meter);
    let next = MemoryMeter::start(1 << 20).unwrap();
    assert!(!next.exceeded(), "a new meter starts clean");
}

#[test]
fn the_flag_is_raised_the_moment_the_limit_is_crossed() {
    let flag = Arc::new(AtomicBool::new(false));
    let meter = MemoryMeter::start_with_flag(64 << 10, Arc::clone(&flag)).unwrap();
    let mut v: Vec<u8> = Vec::new();
    while !flag.load(Ordering::Acquire) {
        v.push(1);
        assert!(v.len() < 10 << 20, "the flag never rose");
    }
    assert!(meter.exceeded());
    assert!(v.len() <= 128 << 10, "raised late: {} bytes", v.len());
}

#[test]
fn nested_meters_restore_the_outer_one_and_charge_it_too() {
    let outer_flag = Arc::new(AtomicBool::new(false));
    let outer = MemoryMeter::start_with_flag(1 << 20, Arc::clone(&outer_flag)).unwrap();
    let held = {
        let inner = MemoryMeter::start(10 << 20).unwrap();
        let held = vec![0u8; 2 << 20];
        assert!(!inner.exceeded());
        held
    };
    assert!(
        outer.exceeded(),
        "the inner eval's bytes count for the outer one"
    );
    assert!(outer_flag.load(Ordering::Acquire));
    drop(held);
}

#[test]
fn other_threads_allocations_do_not_count() {
    let meter = MemoryMeter::start(1 << 20).unwrap();
    std::thread::spawn(|| drop(std::hint::black_box(vec![0u8; 8 << 20])))
        .join()
        .unwrap();
    assert!(!meter.exceeded());
}
