//! JSON objects from Stripe → Arrow record batches, one builder per column,
//! following the catalog's column types (DESIGN.md §3): expanded references
//! become their `id`, unix seconds become UTC timestamps, `metadata` a map,
//! nested values JSON text, `_raw` the whole object; missing or null → NULL.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, MapBuilder, RecordBatch,
    RecordBatchOptions, StringBuilder, TimestampSecondBuilder,
};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::error::{DataFusionError, Result};
use serde_json::Value;

use crate::catalog::{ColumnDef, ColumnType, TableDef};

/// Name of the column holding the whole object as JSON.
pub const RAW_COLUMN: &str = "_raw";

/// Decodes pages of one table into batches with a fixed (projected) schema.
#[derive(Debug, Clone)]
pub struct Decoder {
    columns: Vec<ColumnDef>,
    schema: SchemaRef,
}

impl Decoder {
    /// A decoder for `table`, keeping only the columns at `projection`
    /// (indices into `table.columns`; `None` keeps all). Out-of-range indices
    /// are a planning bug and panic.
    pub fn new(table: &TableDef, projection: Option<&[usize]>) -> Self {
        let full = table.arrow_schema();
        let indices: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..table.columns.len()).collect(),
        };
        let schema = Arc::new(Schema::new(indices.iter().map(|&i| full.field(i).clone()).collect::<Vec<_>>()));
        Decoder {
            columns: indices.iter().map(|&i| table.columns[i].clone()).collect(),
            schema,
        }
    }

    /// The (projected) schema of the batches this decoder produces.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Decodes objects into one batch.
    pub fn decode(&self, objects: &[Value]) -> Result<RecordBatch> {
        self.decode_with_implied(objects, &[])
    }

    /// Decodes objects fetched by a request whose filters imply column values
    /// (`implied`: `(column, value)` pairs, e.g. the parent id of a nested
    /// table, or `payout` on balance transactions). A text column the objects
    /// lack takes its implied value (invoice lines carry no `invoice` field), and
    /// so does a boolean column (events carry no `delivery_success`).
    pub fn decode_with_implied(&self, objects: &[Value], implied: &[(String, String)]) -> Result<RecordBatch> {
        let arrays = self
            .columns
            .iter()
            .map(|col| {
                let fallback = implied.iter().find(|(c, _)| *c == col.name).map(|(_, v)| v.as_str());
                decode_column(col, objects, fallback)
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(objects.len()));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| DataFusionError::ArrowError(Box::new(e), Some("decoding stripe objects into a batch".into())))
    }
}

/// The value a column reads from an object: `source` path or the field `name`.
fn field<'v>(col: &ColumnDef, object: &'v Value) -> Option<&'v Value> {
    let value = if col.source.is_empty() {
        object.get(&col.name)
    } else {
        col.source.iter().try_fold(object, |v, key| v.get(key))
    };
    value.filter(|v| !v.is_null())
}

fn decode_column(col: &ColumnDef, objects: &[Value], fallback: Option<&str>) -> Result<ArrayRef> {
    let n = objects.len();
    if col.name == RAW_COLUMN && col.source.is_empty() {
        let mut b = StringBuilder::with_capacity(n, n * 512);
        for o in objects {
            b.append_value(o.to_string());
        }
        return Ok(finish(b));
    }
    let values = objects.iter().map(|o| field(col, o));
    Ok(match col.ty {
        ColumnType::Utf8 => {
            let mut b = StringBuilder::with_capacity(n, n * 16);
            for v in values {
                match (v, fallback) {
                    (Some(v), _) => b.append_option(text_of(v, col.expandable)),
                    (None, Some(parent)) => b.append_value(parent),
                    (None, None) => b.append_null(),
                }
            }
            finish(b)
        }
        ColumnType::Json => {
            let mut b = StringBuilder::with_capacity(n, n * 64);
            for v in values {
                b.append_option(v.map(Value::to_string));
            }
            finish(b)
        }
        ColumnType::Int64 => {
            let mut b = Int64Builder::with_capacity(n);
            for v in values {
                b.append_option(v.and_then(as_i64));
            }
            finish(b)
        }
        ColumnType::Timestamp => {
            let mut b = TimestampSecondBuilder::with_capacity(n).with_timezone("UTC");
            for v in values {
                b.append_option(v.and_then(as_i64));
            }
            finish(b)
        }
        ColumnType::Float64 => {
            let mut b = Float64Builder::with_capacity(n);
            for v in values {
                b.append_option(v.and_then(as_f64));
            }
            finish(b)
        }
        ColumnType::Boolean => {
            // A filter-only flag (events' `delivery_success`) is known from the request.
            let implied = fallback.and_then(|f| f.parse::<bool>().ok());
            let mut b = BooleanBuilder::with_capacity(n);
            for v in values {
                b.append_option(v.and_then(Value::as_bool).or(implied));
            }
            finish(b)
        }
        ColumnType::StringMap => {
            let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
            for v in values {
                match v.and_then(Value::as_object) {
                    Some(map) => {
                        for (k, v) in map {
                            b.keys().append_value(k);
                            b.values().append_option(text_of(v, false));
                        }
                        b.append(true).map_err(|e| arrow_err(e, &col.name))?;
                    }
                    None => b.append(false).map_err(|e| arrow_err(e, &col.name))?,
                }
            }
            finish(b)
        }
        ColumnType::StringList => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for v in values {
                match v.and_then(Value::as_array) {
                    Some(items) => {
                        for item in items {
                            b.values().append_option(text_of(item, false));
                        }
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            finish(b)
        }
    })
}

fn finish(mut builder: impl ArrayBuilder) -> ArrayRef {
    builder.finish()
}

fn arrow_err(e: datafusion::arrow::error::ArrowError, column: &str) -> DataFusionError {
    DataFusionError::ArrowError(Box::new(e), Some(format!("decoding column {column}")))
}

/// Text of a value: strings as-is, an expanded reference as its `id`,
/// anything else as JSON text (so a drifted shape is kept, not dropped).
fn text_of(v: &Value, expandable: bool) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(o) if expandable => match o.get("id") {
            Some(Value::String(id)) => Some(id.clone()),
            _ => Some(v.to_string()),
        },
        other => Some(other.to_string()),
    }
}

/// Integers (also integral floats and numeric strings, which some API versions send).
fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
