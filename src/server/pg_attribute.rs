//! `pg_catalog.pg_attribute` with the types results are sent as: the
//! library derives a column's type from its Arrow type alone, so a Stripe
//! JSON column (Arrow text) and `metadata` (an Arrow map) read as `text`,
//! while `encode.rs` sends both as `json`. Drivers that look a result's
//! column up in `pg_attribute` (pgJDBC's `getColumns`, DataGrip, DBeaver)
//! then disagree with the RowDescription. This wrapper answers
//! `pg_attribute` with `json` (OID 114) for exactly the columns `encode.rs`
//! sends as `json` (`pg_extra::ServerCatalog` puts it in `pg_catalog`).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, Int32Array, RecordBatch};
use datafusion::arrow::datatypes::{Int32Type, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::{ExecutionPlan, collect};

use stripe_sql::catalog::{self, ColumnType};

/// The `json` type's OID.
const JSON_OID: i32 = 114;

/// `pg_attribute`, retyped (see the module).
#[derive(Debug)]
pub struct JsonTypedAttributes {
    attributes: Arc<dyn TableProvider>,
    classes: Arc<dyn TableProvider>,
}

impl JsonTypedAttributes {
    /// The library's `pg_attribute`, retyped with the help of its `pg_class`.
    pub fn new(attributes: Arc<dyn TableProvider>, classes: Arc<dyn TableProvider>) -> Self {
        Self { attributes, classes }
    }
}

#[async_trait]
impl TableProvider for JsonTypedAttributes {
    fn schema(&self) -> SchemaRef {
        self.attributes.schema()
    }

    fn table_type(&self) -> TableType {
        self.attributes.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Both are small in-memory catalog tables, read whole.
        let read = |table: &Arc<dyn TableProvider>| {
            let table = Arc::clone(table);
            async move { collect(table.scan(state, None, &[], None).await?, state.task_ctx()).await }
        };
        let names = relation_names(&read(&self.classes).await?)?;
        let batches =
            read(&self.attributes).await?.into_iter().map(|batch| retype(batch, &names)).collect::<Result<Vec<_>>>()?;
        let table = MemTable::try_new(self.schema(), vec![batches])?;
        table.scan(state, projection, filters, limit).await
    }
}

/// `pg_class`'s relation names by OID.
fn relation_names(batches: &[RecordBatch]) -> Result<HashMap<i32, String>> {
    let mut names = HashMap::new();
    for batch in batches {
        let oids = column(batch, "oid")?.as_primitive::<Int32Type>();
        let relnames = column(batch, "relname")?.as_string::<i32>();
        for i in 0..batch.num_rows() {
            if !oids.is_null(i) && !relnames.is_null(i) {
                names.insert(oids.value(i), relnames.value(i).to_owned());
            }
        }
    }
    Ok(names)
}

/// `batch` of `pg_attribute` with `atttypid` set to `json` for the Stripe
/// tables' JSON and map columns.
fn retype(batch: RecordBatch, names: &HashMap<i32, String>) -> Result<RecordBatch> {
    let relids = column(&batch, "attrelid")?.as_primitive::<Int32Type>().clone();
    let attnames = column(&batch, "attname")?.as_string::<i32>().clone();
    let index = batch.schema().index_of("atttypid")?;
    let types = batch.column(index).as_primitive::<Int32Type>();
    let retyped: Int32Array = (0..batch.num_rows())
        .map(|i| {
            let json = !relids.is_null(i)
                && names
                    .get(&relids.value(i))
                    .and_then(|table| catalog::builtin().table(table))
                    .and_then(|t| t.column(attnames.value(i)))
                    .is_some_and(|c| matches!(c.ty, ColumnType::Json | ColumnType::StringMap));
            if json { Some(JSON_OID) } else { (!types.is_null(i)).then(|| types.value(i)) }
        })
        .collect();
    let mut columns = batch.columns().to_vec();
    columns[index] = Arc::new(retyped);
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a Arc<dyn Array>> {
    batch.column_by_name(name).ok_or_else(|| DataFusionError::Internal(format!("pg_catalog has no column {name}")))
}
