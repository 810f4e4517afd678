//! Turning one Arrow cell into text or JSON, the same way for every format:
//! timestamps in UTC ISO form, maps/lists/structs as JSON, NULL as `None`.
//! Types without a rule of their own use arrow's display formatter.

use std::fmt::Write as _;

use datafusion::arrow::array::temporal_conversions::{as_date, as_datetime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::*;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions as ArrowFormat};

/// How timestamps are written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `2024-01-31 12:00:00Z`: for people (table, markdown, expanded).
    Display,
    /// `2024-01-31T12:00:00Z`: ISO 8601 for machines (csv, json).
    Iso,
}

/// Replaces dictionary-encoded columns by their plain values so every other
/// rule sees the value type.
pub fn normalize(array: &ArrayRef) -> ArrayRef {
    match array.data_type() {
        DataType::Dictionary(_, value) => cast(array, value).unwrap_or_else(|_| array.clone()),
        _ => array.clone(),
    }
}

/// True for types shown right-aligned.
pub fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

/// The cell as text, `None` when NULL. Nested values are compact JSON.
pub fn text(array: &dyn Array, row: usize, style: Style) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let s = match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => array.as_string_view().value(row).to_string(),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Timestamp(unit, tz) => timestamp(array, row, *unit, tz.is_some(), style),
        DataType::Date32 => date(as_date::<Date32Type>(array.as_primitive::<Date32Type>().value(row) as i64)),
        DataType::Date64 => date(as_date::<Date64Type>(array.as_primitive::<Date64Type>().value(row))),
        DataType::Float32 => float(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => {
            let mut s = String::new();
            json(array, row, &mut s);
            s
        }
        DataType::Dictionary(..) => {
            let plain = cast(&array.slice(row, 1), dictionary_value(array.data_type())).ok()?;
            return text(plain.as_ref(), 0, style);
        }
        _ => fallback(array, row),
    };
    Some(s)
}

/// Appends the cell as JSON (`null`, number, string, array or object) to `out`.
pub fn json(array: &dyn Array, row: usize, out: &mut String) {
    if array.is_null(row) {
        out.push_str("null");
        return;
    }
    match array.data_type() {
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) { "true" } else { "false" }),
        DataType::Float32 | DataType::Float64 => {
            let v = match array.data_type() {
                DataType::Float32 => array.as_primitive::<Float32Type>().value(row) as f64,
                _ => array.as_primitive::<Float64Type>().value(row),
            };
            if v.is_finite() { out.push_str(&float(v)) } else { out.push_str("null") }
        }
        t if t.is_integer()
            || matches!(
                t,
                DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..)
            ) =>
        {
            out.push_str(&fallback(array, row))
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
            let items = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(row),
                DataType::LargeList(_) => array.as_list::<i64>().value(row),
                _ => array.as_fixed_size_list().value(row),
            };
            out.push('[');
            for i in 0..items.len() {
                if i > 0 {
                    out.push(',');
                }
                json(items.as_ref(), i, out);
            }
            out.push(']');
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            out.push('{');
            for (i, (field, column)) in fields.iter().zip(s.columns()).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(field.name(), out);
                out.push(':');
                json(column.as_ref(), row, out);
            }
            out.push('}');
        }
        DataType::Map(..) => {
            let m = array.as_map();
            let offsets = m.value_offsets();
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            out.push('{');
            for i in start..end {
                if i > start {
                    out.push(',');
                }
                string(&text(m.keys().as_ref(), i, Style::Iso).unwrap_or_default(), out);
                out.push(':');
                json(m.values().as_ref(), i, out);
            }
            out.push('}');
        }
        DataType::Dictionary(..) => match cast(&array.slice(row, 1), dictionary_value(array.data_type())) {
            Ok(plain) => json(plain.as_ref(), 0, out),
            Err(_) => string(&fallback(array, row), out),
        },
        _ => string(&text(array, row, Style::Iso).unwrap_or_default(), out),
    }
}

/// Appends `s` as a JSON string literal.
pub fn string(s: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string()));
}

fn dictionary_value(t: &DataType) -> &DataType {
    match t {
        DataType::Dictionary(_, v) => v,
        other => other,
    }
}

fn timestamp(array: &dyn Array, row: usize, unit: TimeUnit, has_tz: bool, style: Style) -> String {
    let dt = match unit {
        TimeUnit::Second => as_datetime::<TimestampSecondType>(array.as_primitive::<TimestampSecondType>().value(row)),
        TimeUnit::Millisecond => {
            as_datetime::<TimestampMillisecondType>(array.as_primitive::<TimestampMillisecondType>().value(row))
        }
        TimeUnit::Microsecond => {
            as_datetime::<TimestampMicrosecondType>(array.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        TimeUnit::Nanosecond => {
            as_datetime::<TimestampNanosecondType>(array.as_primitive::<TimestampNanosecondType>().value(row))
        }
    };
    let Some(dt) = dt else { return fallback(array, row) };
    // Arrow timestamps with a zone store UTC instants; show them in UTC with `Z`.
    // Without a zone the value is wall-clock time of unknown zone: no suffix.
    let sep = if style == Style::Iso { 'T' } else { ' ' };
    let mut s = String::with_capacity(24);
    let _ = write!(s, "{}{sep}{}", dt.format("%Y-%m-%d"), dt.format("%H:%M:%S%.f"));
    if has_tz {
        s.push('Z');
    }
    s
}

fn date(d: Option<impl std::fmt::Display>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn float(v: f64) -> String {
    v.to_string()
}

fn fallback(array: &dyn Array, row: usize) -> String {
    let opts = ArrowFormat::default().with_null("");
    match ArrayFormatter::try_new(array, &opts) {
        Ok(f) => f.value(row).to_string(),
        Err(_) => String::new(),
    }
}
