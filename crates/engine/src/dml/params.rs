//! SQL values → Stripe body params, validated against the catalog's
//! `WriteDef`/`ParamDef` before anything is sent.
//!
//! - A column is writable when the endpoint has a parameter of the same name.
//! - `_raw` (JSON text holding an object) carries extra params, so every
//!   create/update param is reachable, also those without a column
//!   (`payment_method`, `coupon`, `product_data`, …).
//! - JSON columns (`address`, `recurring`, `items`) take JSON text; `metadata`
//!   takes a `MAP {…}` literal (or `_raw` with `{"metadata": {…}}`).

use datafusion::arrow::array::{Array, ArrayRef, MapArray};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use serde_json::{Map, Number, Value};

use crate::catalog::{ParamDef, ParamType, WriteDef};

/// The pseudo column whose JSON object text is merged into the params.
pub const RAW_COLUMN: &str = "_raw";

/// What a NULL means for the statement being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullMeaning {
    /// INSERT: a NULL column is simply not sent (DataFusion fills unnamed columns with NULL).
    Omit,
    /// UPDATE: `SET col = NULL` unsets (`""`) where Stripe allows it, else it is an error.
    Unset,
}

/// A plan-level error naming what was wrong (nothing has been sent).
pub fn invalid(message: impl Into<String>) -> DataFusionError {
    DataFusionError::Plan(message.into())
}

/// The JSON value of one Arrow cell; `None` for NULL. Map entries with a NULL
/// value come back as `Value::Null`.
pub fn cell_json(array: &ArrayRef, row: usize) -> Result<Option<Value>> {
    if array.is_null(row) {
        return Ok(None);
    }
    let scalar = ScalarValue::try_from_array(array, row)?;
    scalar_json(&scalar)
}

fn scalar_json(scalar: &ScalarValue) -> Result<Option<Value>> {
    use ScalarValue as S;
    if scalar.is_null() {
        return Ok(None);
    }
    let v = match scalar {
        S::Utf8(Some(s)) | S::Utf8View(Some(s)) | S::LargeUtf8(Some(s)) => Value::String(s.clone()),
        S::Boolean(Some(b)) => Value::Bool(*b),
        S::Int8(Some(v)) => Value::from(*v),
        S::Int16(Some(v)) => Value::from(*v),
        S::Int32(Some(v)) => Value::from(*v),
        S::Int64(Some(v)) => Value::from(*v),
        S::UInt8(Some(v)) => Value::from(*v),
        S::UInt16(Some(v)) => Value::from(*v),
        S::UInt32(Some(v)) => Value::from(*v),
        S::UInt64(Some(v)) => Value::from(*v),
        S::Float32(Some(v)) => float(f64::from(*v))?,
        S::Float64(Some(v)) => float(*v)?,
        S::TimestampSecond(Some(v), _) => Value::from(*v),
        S::TimestampMillisecond(Some(v), _) => Value::from(v.div_euclid(1_000)),
        S::TimestampMicrosecond(Some(v), _) => Value::from(v.div_euclid(1_000_000)),
        S::TimestampNanosecond(Some(v), _) => Value::from(v.div_euclid(1_000_000_000)),
        S::Map(map) => map_json(map)?,
        S::List(list) => list_json(list.values())?,
        S::LargeList(list) => list_json(list.values())?,
        S::FixedSizeList(list) => list_json(list.values())?,
        other => {
            return Err(invalid(format!(
                "a value of type {} cannot be sent to stripe; use text, numbers, booleans, MAP {{…}} or JSON text",
                other.data_type()
            )));
        }
    };
    Ok(Some(v))
}

fn float(v: f64) -> Result<Value> {
    Number::from_f64(v).map(Value::Number).ok_or_else(|| invalid(format!("{v} is not a number stripe accepts")))
}

fn list_json(values: &ArrayRef) -> Result<Value> {
    let mut out = Vec::with_capacity(values.len());
    for i in 0..values.len() {
        out.push(cell_json(values, i)?.unwrap_or(Value::Null));
    }
    Ok(Value::Array(out))
}

