//! The engine's own table functions:
//! `stripe_tables()` (what each table pushes down, writes and actions),
//! `stripe_columns('t')` (a table's columns and their pushdown),
//! `stripe_request_log()` (the HTTP calls of the session the log still
//! keeps), `stripe_request_log_status()` (how many it keeps, dropped and
//! may keep) and `stripe_last_requests()` (the calls of the previous
//! statement run through [`crate::engine::Engine::sql`]). They read
//! in-memory state only.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMillisecondArray, UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::Expr;

use crate::catalog::{self, listing};
use crate::stripe::{self, LogEntry};

/// Where the previous and the current statement started in the request log.
#[derive(Debug, Default)]
pub struct StatementMarks {
    inner: Mutex<(u64, u64)>,
}

impl StatementMarks {
    /// Records that a new statement starts at log position `at`.
    pub fn start_statement(&self, at: u64) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m = (m.1, at);
    }

    /// The log range `[start, end)` of the previous statement.
    pub fn previous(&self) -> (u64, u64) {
        *self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Registers the engine's table functions.
pub fn register(ctx: &SessionContext, client: &stripe::Client, marks: Arc<StatementMarks>) {
    ctx.register_udtf("stripe_tables", Arc::new(TablesFunction));
    ctx.register_udtf("stripe_columns", Arc::new(ColumnsFunction));
    ctx.register_udtf("stripe_request_log", Arc::new(RequestLogFunction { log: client.request_log(), marks: None }));
    ctx.register_udtf("stripe_request_log_status", Arc::new(RequestLogStatusFunction { log: client.request_log() }));
    ctx.register_udtf(
        "stripe_last_requests",
        Arc::new(RequestLogFunction { log: client.request_log(), marks: Some(marks) }),
    );
    ctx.register_udtf("stripe_mirror_status", Arc::new(crate::mirror::status::MirrorStatusFunction));
}

#[derive(Debug)]
struct TablesFunction;

impl TableFunctionImpl for TablesFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        no_arguments("stripe_tables", args.exprs())?;
        single_batch(listing::tables_batch(catalog::builtin()))
    }
}

#[derive(Debug)]
struct ColumnsFunction;

impl TableFunctionImpl for ColumnsFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let name = match args.exprs() {
            [
                Expr::Literal(
                    ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
                    _,
                ),
            ] => s.clone(),
            _ => {
                return Err(DataFusionError::Plan(
                    "stripe_columns takes one argument: a table name as a string".into(),
                ));
            }
        };
        let table = catalog::builtin()
            .table(&name)
            .ok_or_else(|| DataFusionError::Plan(format!("stripe_columns: no table named {name}")))?;
        let batch = listing::columns_batch(table);
        let options = args.session().config().options().extensions.get::<crate::settings::StripeOptions>().cloned();
        if options.is_none_or(|o| o.accounts.trim().is_empty()) {
            return single_batch(batch);
        }
        // Under `stripe.accounts` the table has the account column too.
        single_batch(datafusion::arrow::compute::concat_batches(
            &batch.schema(),
            &[batch.clone(), account_column_row(crate::pushdown::accounts::account_column(table))],
        )?)
    }
}

/// The `stripe_columns` row of the account column `name`: text, choosing
/// the accounts called (`=`, `IN`), the target account of an INSERT.
fn account_column_row(name: &str) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![name])),
        Arc::new(StringArray::from(vec![catalog::sql_type(catalog::ColumnType::Utf8)])),
        Arc::new(StringArray::from(vec![catalog::arrow_type(catalog::ColumnType::Utf8).to_string()])),
        Arc::new(StringArray::from(vec![Some("accounts")])),
        Arc::new(StringArray::from(vec![None::<&str>])),
        Arc::new(BooleanArray::from(vec![true])),
        Arc::new(BooleanArray::from(vec![false])),
    ];
    RecordBatch::try_new(listing::columns_schema(), columns).expect("the account row matches the column listing")
}

#[derive(Debug)]
struct RequestLogFunction {
    log: stripe::RequestLog,
    marks: Option<Arc<StatementMarks>>,
}

impl TableFunctionImpl for RequestLogFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        no_arguments("stripe_request_log", args.exprs())?;
        Ok(Arc::new(LogTable { log: self.log.clone(), marks: self.marks.clone() }))
    }
}

/// The request log as a table read when the query runs, not when it is
/// planned: a prepared statement (planned at Parse, run at Execute, after
/// the statement mark moved) sees the calls of the statement before it.
#[derive(Debug)]
struct LogTable {
    log: stripe::RequestLog,
    marks: Option<Arc<StatementMarks>>,
}

#[async_trait::async_trait]
impl TableProvider for LogTable {
    fn schema(&self) -> datafusion::arrow::datatypes::SchemaRef {
        log_batch(&[]).schema()
    }

