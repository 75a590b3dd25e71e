//! Facade constructors for lua (written by its engine issue).
