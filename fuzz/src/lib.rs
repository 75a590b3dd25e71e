//! The bodies of polyscript's fuzz targets (see `targets`). The libFuzzer
//! binaries in `fuzz_targets/` call [`targets::run`] with their own name.

pub mod targets;
