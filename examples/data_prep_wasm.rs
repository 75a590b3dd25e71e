//! Placeholder: written by the wasm engine issue.
fn main() {}
