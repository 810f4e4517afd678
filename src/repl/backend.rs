//! The seam between the REPL and the engine: what the REPL needs to know about a
//! session (its SQL context, tables, columns, functions, request log), as a trait
//! the engine implements. Tests implement it over a plain `SessionContext`.

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// One table as listed by `\dt` and offered by completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// SQL name (`customers`).
    pub name: String,
    /// One line saying what filters push down (`id =, email =, created <>`), may be empty.
    pub hint: String,
}

/// One column as shown by `\d TABLE` and offered by completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// SQL column name.
    pub name: String,
    /// SQL type as analysts know it (`text`, `timestamptz`, `map<text, text>`).
    pub data_type: String,
    /// The Arrow type behind it (`Utf8`, `Timestamp(s, "UTC")`).
    pub arrow_type: String,
    /// How filters on this column push down (`list param`, `search`, ``), may be empty.
    pub pushdown: String,
    /// Whether and how the column can be written (`insert, update`), may be empty.
    pub writable: String,
}

/// One function or action as shown by `\df` and offered by completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// SQL name (`capture_payment_intent`).
    pub name: String,
    /// The arguments as text (`id text, amount_to_capture bigint`).
    pub arguments: String,
    /// One-line description.
    pub description: String,
}

/// The new rows of a watched query, one poll at a time (`\watch new`).
#[async_trait]
pub trait RowFeed: Send {
    /// The rows that appeared since the previous call (the first call: since
    /// the feed started); empty when nothing is new.
    async fn next_rows(&mut self) -> Result<Vec<datafusion::arrow::record_batch::RecordBatch>, String>;
}

/// What [`Backend::watch_new`] returns: `None` when the backend cannot watch.
pub type WatchStart<'a> = futures::future::BoxFuture<'a, Option<Result<Box<dyn RowFeed>, String>>>;

/// What the REPL and script runner run over. The engine implements it; every
/// method except `session` is descriptive and must be cheap (no API calls).
#[async_trait]
pub trait Backend: Send + Sync {
    /// The session to run SQL in (a cheap clone sharing state with the engine).
    fn session(&self) -> SessionContext;
    /// Tables, in display order.
    fn tables(&self) -> Vec<TableInfo>;
    /// Columns of `table`, or `None` when no such table exists.
    fn columns(&self, table: &str) -> Option<Vec<ColumnInfo>>;
    /// Free text about writes and actions on `table`, appended to `\d TABLE`.
    fn describe_extra(&self, table: &str) -> Option<String>;
    /// Starts a feed of the new rows of `sql` (and, with `changes`, updated and
    /// deleted ones) for `\watch new`; resolves to `None` when this backend
    /// cannot watch.
    fn watch_new<'a>(&'a self, _sql: &'a str, _changes: bool) -> WatchStart<'a> {
        Box::pin(async { None })
    }
    /// Functions and actions, in display order.
    fn functions(&self) -> Vec<FunctionInfo>;
    /// Lines describing the API calls made since `mark` (see `request_mark`).
    fn requests_since(&self, mark: u64) -> Vec<String>;
    /// A position in the request log; calls made later are returned by `requests_since`.
    fn request_mark(&self) -> u64;
    /// How stale each mirrored table is (seconds), when queries may read a
    /// mirror (`--mirror DIR`): for the banner and `\dt`.
    fn mirror_staleness(&self) -> Option<std::collections::BTreeMap<String, i64>> {
        None
    }
    /// Drop any cached API results (`\cache clear`).
    fn clear_cache(&self) {}
    /// What the last statement reported without failing (under
    /// `stripe.accounts`, the accounts that failed), taken: the next call
    /// returns only newer ones.
    fn take_warnings(&self) -> Vec<String> {
        Vec::new()
    }
    /// Plans and runs one statement. The default runs it in
    /// [`Backend::session`]; the engine runs it through its statement
    /// pipeline (marks, named arguments, `RETURNING`, hints).
    async fn run_sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        collect_sql(&self.session(), sql).await
    }
}

/// Runs `sql` in `ctx` and collects the result; a result without batches
/// still carries its schema (one empty batch), so headers can be printed.
pub async fn collect_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    // `DESCRIBE t` shows SQL type names (`text`, `timestamptz`) next to the Arrow type.
    stripe_sql::engine::collect_with_schema(stripe_sql::catalog::describe::sql(ctx, sql).await?).await
}
