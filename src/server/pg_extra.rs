//! What `pg_catalog` lacks for the IDEs' connect-time queries (DataGrip's,
//! taken from the queries it is logged sending): the server-state functions
//! (`pg_postmaster_start_time()`, `pg_is_in_recovery()`, `txid_current()`,
//! `age(xid)`, `pg_tablespace_location()`, `pg_my_temp_schema()`) and tables (`pg_locks`, `pg_stat_ssl`, `pg_timezone_names`,
//! `pg_timezone_abbrevs`), answered for a server that has no transactions,
//! locks or replicas; and [`ServerCatalog`], the `pg_catalog` schema that
//! holds them beside the library's tables, with `pg_attribute` typed as
//! results are sent (`pg_attribute.rs`) and `pg_tablespace.spcacl` of the
//! type `pg_database.datacl` has (DataGrip unions the two).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, IntervalMonthDayNanoArray, RecordBatch, StringArray, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{SchemaProvider, Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{ColumnarValue, Expr, ScalarUDF, Volatility, create_udf};
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::server::pg_attribute::JsonTypedAttributes;

/// The tables this module adds to `pg_catalog` (clients also name them unqualified).
pub const TABLES: [&str; 4] = ["pg_locks", "pg_stat_ssl", "pg_timezone_names", "pg_timezone_abbrevs"];

/// When the server process started (its first session), for `pg_postmaster_start_time()`.
fn started() -> SystemTime {
    static STARTED: OnceLock<SystemTime> = OnceLock::new();
    *STARTED.get_or_init(SystemTime::now)
}

/// Registers the server-state functions in `ctx`.
pub fn register_functions(ctx: &SessionContext) {
    started();
    let timestamptz = DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()));
    let start = move |_: &[ColumnarValue]| -> Result<ColumnarValue> {
        let micros = started().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0);
        Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(Some(micros), Some("+00:00".into()))))
    };
    ctx.register_udf(create_udf("pg_postmaster_start_time", vec![], timestamptz, Volatility::Stable, Arc::new(start)));
    ctx.register_udf(constant("pg_is_in_recovery", vec![], ScalarValue::Boolean(Some(false))));
    // No transactions: every statement runs alone, as transaction 1.
    ctx.register_udf(constant("txid_current", vec![], ScalarValue::Int64(Some(1))));
    ctx.register_udf(constant("age", vec![DataType::Int64], ScalarValue::Int32(Some(0))));
    // No temporary schemas: Postgres answers 0 then (ADBC's get_objects asks).
    ctx.register_udf(constant("pg_my_temp_schema", vec![], ScalarValue::Int32(Some(0))));
    // Both tablespaces are the default ones, whose location Postgres shows as ''.
    ctx.register_udf(constant("pg_tablespace_location", vec![DataType::Int32], ScalarValue::Utf8(Some(String::new()))));
}

/// A function of `args` answering `value` for every row.
fn constant(name: &str, args: Vec<DataType>, value: ScalarValue) -> ScalarUDF {
    let ty = value.data_type();
    let func = move |given: &[ColumnarValue]| -> Result<ColumnarValue> {
        let rows = given.iter().find_map(|a| match a {
            ColumnarValue::Array(a) => Some(a.len()),
            ColumnarValue::Scalar(_) => None,
        });
        Ok(match rows {
            Some(n) => ColumnarValue::Array(value.to_array_of_size(n)?),
            None => ColumnarValue::Scalar(value.clone()),
        })
    };
    create_udf(name, args, ty, Volatility::Stable, Arc::new(func))
}

