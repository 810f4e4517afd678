//! One Arrow builder per column, filled from [`Scalar`]s or JSON text
//! following the catalog's column types (DESIGN.md §3): expanded references
//! become their `id`, unix seconds UTC timestamps, `metadata` a map, nested
//! values compact JSON text; missing or null → NULL (or the value the request
//! implies).

use std::fmt::Write;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, MapBuilder, StringBuilder,
    TimestampSecondBuilder,
};
use datafusion::arrow::error::ArrowError;
use serde_json::Value;

use super::scalar::Scalar;
use crate::catalog::{ColumnDef, ColumnType};

/// The builder of one column.
pub enum ColumnBuilder {
    /// `Utf8` and `Json` columns.
    Text(StringBuilder),
    /// `Int64` columns.
    Int(Int64Builder),
    /// `Timestamp` columns (seconds, UTC).
    Time(TimestampSecondBuilder),
    /// `Float64` columns.
    Float(Float64Builder),
    /// `Boolean` columns.
    Bool(BooleanBuilder),
    /// `StringMap` columns (`metadata`).
    Map(MapBuilder<StringBuilder, StringBuilder>),
    /// `StringList` columns.
    List(ListBuilder<StringBuilder>),
}

impl ColumnBuilder {
    /// An empty builder for `col` with room for `rows` rows.
    pub fn new(col: &ColumnDef, rows: usize) -> Self {
        match col.ty {
            ColumnType::Utf8 => ColumnBuilder::Text(StringBuilder::with_capacity(rows, rows * 16)),
            ColumnType::Json => ColumnBuilder::Text(StringBuilder::with_capacity(rows, rows * 64)),
            ColumnType::Int64 => ColumnBuilder::Int(Int64Builder::with_capacity(rows)),
            ColumnType::Timestamp => {
                ColumnBuilder::Time(TimestampSecondBuilder::with_capacity(rows).with_timezone("UTC"))
            }
            ColumnType::Float64 => ColumnBuilder::Float(Float64Builder::with_capacity(rows)),
            ColumnType::Boolean => ColumnBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            ColumnType::StringMap => {
                ColumnBuilder::Map(MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()))
            }
            ColumnType::StringList => ColumnBuilder::List(ListBuilder::new(StringBuilder::new())),
        }
    }

    /// Appends the row of an object that lacks the field (or has `null`):
    /// NULL, or `implied` for text and boolean columns (a nested table's parent
    /// id, events' `delivery_success` filter).
    pub fn append_missing(&mut self, implied: Option<&str>) -> Result<(), ArrowError> {
        match self {
            ColumnBuilder::Text(b) => b.append_option(implied),
            ColumnBuilder::Int(b) => b.append_null(),
            ColumnBuilder::Time(b) => b.append_null(),
            ColumnBuilder::Float(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_option(implied.and_then(|v| v.parse::<bool>().ok())),
            ColumnBuilder::Map(b) => b.append(false)?,
            ColumnBuilder::List(b) => b.append(false),
        }
        Ok(())
    }

    /// Appends `value` as `col` reads it.
    pub fn append_scalar(
        &mut self,
        col: &ColumnDef,
        value: Scalar<'_>,
        implied: Option<&str>,
    ) -> Result<(), ArrowError> {
        if value == Scalar::Null {
            return self.append_missing(implied);
        }
        match self {
            ColumnBuilder::Text(b) if col.ty == ColumnType::Json => match &value {
                Scalar::Compound(v) => write_json(b, v),
                Scalar::Str(s) => write_json(b, &Value::String(s.to_string())),
                other => append_text(b, other, false),
            },
            ColumnBuilder::Text(b) => append_text(b, &value, col.expandable),
            ColumnBuilder::Int(b) => b.append_option(value.as_i64()),
            ColumnBuilder::Time(b) => b.append_option(value.as_i64()),
            ColumnBuilder::Float(b) => b.append_option(value.as_f64()),
            ColumnBuilder::Bool(b) => b.append_option(value.as_bool().or_else(|| implied.and_then(|v| v.parse().ok()))),
            ColumnBuilder::Map(b) => match &value {
                Scalar::Compound(v) if v.is_object() => {
                    for (k, v) in v.as_object().into_iter().flatten() {
                        b.keys().append_value(k);
                        append_text(b.values(), &Scalar::of(v), false);
                    }
                    b.append(true)?;
                }
                _ => b.append(false)?,
            },
            ColumnBuilder::List(b) => match &value {
                Scalar::Compound(v) if v.is_array() => {
                    for item in v.as_array().into_iter().flatten() {
                        append_text(b.values(), &Scalar::of(item), false);
                    }
                    b.append(true);
                }
                _ => b.append(false),
            },
        }
        Ok(())
    }

    /// Appends the value whose compact JSON text is `text` (as in
    /// [`crate::stripe::RawObjects`]): a JSON column copies it, other columns parse it.
    pub fn append_json_text(&mut self, col: &ColumnDef, text: &str, implied: Option<&str>) -> Result<(), ArrowError> {
        match self {
            ColumnBuilder::Text(b) if col.ty == ColumnType::Json => {
                if text == "null" {
                    return self.append_missing(implied);
                }
                b.append_value(text);
                Ok(())
            }
            _ => {
                let value = Scalar::parse(text).map_err(|e| ArrowError::JsonError(e.to_string()))?;
                self.append_scalar(col, value, implied)
            }
        }
    }

    /// The finished column.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(b) => ArrayBuilder::finish(b),
            ColumnBuilder::Int(b) => ArrayBuilder::finish(b),
            ColumnBuilder::Time(b) => ArrayBuilder::finish(b),
            ColumnBuilder::Float(b) => ArrayBuilder::finish(b),
            ColumnBuilder::Bool(b) => ArrayBuilder::finish(b),
            ColumnBuilder::Map(b) => ArrayBuilder::finish(b),
            ColumnBuilder::List(b) => ArrayBuilder::finish(b),
        }
    }
}

/// Text of a value: strings as-is, an expanded reference as its `id`,
/// anything else as JSON text (so a drifted shape is kept, not dropped).
fn append_text(b: &mut StringBuilder, value: &Scalar<'_>, expandable: bool) {
    match value {
        Scalar::Null => b.append_null(),
        Scalar::Str(s) => b.append_value(s),
        Scalar::Bool(v) => b.append_value(if *v { "true" } else { "false" }),
        Scalar::I64(i) => write_display(b, i),
        Scalar::U64(u) => write_display(b, u),
        Scalar::F64(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => write_display(b, &n),
            None => b.append_null(),
        },
        Scalar::Compound(v) => match v.get("id") {
            Some(Value::String(id)) if expandable && v.is_object() => b.append_value(id),
            _ => write_json(b, v),
        },
    }
}

fn write_display(b: &mut StringBuilder, value: &dyn std::fmt::Display) {
    // Writing into the builder then closing the row with "" avoids a String per value.
    let _ = write!(b, "{value}");
    b.append_value("");
}

fn write_json(b: &mut StringBuilder, value: &Value) {
    // Display on a Value (`to_string`) writes token by token through the formatter.
    match serde_json::to_string(value) {
        Ok(text) => b.append_value(text),
        Err(_) => b.append_null(),
    }
}
