//! WASI command modules (being written).