fn map_json(map: &MapArray) -> Result<Value> {
    let mut out = Map::new();
    if map.is_empty() || map.is_null(0) {
        return Ok(Value::Object(out));
    }
    let entries = map.value(0);
    let keys = entries.column(0);
    let values = entries.column(1);
    for i in 0..entries.len() {
        let key = match cell_json(keys, i)? {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => continue,
        };
        out.insert(key, cell_json(values, i)?.unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

/// Adds `column = value` to `params` for endpoint `write` (`what` names the
/// statement in errors, e.g. `insert into customers`).
pub fn add_column(
    params: &mut Map<String, Value>,
    write: &WriteDef,
    what: &str,
    column: &str,
    value: Option<Value>,
    nulls: NullMeaning,
) -> Result<()> {
    if column == RAW_COLUMN {
        return add_raw(params, write, what, value);
    }
    if nulls == NullMeaning::Omit && is_empty_or_null(&value) {
        return Ok(());
    }
    let param = writable(write, what, column)?;
    let value = match value {
        Some(v) => convert(param, column, v, nulls)?,
        None => match nulls {
            NullMeaning::Omit => return Ok(()),
            NullMeaning::Unset if param.unsettable => Value::String(String::new()),
            NullMeaning::Unset => {
                return Err(invalid(format!(
                    "{what}: column {column} cannot be set to NULL: stripe offers no way to unset it"
                )));
            }
        },
    };
    if params.insert(column.to_string(), value).is_some() {
        return Err(invalid(format!("{what}: parameter {column} is given twice (as a column and in _raw)")));
    }
    Ok(())
}

/// INSERT fills unnamed MAP and LIST columns with an empty value rather than
/// NULL; a create with an empty map or list is the same as without it.
fn is_empty_or_null(value: &Option<Value>) -> bool {
    match value {
        None => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

/// The param a column writes to, or an error saying the column is read-only.
pub fn writable<'a>(write: &'a WriteDef, what: &str, column: &str) -> Result<&'a ParamDef> {
    write.params.iter().find(|p| p.name == column).ok_or_else(|| {
        invalid(format!(
            "{what}: column {column} is read-only: {} has no parameter {column} (parameters without a column can be passed as JSON in _raw)",
            write.path
        ))
    })
}

fn add_raw(params: &mut Map<String, Value>, write: &WriteDef, what: &str, value: Option<Value>) -> Result<()> {
    let Some(value) = value else { return Ok(()) };
    let object = match value {
        Value::String(text) => serde_json::from_str::<Value>(&text)
            .map_err(|e| invalid(format!("{what}: column _raw must hold a JSON object of parameters: {e}")))?,
        other => other,
    };
    let Value::Object(object) = object else {
        return Err(invalid(format!("{what}: column _raw must hold a JSON object of parameters")));
    };
    for (name, v) in object {
        let param = write.params.iter().find(|p| p.name == name).ok_or_else(|| {
            let known: Vec<&str> = write.params.iter().map(|p| p.name.as_str()).collect();
            invalid(format!(
                "{what}: _raw names unknown parameter {name} (parameters of {}: {})",
                write.path,
                known.join(", ")
            ))
        })?;
        let converted =
            if v.is_null() { Value::String(String::new()) } else { convert(param, &name, v, NullMeaning::Unset)? };
        if params.insert(name.clone(), converted).is_some() {
            return Err(invalid(format!("{what}: parameter {name} is given twice (as a column and in _raw)")));
        }
    }
    Ok(())
}

/// Checks that every required param of `write` is present.
pub fn check_required(params: &Map<String, Value>, write: &WriteDef, what: &str, row: usize) -> Result<()> {
    for p in write.params.iter().filter(|p| p.required) {
        if !params.contains_key(&p.name) {
            return Err(invalid(format!("{what}: row {row} is missing required column {}", p.name)));
        }
    }
    Ok(())
}

/// Converts one value to the shape `param` expects; errors name `column`.
pub fn convert(param: &ParamDef, column: &str, value: Value, nulls: NullMeaning) -> Result<Value> {
    let wrong = |expected: &str, got: &Value| invalid(format!("column {column} expects {expected}, got {got}"));
    match &param.ty {
        ParamType::String => match value {
            Value::String(_) => Ok(value),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            other => Err(wrong("text", &other)),
        },
        ParamType::Enum { values } => match &value {
            Value::String(s) if values.is_empty() || values.contains(s) || s.is_empty() => Ok(value),
            Value::String(s) => Err(invalid(format!("column {column}: '{s}' is not one of {}", values.join(", ")))),
            other => Err(wrong("text", other)),
        },
        ParamType::Integer | ParamType::Timestamp => match &value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => Ok(Value::String(s.trim().to_string())),
            Value::String(s) if param.ty == ParamType::Timestamp && s == "now" => Ok(value),
            other => Err(wrong("a whole number", other)),
        },
        ParamType::Number => match &value {
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(value),
            other => Err(wrong("a number", other)),
        },
        ParamType::Boolean => match &value {
            Value::Bool(_) => Ok(value),
            Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err(wrong("true or false", other)),
        },
        ParamType::StringMap => {
            let Value::Object(map) = parse_text(column, value, "a JSON object")? else {
                return Err(invalid(format!("column {column} expects a MAP {{'key': 'value'}} or a JSON object")));
            };
            let mut out = Map::new();
            for (k, v) in map {
                let v = match v {
                    Value::Null if nulls == NullMeaning::Omit => continue,
                    Value::Null => Value::String(String::new()),
                    Value::String(_) => v,
                    Value::Number(_) | Value::Bool(_) => Value::String(v.to_string()),
                    other => {
                        return Err(invalid(format!("column {column}: value of key {k} must be text, got {other}")));
                    }
                };
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
        ParamType::Object { fields } => {
            let value = parse_text(column, value, "a JSON object")?;
            let Value::Object(map) = &value else { return Err(wrong("a JSON object", &value)) };
            if !fields.is_empty()
                && let Some(unknown) = map.keys().find(|k| !fields.iter().any(|f| &f.name == *k))
            {
                let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                return Err(invalid(format!(
                    "column {column}: unknown field {unknown} (fields: {})",
                    known.join(", ")
                )));
            }
            Ok(value)
        }
        ParamType::Array { .. } => {
            let value = parse_text(column, value, "a JSON array")?;
            match value {
                Value::Array(_) => Ok(value),
                other => Err(wrong("a JSON array or a list", &other)),
            }
        }
        ParamType::Any => match value {
            Value::String(text) => Ok(serde_json::from_str(&text).unwrap_or(Value::String(text))),
            other => Ok(other),
        },
    }
}

/// JSON text becomes its parsed value; other values pass through.
fn parse_text(column: &str, value: Value, expected: &str) -> Result<Value> {
    match value {
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|e| invalid(format!("column {column} expects {expected} (JSON text): {e}"))),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests;
