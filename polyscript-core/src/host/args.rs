//! [`HostArgs`]: a host function's positional arguments as a tuple of serde
//! types.

use serde::de::DeserializeOwned;

use crate::value::Value;

/// The arguments a host function takes: `()`, a tuple of up to eight
/// `DeserializeOwned` types, or `Vec<Value>` for any number of any values.
/// Each argument is deserialized on its own, so an error names it.
pub trait HostArgs: Sized + 'static {
    /// How many arguments are expected (`None`: any number).
    fn arity() -> Option<usize>;

    /// The arguments from the values the script passed; `Err` says what is
    /// wrong (`takes 2 arguments, got 1`, `argument 2: invalid type ...`).
    fn from_values(values: &[Value]) -> Result<Self, String>;
}

impl HostArgs for Vec<Value> {
    fn arity() -> Option<usize> {
        None
    }

    fn from_values(values: &[Value]) -> Result<Self, String> {
        Ok(values.to_vec())
    }
}

impl HostArgs for () {
    fn arity() -> Option<usize> {
        Some(0)
    }

    fn from_values(values: &[Value]) -> Result<Self, String> {
        check_count(0, values.len())
    }
}

fn check_count(want: usize, got: usize) -> Result<(), String> {
    if want == got {
        Ok(())
    } else {
        let plural = if want == 1 { "" } else { "s" };
        Err(format!("takes {want} argument{plural}, got {got}"))
    }
}

fn one<T: DeserializeOwned>(position: usize, value: &Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| format!("argument {position}: {e}"))
}

macro_rules! tuple_args {
    ($count:literal; $($name:ident $pos:literal),+) => {
        impl<$($name: DeserializeOwned + 'static),+> HostArgs for ($($name,)+) {
            fn arity() -> Option<usize> {
                Some($count)
            }

            fn from_values(values: &[Value]) -> Result<Self, String> {
                check_count($count, values.len())?;
                Ok(($(one::<$name>($pos, &values[$pos - 1])?,)+))
            }
        }
    };
}

tuple_args!(1; A 1);
tuple_args!(2; A 1, B 2);
tuple_args!(3; A 1, B 2, C 3);
tuple_args!(4; A 1, B 2, C 3, D 4);
tuple_args!(5; A 1, B 2, C 3, D 4, E 5);
tuple_args!(6; A 1, B 2, C 3, D 4, E 5, F 6);
tuple_args!(7; A 1, B 2, C 3, D 4, E 5, F 6, G 7);
tuple_args!(8; A 1, B 2, C 3, D 4, E 5, F 6, G 7, H 8);
