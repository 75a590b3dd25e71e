//! The conformance suite again, with the accounting allocator installed (the
//! facade's default): memory is then metered per eval instead of bounded by
//! rhai's per-value size limits.

#[global_allocator]
static ALLOCATOR: polyscript_core::alloc::Accounting = polyscript_core::alloc::Accounting::system();

#[path = "conformance.rs"]
mod kit;
