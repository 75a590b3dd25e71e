//! Extism plugins (being written).
