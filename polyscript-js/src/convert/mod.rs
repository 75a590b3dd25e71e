//! Data across the boundary: the input into `ctx` ([`input`]), the result
//! out ([`result`]). Both bounded by the eval's `polyscript_core::data::Budget`.

pub(crate) mod input;
pub(crate) mod result;
