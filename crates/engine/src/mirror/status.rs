//! `stripe_mirror_status()`: one row per mirrored table — rows, cursor, last
//! event applied, lag, last reconciliation and its repairs, last error — read
//! from the Delta tables (rows counted, the rest from the commit info) (and `errors.json`, which keeps the last
//! failure of each table until its next commit) under the configured mirror
//! location.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampSecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableFunctionImpl};
use datafusion::catalog::{TableFunctionArgs, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::location;
use super::state::TableState;
use super::store;

/// The file keeping each table's last failure.
const ERRORS_FILE: &str = "errors.json";

/// Where `stripe_mirror_status()` looks: a mirror folder, or a root holding
/// `<account>/<api version>` folders (a session config extension).
#[derive(Debug, Clone)]
pub struct MirrorRoot(pub PathBuf);

fn read_errors(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join(ERRORS_FILE)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

fn write_errors(dir: &Path, errors: &BTreeMap<String, String>) {
    if let Ok(text) = serde_json::to_string_pretty(errors) {
        let _ = std::fs::write(dir.join(ERRORS_FILE), text);
    }
}

/// Records the last failure of `table`.
pub fn write_error(dir: &Path, table: &str, message: &str) {
    let mut errors = read_errors(dir);
    errors.insert(table.to_string(), message.to_string());
    write_errors(dir, &errors);
}

/// The `errors.json` key of `table`'s failures: the table, or in a mirror of
/// several accounts `table/account`.
pub fn error_key(table: &str, account: Option<&str>) -> String {
    match account {
        Some(a) => format!("{table}/{a}"),
        None => table.to_string(),
    }
}

/// Forgets the last failure of `table` (it committed since).
pub fn clear_error(dir: &Path, table: &str) {
    let mut errors = read_errors(dir);
    if errors.remove(table).is_some() {
        write_errors(dir, &errors);
    }
}

/// The columns of `stripe_mirror_status()`.
pub fn status_schema() -> SchemaRef {
    let ts = || DataType::Timestamp(TimeUnit::Second, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("account", DataType::Utf8, false),
        Field::new("api_version", DataType::Utf8, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("rows", DataType::Int64, false),
        Field::new("phase", DataType::Utf8, false),
        Field::new("cursor", ts(), true),
        Field::new("last_event", DataType::Utf8, true),
        Field::new("last_event_at", ts(), true),
        Field::new("lag_seconds", DataType::Int64, true),
        Field::new("reconciled_at", ts(), true),
        Field::new("last_repairs", DataType::Int64, false),
        Field::new("total_repairs", DataType::Int64, false),
        Field::new("last_error", DataType::Utf8, true),
        Field::new("delta_version", DataType::Int64, false),
        Field::new("path", DataType::Utf8, false),
    ]))
}

/// One row of `stripe_mirror_status()`.
#[derive(Debug, Default)]
struct StatusRow {
    account: String,
    api_version: String,
    table: String,
    rows: i64,
    phase: String,
    cursor: Option<i64>,
    last_event: Option<String>,
    last_event_at: Option<i64>,
    lag: Option<i64>,
    reconciled_at: Option<i64>,
    last_repairs: i64,
    total_repairs: i64,
    last_error: Option<String>,
    version: i64,
    path: String,
}

/// The status rows of every mirror at or below `root`, lag measured at `now`:
/// one per table, and in a mirror of several accounts one per table and account.
pub async fn status_batch(root: &Path, now: i64) -> crate::Result<RecordBatch> {
    let mut out: Vec<StatusRow> = Vec::new();
    for (dir, marker) in location::find_mirrors(root) {
        let errors = read_errors(&dir);
        let fresh = super::fresh::read(&dir);
        let mut tables: Vec<PathBuf> =
            std::fs::read_dir(&dir)?.flatten().map(|e| e.path()).filter(|p| p.join("_delta_log").is_dir()).collect();
        tables.sort();
        for path in tables {
            let Some(table) = store::open_existing(&path).await? else { continue };
            let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let per_account: Vec<(String, TableState, i64)> = if marker.accounts.is_some() {
                let column =
                    crate::catalog::builtin().table(&name).map_or(crate::pushdown::accounts::ACCOUNT_COLUMN, |d| {
                        crate::pushdown::accounts::account_column(d)
                    });
                let counts = store::count_rows_by(&table, column).await?;
                super::partition::read_states(&table)
                    .await?
                    .into_iter()
                    .map(|(a, st)| {
                        let n = counts.get(&a).copied().unwrap_or(0) as i64;
                        (a, st, n)
                    })
                    .collect()
            } else {
                vec![(
                    marker.account.clone(),
                    store::read_state(&table).await?,
                    store::count_rows(&table).await? as i64,
                )]
            };
            for (account, state, rows) in per_account {
                let key = error_key(&name, marker.accounts.is_some().then_some(account.as_str()));
                out.push(StatusRow {
                    account,
                    api_version: marker.api_version.clone(),
                    rows,
                    phase: if state.backfill.is_some() { "backfill" } else { "follow" }.to_string(),
                    cursor: state.created_cursor.or((state.events.cursor > 0).then_some(state.events.cursor)),
                    last_event: state.events.last_event.clone(),
                    last_event_at: state.events.last_event_created,
                    // Since the table was last in step with Stripe (a whole sync step),
                    // not since its last event: a quiet table is fresh, not lagging.
                    lag: fresh.get(&name).map(|c| (now - c).max(0)),
                    reconciled_at: state.reconciled_at,
                    last_repairs: state.last_repairs as i64,
                    total_repairs: state.total_repairs as i64,
                    last_error: errors.get(&key).cloned(),
                    version: table.version().unwrap_or(0) as i64,
                    path: path.display().to_string(),
                    table: name.clone(),
                });
            }
        }
    }
    let text =
        |f: fn(&StatusRow) -> String| Arc::new(StringArray::from(out.iter().map(f).collect::<Vec<_>>())) as ArrayRef;
    let opt_text = |f: fn(&StatusRow) -> Option<String>| {
        Arc::new(StringArray::from(out.iter().map(f).collect::<Vec<_>>())) as ArrayRef
    };
    let int = |f: fn(&StatusRow) -> i64| Arc::new(Int64Array::from(out.iter().map(f).collect::<Vec<_>>())) as ArrayRef;
    let opt_int = |f: fn(&StatusRow) -> Option<i64>| {
        Arc::new(Int64Array::from(out.iter().map(f).collect::<Vec<_>>())) as ArrayRef
    };
    let ts = |f: fn(&StatusRow) -> Option<i64>| {
        Arc::new(TimestampSecondArray::from(out.iter().map(f).collect::<Vec<_>>()).with_timezone("UTC")) as ArrayRef
    };
    let columns: Vec<ArrayRef> = vec![
        text(|r| r.account.clone()),
        text(|r| r.api_version.clone()),
        text(|r| r.table.clone()),
        int(|r| r.rows),
        text(|r| r.phase.clone()),
        ts(|r| r.cursor),
        opt_text(|r| r.last_event.clone()),
        ts(|r| r.last_event_at),
        opt_int(|r| r.lag),
        ts(|r| r.reconciled_at),
        int(|r| r.last_repairs),
        int(|r| r.total_repairs),
        opt_text(|r| r.last_error.clone()),
        int(|r| r.version),
        text(|r| r.path.clone()),
    ];
    Ok(RecordBatch::try_new(status_schema(), columns)?)
}

/// The table function `stripe_mirror_status()`.
#[derive(Debug)]
pub struct MirrorStatusFunction;

impl TableFunctionImpl for MirrorStatusFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return Err(DataFusionError::Plan("stripe_mirror_status takes no arguments".into()));
        }
        Ok(Arc::new(StatusTable))
    }
}

/// Reads the status when the query runs (files may change between statements).
#[derive(Debug)]
struct StatusTable;

#[async_trait]
impl TableProvider for StatusTable {
    fn schema(&self) -> SchemaRef {
        status_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let root = state.config().get_extension::<MirrorRoot>().ok_or_else(|| {
            DataFusionError::Plan("stripe_mirror_status: no mirror location is set (pass --mirror DIR)".into())
        })?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let batch = status_batch(&root.0, now).await?;
        let exec = MemorySourceConfig::try_new_exec(&[vec![batch]], status_schema(), projection.cloned())?;
        Ok(exec)
    }
}
