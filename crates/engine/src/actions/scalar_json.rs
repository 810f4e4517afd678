//! Constant SQL values → JSON, so action arguments (strings, numbers, booleans,
//! `named_struct(...)`, `MAP {...}`, arrays) become Stripe request parameters.
//! Timestamps become unix seconds, as Stripe expects.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use serde_json::{Map, Number, Value};

/// The JSON form of a constant; `NULL` becomes `null`.
pub fn to_json(value: &ScalarValue) -> Result<Value> {
    use ScalarValue as S;
    let out = match value {
        S::Null => Value::Null,
        S::Boolean(v) => v.map(Value::Bool).unwrap_or(Value::Null),
        S::Int8(v) => int(v.map(i64::from)),
        S::Int16(v) => int(v.map(i64::from)),
        S::Int32(v) => int(v.map(i64::from)),
        S::Int64(v) => int(*v),
        S::UInt8(v) => int(v.map(i64::from)),
        S::UInt16(v) => int(v.map(i64::from)),
        S::UInt32(v) => int(v.map(i64::from)),
        S::UInt64(v) => v.map(|n| Value::Number(n.into())).unwrap_or(Value::Null),
        S::Float16(v) => float(v.map(f64::from)),
        S::Float32(v) => float(v.map(f64::from)),
        S::Float64(v) => float(*v),
        S::Decimal32(..) | S::Decimal64(..) | S::Decimal128(..) | S::Decimal256(..) => decimal(value)?,
        S::Utf8(v) | S::Utf8View(v) | S::LargeUtf8(v) => v.clone().map(Value::String).unwrap_or(Value::Null),
        S::TimestampSecond(v, _) => int(*v),
        S::TimestampMillisecond(v, _) => int(v.map(|t| t.div_euclid(1_000))),
        S::TimestampMicrosecond(v, _) => int(v.map(|t| t.div_euclid(1_000_000))),
        S::TimestampNanosecond(v, _) => int(v.map(|t| t.div_euclid(1_000_000_000))),
        S::List(a) => list(a.is_null(0), || a.value(0))?,
        S::LargeList(a) => list(a.is_null(0), || a.value(0))?,
        S::FixedSizeList(a) => list(a.is_null(0), || a.value(0))?,
        S::Struct(a) => {
            if a.is_null(0) {
                Value::Null
            } else {
                let mut map = Map::new();
                for (field, column) in a.fields().iter().zip(a.columns()) {
                    map.insert(field.name().clone(), element(column, 0)?);
                }
                Value::Object(map)
            }
        }
        S::Map(a) => {
            if a.is_null(0) {
                Value::Null
            } else {
                let entries = a.value(0);
                let mut map = Map::new();
                for i in 0..entries.len() {
                    let key = match element(entries.column(0), i)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    map.insert(key, element(entries.column(1), i)?);
                }
                Value::Object(map)
            }
        }
        S::Dictionary(_, inner) => to_json(inner)?,
        other => {
            return Err(DataFusionError::Plan(format!(
                "a value of type {} cannot be sent to stripe; use a string, number, boolean, timestamp, array, map or named_struct",
                other.data_type()
            )));
        }
    };
    Ok(out)
}

fn int(v: Option<i64>) -> Value {
    v.map(|n| Value::Number(n.into())).unwrap_or(Value::Null)
}

fn float(v: Option<f64>) -> Value {
    v.and_then(Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
}

fn decimal(value: &ScalarValue) -> Result<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let text = value.to_string();
    match text.parse::<i64>() {
        Ok(n) => Ok(Value::Number(n.into())),
        Err(_) => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| DataFusionError::Plan(format!("the decimal {text} cannot be sent to stripe"))),
    }
}

fn list(is_null: bool, values: impl FnOnce() -> ArrayRef) -> Result<Value> {
    if is_null {
        return Ok(Value::Null);
    }
    let values = values();
    (0..values.len()).map(|i| element(&values, i)).collect::<Result<Vec<_>>>().map(Value::Array)
}

fn element(array: &ArrayRef, index: usize) -> Result<Value> {
    if let Some(strings) = array.as_string_opt::<i32>() {
        return Ok(if strings.is_null(index) { Value::Null } else { Value::String(strings.value(index).to_string()) });
    }
    to_json(&ScalarValue::try_from_array(array, index)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_map_to_json_values() {
        assert_eq!(to_json(&ScalarValue::Utf8(Some("pi_1".into()))).unwrap(), json!("pi_1"));
        assert_eq!(to_json(&ScalarValue::Int64(Some(500))).unwrap(), json!(500));
        assert_eq!(to_json(&ScalarValue::Boolean(Some(true))).unwrap(), json!(true));
        assert_eq!(to_json(&ScalarValue::Float64(Some(1.5))).unwrap(), json!(1.5));
        assert_eq!(to_json(&ScalarValue::Utf8(None)).unwrap(), Value::Null);
        assert_eq!(
            to_json(&ScalarValue::TimestampMillisecond(Some(1_700_000_000_500), None)).unwrap(),
            json!(1_700_000_000)
        );
    }

    #[test]
    fn lists_become_arrays() {
        let list = ScalarValue::List(ScalarValue::new_list_nullable(
            &[ScalarValue::Utf8(Some("a".into())), ScalarValue::Utf8(Some("b".into()))],
            &datafusion::arrow::datatypes::DataType::Utf8,
        ));
        assert_eq!(to_json(&list).unwrap(), json!(["a", "b"]));
    }

    #[test]
    fn binary_is_refused_with_a_reason() {
        let err = to_json(&ScalarValue::Binary(Some(vec![1]))).unwrap_err().to_string();
        assert!(err.contains("cannot be sent to stripe"), "{err}");
    }
}
