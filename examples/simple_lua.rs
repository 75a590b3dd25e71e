//! Placeholder: written by the lua engine issue.
fn main() {}