    fn table_type(&self) -> datafusion::datasource::TableType {
        datafusion::datasource::TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
        let entries = match &self.marks {
            None => self.log.entries(),
            Some(marks) => {
                let (start, end) = marks.previous();
                self.log.range(start, end).0
            }
        };
        let batch = log_batch(&entries);
        MemTable::try_new(batch.schema(), vec![vec![batch]])?.scan(state, projection, filters, limit).await
    }
}

#[derive(Debug)]
struct RequestLogStatusFunction {
    log: stripe::RequestLog,
}

impl TableFunctionImpl for RequestLogStatusFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        no_arguments("stripe_request_log_status", args.exprs())?;
        let schema = Arc::new(Schema::new(vec![
            Field::new("kept", DataType::Int64, false),
            Field::new("dropped", DataType::Int64, false),
            Field::new("capacity", DataType::Int64, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![self.log.kept() as i64])),
            Arc::new(Int64Array::from(vec![self.log.dropped() as i64])),
            Arc::new(Int64Array::from(vec![self.log.capacity() as i64])),
        ];
        single_batch(RecordBatch::try_new(schema, columns)?)
    }
}

/// The request log as rows: seq, method, path, params (`k=v&…`), status,
/// attempt, duration_ms, error, idempotency_key, cached (served from the
/// response cache: no HTTP request was made), sent_at (when the attempt was
/// sent, to count calls per time window).
pub fn log_batch(entries: &[LogEntry]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("method", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("params", DataType::Utf8, false),
        Field::new("status", DataType::Int64, true),
        Field::new("attempt", DataType::UInt32, false),
        Field::new("duration_ms", DataType::Float64, false),
        Field::new("error", DataType::Utf8, true),
        Field::new("idempotency_key", DataType::Boolean, false),
        Field::new("cached", DataType::Boolean, false),
        Field::new("sent_at", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
        Field::new("account", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(entries.iter().map(|e| e.seq as i64))),
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.method.as_str()))),
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| e.path.as_str()))),
        Arc::new(StringArray::from_iter_values(entries.iter().map(|e| stripe::form::readable(&e.params)))),
        Arc::new(Int64Array::from_iter(entries.iter().map(|e| e.status.map(i64::from)))),
        Arc::new(UInt32Array::from_iter_values(entries.iter().map(|e| e.attempt))),
        Arc::new(Float64Array::from_iter_values(entries.iter().map(|e| tenths_of_ms(e.duration)))),
        Arc::new(StringArray::from_iter(entries.iter().map(|e| e.error.as_deref()))),
        Arc::new(BooleanArray::from_iter(entries.iter().map(|e| Some(e.idempotency_key)))),
        Arc::new(BooleanArray::from_iter(entries.iter().map(|e| Some(e.cached)))),
        Arc::new(
            TimestampMillisecondArray::from_iter_values(
                entries
                    .iter()
                    .map(|e| e.sent_at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter(entries.iter().map(|e| e.account.as_deref()))),
    ];
    RecordBatch::try_new(schema, columns).expect("request log columns match their schema")
}

/// `d` in milliseconds rounded to 0.1 ms (what a clock measures of a call; more
/// digits are noise such as `17.652177000000002`).
pub fn tenths_of_ms(d: std::time::Duration) -> f64 {
    (d.as_micros() as f64 / 100.0).round() / 10.0
}

fn no_arguments(name: &str, exprs: &[Expr]) -> Result<()> {
    if exprs.is_empty() { Ok(()) } else { Err(DataFusionError::Plan(format!("{name} takes no arguments"))) }
}

fn single_batch(batch: RecordBatch) -> Result<Arc<dyn TableProvider>> {
    Ok(Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::util::display::array_value_to_string;
    use std::time::{Duration, SystemTime};

    #[test]
    fn durations_are_rounded_to_a_tenth_of_a_millisecond() {
        let entry = |micros: u64| LogEntry {
            seq: 0,
            method: "GET".into(),
            path: "/v1/charges".into(),
            params: vec![],
            status: Some(200),
            attempt: 1,
            duration: Duration::from_nanos(micros * 1000 + 177),
            error: None,
            idempotency_key: false,
            sent_at: SystemTime::UNIX_EPOCH,
            cached: false,
            account: Some("acct_1".into()),
        };
        let batch = log_batch(&[entry(17_652), entry(3), entry(250_050), entry(0)]);
        let col = batch.column_by_name("duration_ms").unwrap();
        let shown: Vec<String> = (0..4).map(|i| array_value_to_string(col, i).unwrap()).collect();
        assert_eq!(shown, ["17.7", "0.0", "250.1", "0.0"]);
        let accounts = batch.column_by_name("account").unwrap();
        assert_eq!(array_value_to_string(accounts, 0).unwrap(), "acct_1");
    }
}
