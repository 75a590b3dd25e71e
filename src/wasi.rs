//! Facade constructors for wasi (written by its engine issue).
