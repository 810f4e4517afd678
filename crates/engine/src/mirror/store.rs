//! One Delta table per mirrored Stripe table, with the live table's columns
//! (timestamps in Delta's microsecond unit, every column nullable). The backfill
//! appends; events, nested refreshes and reconciliation merge (upsert and delete
//! by `id`). Every commit carries the table's [`TableState`] in its commit info
//! and as a Delta application transaction, so rows and cursor land together.
//! A store of a mirror holding several accounts writes one account's
//! partition only (see [`super::partition`]). Its files are compacted and
//! vacuumed by [`compact`] and [`vacuum`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray, new_null_array};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, lit};
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::SaveMode;
use futures::{FutureExt, StreamExt, TryFutureExt};
use std::future::IntoFuture;

use super::partition::{self, Partition};
use super::state::{APP_ID, STATE_KEY, TableState};
use crate::{Error, Result};

mod compact;
mod vacuum;

pub use compact::Compaction;

/// Source column marking a merge row as a delete.
const DELETE_FLAG: &str = "_sync_delete";

/// What a merge changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    /// Rows inserted.
    pub inserted: u64,
    /// Rows updated.
    pub updated: u64,
    /// Rows deleted.
    pub deleted: u64,
}

/// Target rows a merge also removes when the source lacks them: those whose
/// `column` is one of `values` (the children of refreshed parents).
#[derive(Debug, Clone)]
pub struct Scope {
    /// The parent column (`invoice`).
    pub column: String,
    /// The parents whose children the source holds in full.
    pub values: Vec<String>,
}

/// A mirrored table on disk.
pub struct TableStore {
    name: String,
    path: PathBuf,
    table: Option<DeltaTable>,
    live: SchemaRef,
    /// The stored columns of the live ones (without the partition column).
    stored: SchemaRef,
    /// With a partition: the stored schema plus the partition column.
    written: SchemaRef,
    partition: Option<Partition>,
}

impl std::fmt::Debug for TableStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableStore").field("name", &self.name).field("path", &self.path).finish()
    }
}

fn delta_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Mirror(format!("{what}: {e}"))
}

