//! Facade constructors for js (written by its engine issue).
