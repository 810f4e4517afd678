//! JSON objects from Stripe → Arrow record batches, following the catalog's
//! column types (DESIGN.md §3): expanded references become their `id`, unix
//! seconds UTC timestamps, `metadata` a map, nested values compact JSON text,
//! `_raw` the whole object; missing or null → NULL.
//!
//! Scans decode the response text directly ([`Decoder::decode_raw`], see
//! [`from_text`]); writes and actions, which hold a few parsed objects,
//! decode values ([`Decoder::decode`]). Both fill the same [`builders`].
//! A component of its own below scans, writes, actions and watch, which all
//! decode through it.

mod builders;
mod from_text;
mod plan;
mod scalar;

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::error::{DataFusionError, Result};
use serde_json::Value;

use crate::catalog::ArrowSchema;
use crate::catalog::{ColumnDef, TableDef};
use crate::stripe::RawObjects;
use builders::ColumnBuilder;
use plan::KeyPlan;
use scalar::Scalar;

/// Name of the column holding the whole object as JSON.
pub const RAW_COLUMN: &str = "_raw";

/// Decodes pages of one table into batches with a fixed (projected) schema.
#[derive(Debug, Clone)]
pub struct Decoder {
    table: String,
    columns: Vec<ColumnDef>,
    schema: SchemaRef,
    plan: Arc<KeyPlan>,
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
        let columns: Vec<ColumnDef> = indices.iter().map(|&i| table.columns[i].clone()).collect();
        Decoder { table: table.name.clone(), plan: Arc::new(KeyPlan::new(&columns)), columns, schema }
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
        let implied = self.implied(implied);
        let arrays = self
            .columns
            .iter()
            .zip(&implied)
            .map(|(col, implied)| {
                let mut builder = ColumnBuilder::new(col, objects.len());
                for object in objects {
                    append_value(&mut builder, col, object, *implied).map_err(|e| self.error(e))?;
                }
                Ok(builder.finish())
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        self.batch(arrays, objects.len())
    }

    /// Decodes objects given as compact JSON text (a scan's pages, see
    /// [`crate::stripe::raw`]) without building a value tree; `implied` as in
    /// [`Decoder::decode_with_implied`].
    pub fn decode_raw(&self, objects: &RawObjects, implied: &[(String, String)]) -> Result<RecordBatch> {
        if self.columns.is_empty() {
            return self.batch(vec![], objects.len());
        }
        let implied = self.implied(implied);
        let mut builders: Vec<ColumnBuilder> =
            self.columns.iter().map(|c| ColumnBuilder::new(c, objects.len())).collect();
        let mut rows = from_text::Rows {
            columns: &self.columns,
            plan: &self.plan,
            implied: &implied,
            builders: &mut builders,
            filled: vec![false; self.columns.len()],
            previous_keys: Vec::new(),
        };
        for text in objects.iter() {
            rows.append(text).map_err(|e| self.error(e))?;
        }
        let arrays = builders.iter_mut().map(ColumnBuilder::finish).collect();
        self.batch(arrays, objects.len())
    }

    fn implied<'a>(&self, implied: &'a [(String, String)]) -> Vec<Option<&'a str>> {
        self.columns.iter().map(|col| implied.iter().find(|(c, _)| *c == col.name).map(|(_, v)| v.as_str())).collect()
    }

    fn batch(&self, arrays: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch> {
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options).map_err(|e| {
            DataFusionError::ArrowError(Box::new(e), Some(format!("decoding {} objects into a batch", self.table)))
        })
    }

    fn error(&self, e: impl std::fmt::Display) -> DataFusionError {
        DataFusionError::Execution(format!("could not decode a {} object: {e}", self.table))
    }
}

/// Appends the value `col` reads from `object`.
fn append_value(
    builder: &mut ColumnBuilder,
    col: &ColumnDef,
    object: &Value,
    implied: Option<&str>,
) -> Result<(), ArrowError> {
    if col.name == RAW_COLUMN && col.source.is_empty() {
        return builder.append_scalar(col, Scalar::Compound(std::borrow::Cow::Borrowed(object)), None);
    }
    let value = match col.source.as_slice() {
        [] => object.get(&col.name),
        path => path.iter().try_fold(object, |v, key| v.get(key)),
    };
    match value {
        Some(v) => builder.append_scalar(col, Scalar::of(v), implied),
        None => builder.append_missing(implied),
    }
}

#[cfg(test)]
mod tests;
