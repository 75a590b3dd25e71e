//! The facade installs the accounting allocator by default, so memory
//! meters work in any program that depends on `polyscript`.
#![cfg(feature = "accounting-allocator")]

#[test]
fn the_accounting_allocator_is_the_global_allocator() {
    assert!(polyscript::alloc::is_installed());
    let meter = polyscript::alloc::MemoryMeter::start(1 << 20).expect("a meter");
    let held = vec![0u8; 2 << 20];
    assert!(meter.exceeded());
    drop(held);
}