/// The schema written to Delta for a live schema: timestamps in microseconds
/// (Delta's only unit), every column nullable (a delete row carries only `id`).
pub fn stored_schema(live: &Schema) -> SchemaRef {
    let fields: Vec<Field> = live
        .fields()
        .iter()
        .map(|f| {
            let ty = match f.data_type() {
                DataType::Timestamp(TimeUnit::Second, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
                other => other.clone(),
            };
            Field::new(f.name(), ty, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// `batch` with each column cast to `schema`'s type (same column order).
pub fn cast_to(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| if c.data_type() == f.data_type() { Ok(c.clone()) } else { cast(c, f.data_type()) })
        .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

impl TableStore {
    /// Opens the Delta table `dir/name`, or creates it empty (with `state`
    /// committed) when there is none. `live` is the live table's schema.
    pub async fn open(dir: &Path, name: &str, live: SchemaRef) -> Result<Self> {
        Self::open_in(dir, name, live, None).await
    }

    /// [`Self::open`], for one account's partition of a mirror of several
    /// accounts when `partition` is given.
    pub async fn open_in(dir: &Path, name: &str, live: SchemaRef, partition: Option<Partition>) -> Result<Self> {
        let path = dir.join(name);
        let stored = stored_schema(&live);
        let written = match &partition {
            Some(p) => partition::schema_with(&stored, &p.column),
            None => stored.clone(),
        };
        let mut store = TableStore { name: name.to_string(), path, table: None, live, stored, written, partition };
        let url =
            deltalake::ensure_table_uri(store.path.to_string_lossy()).map_err(|e| delta_err("table location", e))?;
        let table = DeltaTable::try_from_url(url).await.map_err(|e| delta_err(&format!("open {name}"), e))?;
        if table.version().is_some() {
            store.table = Some(table);
        } else {
            store.table = Some(table);
            store.append(vec![], &TableState::default(), false).await?;
        }
        Ok(store)
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Delta table's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The live schema rows are given and read in.
    pub fn live_schema(&self) -> SchemaRef {
        self.live.clone()
    }

    fn table(&self) -> Result<&DeltaTable> {
        self.table.as_ref().ok_or_else(|| Error::Mirror(format!("table {} is not open", self.name)))
    }

    /// The state of the latest sync commit (default when sync never committed);
    /// with a partition, its account's.
    pub async fn state(&self) -> Result<TableState> {
        match &self.partition {
            Some(p) => Ok(partition::read_states(self.table()?).await?.remove(&p.account).unwrap_or_default()),
            None => read_state(self.table()?).await,
        }
    }

    /// The account partition this store writes, if any.
    pub fn partition(&self) -> Option<&Partition> {
        self.partition.as_ref()
    }

    /// `batch` (live schema) as written: stored types, and the partition column.
    fn to_written(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let b = cast_to(batch, &self.stored)?;
        match &self.partition {
            Some(p) => partition::add_column(&b, &self.written, &p.account),
            None => Ok(b),
        }
    }

    /// The filter on the partition column selecting this store's rows (SQL), if any.
    fn partition_sql(&self) -> Option<String> {
        self.partition.as_ref().map(|p| format!("\"{}\" = '{}'", p.column, p.account.replace('\'', "''")))
    }

    /// Parquet settings: `_raw` (one whole object per row, never repeated) skips
    /// the dictionary and statistics; statistics per column chunk, not page.
    fn writer_properties() -> WriterProperties {
        let raw = ColumnPath::from(crate::decode::RAW_COLUMN);
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_column_dictionary_enabled(raw.clone(), false)
            .set_column_statistics_enabled(raw, EnabledStatistics::None)
            .build()
    }

    /// With a partition, this store's turn to commit (see [`partition::commit_lock`]).
    async fn commit_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.partition {
            Some(_) => Some(partition::commit_lock(&self.path).await),
            None => None,
        }
    }

    /// The commit-info entry carrying `state`. With a partition the table is
    /// first brought to its latest version (another account's store may have
    /// committed since) and `state` joins every other account's.
    async fn state_metadata(&mut self, state: &TableState) -> Result<(String, serde_json::Value)> {
        let Some(p) = self.partition.clone() else {
            let json = serde_json::to_value(state).map_err(|e| delta_err("encode state", e))?;
            return Ok((STATE_KEY.to_string(), json));
        };
        let table = self.table.as_mut().ok_or_else(|| Error::Mirror(format!("table {} is not open", self.name)))?;
        let mut states = Default::default();
        if table.version().is_some() {
            table.update_state().await.map_err(|e| delta_err(&format!("refresh {}", self.name), e))?;
            states = partition::read_states(table).await?;
        }
        states.insert(p.account.clone(), state.clone());
        let json = serde_json::to_value(&states).map_err(|e| delta_err("encode state", e))?;
        Ok((partition::STATES_KEY.to_string(), json))
    }

    /// The commit's properties carrying `state`, and its step as the sync's
    /// Delta application transaction.
    async fn commit_properties(&mut self, state: &TableState) -> Result<CommitProperties> {
        let entry = self.state_metadata(state).await?;
        let app = self.partition.as_ref().map_or_else(|| APP_ID.to_string(), |p| partition::app_id(&p.account));
        Ok(CommitProperties::default()
            .with_application_transaction(Transaction::new(app, state.step))
            .with_metadata([entry]))
    }

    /// Runs a maintenance operation `op` on the open table on the commit
    /// runtime and keeps the table it returns (on failure, the table as it
    /// was); `what` names it in the error.
    async fn operate<T: Send + 'static>(
        &mut self,
        what: &str,
        op: impl FnOnce(DeltaTable) -> futures::future::BoxFuture<'static, deltalake::DeltaResult<(DeltaTable, T)>>,
    ) -> Result<T> {
        let table = self.table.take().ok_or_else(|| Error::Mirror(format!("table {} is not open", self.name)))?;
        let reopen = table.clone();
        match super::commit::run(op(table)).await {
            Ok((table, out)) => {
                self.table = Some(table);
                Ok(out)
            }
            Err(e) => {
                self.table = Some(reopen);
                Err(delta_err(&format!("{what} {}", self.name), e))
            }
        }
    }

    /// Appends rows (live schema) — or replaces every row with them when
    /// `overwrite`; with a partition, every row of its account — and commits
    /// `state` with them.
    pub async fn append(&mut self, batches: Vec<RecordBatch>, state: &TableState, overwrite: bool) -> Result<()> {
        let mut stored = Vec::with_capacity(batches.len().max(1));
        for b in &batches {
            stored.push(self.to_written(b)?);
        }
        if stored.is_empty() {
            stored.push(RecordBatch::new_empty(self.written.clone()));
        }
        let _turn = self.commit_turn().await;
        let properties = self.commit_properties(state).await?;
        let name = self.name.clone();
        let partition = self.partition.clone();
        self.operate("commit to", move |table| {
            let mut write = table
                .write(stored)
                .with_save_mode(if overwrite { SaveMode::Overwrite } else { SaveMode::Append })
                .with_table_name(name)
                .with_writer_properties(Self::writer_properties())
                .with_commit_properties(properties);
            if let Some(p) = partition {
                write = write.with_partition_columns([p.column.clone()]);
                if overwrite {
                    write =
                        write.with_replace_where(Expr::Column(Column::new_unqualified(&p.column)).eq(lit(p.account)));
                }
            }
            write.into_future().map_ok(|t| (t, ())).boxed()
        })
        .await
    }

    /// Upserts `rows` (live schema, one row per id), deletes `deletes`, and —
    /// with a `scope` — deletes the scope's rows absent from `rows`; one commit
    /// carrying `state`.
    pub async fn merge(
        &mut self,
        rows: &[RecordBatch],
        deletes: &[String],
        scope: Option<&Scope>,
        state: &TableState,
    ) -> Result<MergeCounts> {
        let source = self.merge_source(rows, deletes)?;
        let ctx = SessionContext::new();
        let df = ctx.read_batch(source)?;
        let turn = self.commit_turn().await;
        let properties = self.commit_properties(state).await?;
        let version = self.table.as_ref().and_then(|t| t.version());
        let names: Vec<String> = self.written.fields().iter().map(|f| f.name().clone()).collect();
        let partition = self.partition.clone();
        let scope = scope.cloned();
        let writer = Self::writer_properties();
        // Planned inside the operation, so a plan that fails leaves the table open too.
        let merged = self
            .operate("merge into", move |table| {
                async move {
                    let qualified = |q: &str, name: &str| Expr::Column(Column::new(Some(q), name));
                    let flag = qualified("source", DELETE_FLAG);
                    // With a partition only its account's rows are matched (and the
                    // literal lets Delta skip the other accounts' files).
                    let mine = partition.map(|p| qualified("target", &p.column).eq(lit(p.account)));
                    let on = qualified("target", "id").eq(qualified("source", "id"));
                    let on = match &mine {
                        Some(m) => on.and(m.clone()),
                        None => on,
                    };
                    let mut builder = table
                        .merge(df, on)
                        .with_source_alias("source")
                        .with_target_alias("target")
                        .with_writer_properties(writer)
                        .with_commit_properties(properties)
                        .when_matched_delete(|d| d.predicate(flag.clone().eq(lit(true))))?
                        .when_matched_update(|mut u| {
                            for n in &names {
                                u = u.update(Column::new_unqualified(n), qualified("source", n));
                            }
                            u
                        })?
                        .when_not_matched_insert(|mut i| {
                            i = i.predicate(flag.clone().eq(lit(false)));
                            for n in &names {
                                i = i.set(Column::new_unqualified(n), qualified("source", n));
                            }
                            i
                        })?;
                    if let Some(scope) = scope {
                        let list: Vec<Expr> = scope.values.iter().map(|v| lit(v.clone())).collect();
                        let mut pred = qualified("target", &scope.column).in_list(list, false);
                        if let Some(m) = &mine {
                            pred = pred.and(m.clone());
                        }
                        builder = builder.when_not_matched_by_source_delete(|d| d.predicate(pred))?;
                    }
                    builder.into_future().await
                }
                .boxed()
            })
            .await;
        drop(turn);
        let m = merged?;
        if self.table.as_ref().and_then(|t| t.version()) == version {
            // Delta skips a merge that changes no row; the state still needs its commit.
            self.append(vec![], state, false).await?;
        }
        Ok(MergeCounts {
            inserted: m.num_target_rows_inserted as u64,
            updated: m.num_target_rows_updated as u64,
            deleted: m.num_target_rows_deleted as u64,
        })
    }

    /// The merge source: `rows` then one `id`-only row per delete, flagged.
    fn merge_source(&self, rows: &[RecordBatch], deletes: &[String]) -> Result<RecordBatch> {
        let mut fields: Vec<Field> = self.written.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(DELETE_FLAG, DataType::Boolean, false));
        let schema = Arc::new(Schema::new(fields));
        let mut parts = Vec::new();
        for b in rows {
            let b = self.to_written(b)?;
            let mut cols = b.columns().to_vec();
            cols.push(Arc::new(BooleanArray::from(vec![false; b.num_rows()])));
            parts.push(RecordBatch::try_new(schema.clone(), cols)?);
        }
        if !deletes.is_empty() {
            let n = deletes.len();
            let cols: Vec<ArrayRef> = schema
                .fields()
                .iter()
                .map(|f| match f.name().as_str() {
                    "id" => Arc::new(StringArray::from(deletes.to_vec())) as ArrayRef,
                    name if self.partition.as_ref().is_some_and(|p| p.column == name) => {
                        let account = self.partition.as_ref().map_or("", |p| p.account.as_str());
                        Arc::new(StringArray::from(vec![account; n])) as ArrayRef
                    }
                    DELETE_FLAG => Arc::new(BooleanArray::from(vec![true; n])),
                    _ => new_null_array(f.data_type(), n),
                })
                .collect();
            parts.push(RecordBatch::try_new(schema.clone(), cols)?);
        }
        Ok(concat_batches(&schema, &parts)?)
    }

    /// Every row (with a partition, of its account), in the live schema.
    pub async fn read_all(&self) -> Result<Vec<RecordBatch>> {
        read_rows_where(self.table()?, &self.live, self.partition_sql()).await
    }

    /// `id` -> `_raw` of the rows created at or after `since` (all rows: `None`).
    pub async fn raw_by_id(&self, since: Option<i64>) -> Result<HashMap<String, String>> {
        let table = self.table()?;
        let ctx = SessionContext::new();
        table.update_datafusion_session(&ctx.state()).map_err(|e| delta_err("register table", e))?;
        let provider = table.table_provider().await.map_err(|e| delta_err("read table", e))?;
        ctx.register_table("t", provider)?;
        let conditions: Vec<String> = since
            .map(|s| format!("created >= '{}'", crate::time::rfc3339(s)))
            .into_iter()
            .chain(self.partition_sql())
            .collect();
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let batches = ctx.sql(&format!("SELECT id, \"_raw\" FROM t{filter}")).await?.collect().await?;
        let mut out = HashMap::new();
        for b in &batches {
            let text = |i: usize| cast(b.column(i), &DataType::Utf8);
            let (ids, raws) = (text(0)?, text(1)?);
            let ids = ids
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .unwrap_or_else(|| StringArray::from(Vec::<String>::new()));
            let raws = raws
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .unwrap_or_else(|| StringArray::from(Vec::<String>::new()));
            for r in 0..ids.len().min(raws.len()) {
                if ids.is_valid(r) {
                    out.insert(
                        ids.value(r).to_string(),
                        if raws.is_valid(r) { raws.value(r).to_string() } else { String::new() },
                    );
                }
            }
        }
        Ok(out)
    }
}

/// Every row of `table`, cast to `live`.
pub async fn read_rows(table: &DeltaTable, live: &SchemaRef) -> Result<Vec<RecordBatch>> {
    read_rows_where(table, live, None).await
}

/// The rows of `table` matching the SQL condition `filter` (all: `None`), cast to `live`.
async fn read_rows_where(table: &DeltaTable, live: &SchemaRef, filter: Option<String>) -> Result<Vec<RecordBatch>> {
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state()).map_err(|e| delta_err("register table", e))?;
    let provider = table.table_provider().await.map_err(|e| delta_err("read table", e))?;
    ctx.register_table("t", provider)?;
    let filter = filter.map(|f| format!(" WHERE {f}")).unwrap_or_default();
    let batches = ctx.sql(&format!("SELECT * FROM t{filter}")).await?.collect().await?;
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let cols = live
            .fields()
            .iter()
            .map(|f| {
                let c =
                    b.column_by_name(f.name()).cloned().unwrap_or_else(|| new_null_array(f.data_type(), b.num_rows()));
                if c.data_type() == f.data_type() { Ok(c) } else { cast(&c, f.data_type()) }
            })
            .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
        out.push(RecordBatch::try_new(live.clone(), cols)?);
    }
    Ok(out)
}

/// The number of rows of `table` (from the file statistics where Delta has them).
pub async fn count_rows(table: &DeltaTable) -> Result<u64> {
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state()).map_err(|e| delta_err("register table", e))?;
    let provider = table.table_provider().await.map_err(|e| delta_err("read table", e))?;
    ctx.register_table("t", provider)?;
    let batches = ctx.sql("SELECT count(*) FROM t").await?.collect().await?;
    let count = batches
        .first()
        .and_then(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().map(|a| a.value(0)));
    Ok(count.unwrap_or(0) as u64)
}

