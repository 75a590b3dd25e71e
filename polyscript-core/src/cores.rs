//! The number of cores polyscript sizes its pools and threads by.

use std::sync::OnceLock;

/// `std::thread::available_parallelism`, asked once per process (2 if it
/// cannot tell).
///
/// Asking is not cheap on Linux: the standard library reads the process's
/// cgroup CPU quota from `/proc` and `/sys` every time, several system calls
/// that made up most of building a small evaluator (pool sizing asks twice
/// per evaluator). A process's core count is taken as fixed, as thread-pool
/// crates do.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}
