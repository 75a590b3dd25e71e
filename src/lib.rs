//! polyscript