/// Rows of `table` per value of its `column` (the account partitions).
pub async fn count_rows_by(table: &DeltaTable, column: &str) -> Result<HashMap<String, u64>> {
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state()).map_err(|e| delta_err("register table", e))?;
    let provider = table.table_provider().await.map_err(|e| delta_err("read table", e))?;
    ctx.register_table("t", provider)?;
    let sql = format!("SELECT CAST(\"{column}\" AS VARCHAR), count(*) FROM t GROUP BY 1");
    let mut out = HashMap::new();
    for b in ctx.sql(&sql).await?.collect().await? {
        let keys = cast(b.column(0), &DataType::Utf8)?;
        let keys = keys.as_any().downcast_ref::<StringArray>().cloned();
        let counts = b.column(1).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().cloned();
        let (Some(keys), Some(counts)) = (keys, counts) else { continue };
        for r in 0..keys.len() {
            if keys.is_valid(r) {
                out.insert(keys.value(r).to_string(), counts.value(r) as u64);
            }
        }
    }
    Ok(out)
}

/// The newest sync state committed to `table` (default when none).
pub async fn read_state(table: &DeltaTable) -> Result<TableState> {
    let mut history = table.history(Some(64));
    let mut best: Option<TableState> = None;
    while let Some(info) = history.next().await {
        let info = info.map_err(|e| delta_err("read the table history", e))?;
        if let Some(v) = info.info.get(STATE_KEY) {
            let s: TableState = serde_json::from_value(v.clone()).map_err(|e| delta_err("decode state", e))?;
            if best.as_ref().is_none_or(|b| b.step < s.step) {
                best = Some(s);
            }
        }
    }
    Ok(best.unwrap_or_default())
}

/// Opens an existing Delta table read-only (`None` when `path` holds none).
pub async fn open_existing(path: &Path) -> Result<Option<DeltaTable>> {
    if !path.join("_delta_log").is_dir() {
        return Ok(None);
    }
    let url = deltalake::ensure_table_uri(path.to_string_lossy()).map_err(|e| delta_err("table location", e))?;
    let table = DeltaTable::try_from_url(url).await.map_err(|e| delta_err("open table", e))?;
    Ok(table.version().is_some().then_some(table))
}

/// The ids in a batch's `id` column.
pub fn ids(batch: &RecordBatch) -> Vec<String> {
    let Some(col) = batch.column_by_name("id") else { return vec![] };
    let Some(s) = col.as_any().downcast_ref::<StringArray>() else { return vec![] };
    (0..s.len()).filter(|i| s.is_valid(*i)).map(|i| s.value(i).to_string()).collect()
}
