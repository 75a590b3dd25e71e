//! Data across the boundary: the input into `ctx` ([`input`]), the result
//! out ([`result`]). Both bounded by the eval's `polyscript_core::data::Budget`.

pub(crate) mod input;
// The eval's input behind a pointer that is set only for the length of one
// eval (`lazy::Active` borrows it), as the host binding's guard is.
#[allow(unsafe_code)]
pub(crate) mod lazy;
pub(crate) mod result;
