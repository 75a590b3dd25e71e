//! Facade constructors for rhai (written by its engine issue).
