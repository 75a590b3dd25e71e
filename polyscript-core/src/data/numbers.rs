//! The number rule (see the [module docs](super)), as functions every
//! engine's converter calls.

use serde_json::Number;

use super::error::{DataError, DataErrorKind};
use crate::value::Value;

/// The largest integer a JavaScript `Number` holds exactly along with all
/// its neighbours: 2^53 − 1 (`Number.MAX_SAFE_INTEGER`).
pub const JS_MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A JSON number as an engine with 64-bit signed integers and 64-bit floats
/// (Rhai, Lua) holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IntOrFloat {
    /// A whole number.
    Int(i64),
    /// A float.
    Float(f64),
}

/// A JSON number for an engine with `i64` integers: integers above
/// `i64::MAX` are [`DataErrorKind::IntegerOutOfRange`], floats stay floats.
#[inline]
pub fn i64_from_json(number: &Number) -> Result<IntOrFloat, DataError> {
    if let Some(i) = number.as_i64() {
        Ok(IntOrFloat::Int(i))
    } else if let Some(u) = number.as_u64() {
        Err(out_of_range(u.to_string(), "a 64-bit signed integer"))
    } else {
        // serde_json numbers are i64, u64 or a finite f64.
        Ok(IntOrFloat::Float(number.as_f64().unwrap_or(f64::NAN)))
    }
}

/// A JSON number as a JavaScript `Number`: integers beyond ±(2^53 − 1) are
/// [`DataErrorKind::IntegerOutOfRange`] (they would round).
#[inline]
pub fn js_number_from_json(number: &Number) -> Result<f64, DataError> {
    if let Some(i) = number.as_i64() {
        if (-JS_MAX_SAFE_INTEGER..=JS_MAX_SAFE_INTEGER).contains(&i) {
            Ok(i as f64)
        } else {
            Err(out_of_range(i.to_string(), "a JavaScript safe integer"))
        }
    } else if let Some(u) = number.as_u64() {
        Err(out_of_range(u.to_string(), "a JavaScript safe integer"))
    } else {
        Ok(number.as_f64().unwrap_or(f64::NAN))
    }
}

/// A JavaScript `Number` as JSON: an integral value within ±(2^53 − 1)
/// (other than `-0`) is an integer, any other finite value a float, NaN and
/// the infinities [`DataErrorKind::NonFinite`].
#[inline]
pub fn json_from_js_number(v: f64) -> Result<Value, DataError> {
    if v.fract() == 0.0
        && v.abs() <= JS_MAX_SAFE_INTEGER as f64
        && !(v == 0.0 && v.is_sign_negative())
    {
        Ok(Value::from(v as i64))
    } else {
        float_to_json(v)
    }
}

/// A float as JSON: finite values exactly (`-0.0` included), NaN and the
/// infinities [`DataErrorKind::NonFinite`].
#[inline]
pub fn float_to_json(v: f64) -> Result<Value, DataError> {
    Number::from_f64(v)
        .map(Value::Number)
        .ok_or_else(|| DataError::new(DataErrorKind::NonFinite(v)))
}

fn out_of_range(value: String, range: &'static str) -> DataError {
    DataError::new(DataErrorKind::IntegerOutOfRange { value, range })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn number(v: Value) -> Number {
        match v {
            Value::Number(n) => n,
            other => panic!("not a number: {other}"),
        }
    }

    #[test]
    fn sixty_four_bit_engines() {
        assert_eq!(
            i64_from_json(&number(json!(i64::MIN))).unwrap(),
            IntOrFloat::Int(i64::MIN)
        );
        assert_eq!(
            i64_from_json(&number(json!(-0.0))).unwrap(),
            IntOrFloat::Float(-0.0)
        );
        let err = i64_from_json(&number(json!(u64::MAX))).unwrap_err();
        assert!(err.to_string().contains("18446744073709551615"), "{err}");
    }

    #[test]
    fn javascript_numbers() {
        assert_eq!(
            js_number_from_json(&number(json!(JS_MAX_SAFE_INTEGER))).unwrap(),
            9007199254740991.0
        );
        assert!(js_number_from_json(&number(json!(JS_MAX_SAFE_INTEGER + 1))).is_err());
        assert!(js_number_from_json(&number(json!(i64::MIN))).is_err());
        assert!(js_number_from_json(&number(json!(u64::MAX))).is_err());
        assert_eq!(json_from_js_number(3.0).unwrap(), json!(3));
        assert!(json_from_js_number(3.0).unwrap().is_i64());
        let neg_zero = json_from_js_number(-0.0).unwrap();
        assert!(neg_zero.as_f64().unwrap().is_sign_negative());
        assert!(json_from_js_number(2f64.powi(60)).unwrap().is_f64());
        assert!(json_from_js_number(f64::NAN).is_err());
        assert!(json_from_js_number(f64::NEG_INFINITY).is_err());
    }
}
