//! Placeholder: written by the rhai engine issue.
fn main() {}