/// The extra tables, by name.
fn extra_tables() -> Result<HashMap<&'static str, Arc<dyn TableProvider>>> {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let int = |name: &str| Field::new(name, DataType::Int32, true);
    let interval = |name: &str| Field::new(name, DataType::Interval(IntervalUnit::MonthDayNano), true);
    let boolean = |name: &str| Field::new(name, DataType::Boolean, true);
    let empty = |fields: Vec<Field>| -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])?))
    };
    let locks = empty(vec![
        text("locktype"),
        int("database"),
        int("relation"),
        int("page"),
        Field::new("tuple", DataType::Int16, true),
        text("virtualxid"),
        Field::new("transactionid", DataType::Int64, true),
        int("classid"),
        int("objid"),
        Field::new("objsubid", DataType::Int16, true),
        text("virtualtransaction"),
        int("pid"),
        text("mode"),
        boolean("granted"),
        boolean("fastpath"),
        Field::new("waitstart", DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())), true),
    ])?;
    let ssl = empty(vec![
        int("pid"),
        boolean("ssl"),
        text("version"),
        text("cipher"),
        int("bits"),
        text("client_dn"),
        text("client_serial"),
        text("issuer_dn"),
    ])?;
    // Timestamps are shown in UTC: the one zone.
    let utc = |fields: Vec<Field>, with_name: bool| -> Result<Arc<dyn TableProvider>> {
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["UTC"]))];
        if with_name {
            columns.push(Arc::new(StringArray::from(vec!["UTC"])));
        }
        columns.push(Arc::new(IntervalMonthDayNanoArray::from(vec![Some(Default::default())])));
        columns.push(Arc::new(BooleanArray::from(vec![false])));
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    };
    let names = utc(vec![text("name"), text("abbrev"), interval("utc_offset"), boolean("is_dst")], true)?;
    let abbrevs = utc(vec![text("abbrev"), interval("utc_offset"), boolean("is_dst")], false)?;
    Ok(HashMap::from([
        ("pg_locks", locks),
        ("pg_stat_ssl", ssl),
        ("pg_timezone_names", names),
        ("pg_timezone_abbrevs", abbrevs),
    ]))
}

/// The `pg_catalog` schema: the library's, plus this module's tables, with
/// `pg_attribute` and `pg_tablespace` adjusted (see the module).
#[derive(Debug)]
pub struct ServerCatalog {
    inner: Arc<dyn SchemaProvider>,
    extras: HashMap<&'static str, Arc<dyn TableProvider>>,
}

impl ServerCatalog {
    /// Wraps the library's `pg_catalog` schema.
    pub fn new(inner: Arc<dyn SchemaProvider>) -> Result<Self> {
        Ok(Self { inner, extras: extra_tables()? })
    }
}

#[async_trait]
impl SchemaProvider for ServerCatalog {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(self.extras.keys().map(|n| (*n).to_owned()));
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some(table) = self.extras.get(name) {
            return Ok(Some(Arc::clone(table)));
        }
        let Some(table) = self.inner.table(name).await? else { return Ok(None) };
        Ok(Some(match name {
            "pg_attribute" => match self.inner.table("pg_class").await? {
                Some(classes) => Arc::new(JsonTypedAttributes::new(table, classes)),
                None => table,
            },
            "pg_tablespace" => {
                let acl = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
                Arc::new(NullColumnRetyped { inner: table, column: "spcacl", to: acl })
            }
            _ => table,
        }))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.extras.contains_key(name) || self.inner.table_exist(name)
    }
}

/// A table whose `column`, NULL in every row, is given type `to`.
#[derive(Debug)]
struct NullColumnRetyped {
    inner: Arc<dyn TableProvider>,
    column: &'static str,
    to: DataType,
}

#[async_trait]
impl TableProvider for NullColumnRetyped {
    fn schema(&self) -> SchemaRef {
        let schema = self.inner.schema();
        let fields = schema
            .fields()
            .iter()
            .map(|f| {
                if f.name() == self.column {
                    Arc::new(Field::new(f.name(), self.to.clone(), true))
                } else {
                    Arc::clone(f)
                }
            })
            .collect::<Vec<_>>();
        Arc::new(Schema::new(fields))
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = self.schema();
        let index = schema.index_of(self.column)?;
        let batches = collect(self.inner.scan(state, None, &[], None).await?, state.task_ctx()).await?;
        let mut retyped = Vec::with_capacity(batches.len());
        for batch in batches {
            if batch.column(index).null_count() != batch.num_rows() {
                return Err(DataFusionError::Internal(format!("{} holds values; it cannot be retyped", self.column)));
            }
            let mut columns = batch.columns().to_vec();
            columns[index] = new_null_array(&self.to, batch.num_rows());
            retyped.push(RecordBatch::try_new(Arc::clone(&schema), columns)?);
        }
        MemTable::try_new(schema, vec![retyped])?.scan(state, projection, filters, limit).await
    }
}
