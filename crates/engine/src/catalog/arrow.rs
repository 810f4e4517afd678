//! Catalog column types → Arrow types and table schemas.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use stripe_catalog::model::{ColumnType, TableDef};

/// The Arrow type of a catalog column type. `StringMap` uses the field names
/// arrow's `MapBuilder` produces (`entries` / `keys` / `values`) and
/// `StringList` the `ListBuilder` default (`item`), so decoded arrays match.
pub fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Utf8 | ColumnType::Json => DataType::Utf8,
        ColumnType::Int64 => DataType::Int64,
        ColumnType::Float64 => DataType::Float64,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
        ColumnType::StringMap => {
            let entries = Fields::from(vec![
                Field::new("keys", DataType::Utf8, false),
                Field::new("values", DataType::Utf8, true),
            ]);
            DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entries), false)), false)
        }
        ColumnType::StringList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
    }
}

/// A catalog table's Arrow schema (the catalog crate knows no Arrow).
pub trait ArrowSchema {
    /// The table's Arrow schema: one nullable field per column, in order
    /// (Stripe omits or nulls fields freely, so nothing is declared non-null).
    fn arrow_schema(&self) -> SchemaRef;
}

impl ArrowSchema for TableDef {
    fn arrow_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>(),
        ))
    }
}
