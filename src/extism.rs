//! Facade constructors for extism (written by its engine issue).
