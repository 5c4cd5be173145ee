//! JSON numbers as JSON Schema counts them: `35.0` and `1e1` are integers. serde's integer
//! types refuse them, so values that failed to deserialize are read once more with every
//! integral number written as an integer. Values that parse the first time never pay.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Rewrites every number with no fractional part as an integer; true when one was changed.
pub fn integral_numbers(value: &mut Value) -> bool {
    match value {
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            // Within ±2^53 every integer is exact as a float, so the cast loses nothing.
            if float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0 {
                #[allow(clippy::cast_possible_truncation)]
                let integer = float as i64;
                *value = Value::from(integer);
                return true;
            }
            false
        }
        // Every element is visited: a changed one must not stop the rest from changing.
        Value::Array(items) => {
            items
                .iter_mut()
                .map(integral_numbers)
                .filter(|changed| *changed)
                .count()
                > 0
        }
        Value::Object(fields) => {
            fields
                .values_mut()
                .map(integral_numbers)
                .filter(|changed| *changed)
                .count()
                > 0
        }
        _ => false,
    }
}

/// `T` from `value`, taking integral numbers as integers; the first error when that does
/// not help.
pub fn deserialize<T: DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(value).or_else(|error| {
        let mut integral = value.clone();
        if integral_numbers(&mut integral) {
            T::deserialize(&integral).map_err(|_| error)
        } else {
            Err(error)
        }
    })
}

/// For `#[serde(default, deserialize_with = "…")]` on an optional struct field: takes the
/// struct only from a JSON object (or null). serde's derived structs also take an array of
/// their fields in order, which no schema of the API allows.
pub fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Object(_)) => deserialize(&value)
            .map(Some)
            .map_err(serde::de::Error::custom),
        Some(_) => Err(serde::de::Error::custom("expected an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integral_numbers_are_integers_and_fractions_stay_refused() {
        assert_eq!(deserialize::<u32>(&json!(35.0)).unwrap(), 35);
        assert_eq!(deserialize::<Vec<u8>>(&json!([1e1, 2])).unwrap(), [10, 2]);
        assert!(deserialize::<u32>(&json!(35.5)).is_err());
        assert!(deserialize::<u32>(&json!(-1.0)).is_err());
        assert_eq!(deserialize::<f64>(&json!(0.25)).unwrap(), 0.25);
        let mut huge = json!(1e300);
        assert!(
            !integral_numbers(&mut huge),
            "beyond 2^53 a float is not an exact integer"
        );
    }
}
