//! Placeholder: written by the js engine issue.
fn main() {}
