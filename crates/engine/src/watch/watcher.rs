//! One watch over one engine: each [`Watcher::poll`] runs the recomposed query
//! (and, with changes, the events query) and returns only what was not printed
//! before, plus the state to [`Watcher::commit`] once that output is written.
//! Polling does not change the watcher, so an interrupted poll loses nothing.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::LogicalPlan;
use serde_json::Value;

use super::changes::{self, ChangeKind};
use super::query::{CREATED_COLUMN, ID_COLUMN, WatchQuery};
use super::state::WatchState;
use crate::decode::Decoder;
use crate::engine::Engine;
use crate::settings::StripeOptions;
use crate::{Error, Result};

/// Table the objects of events are put in to run the user's query over them.
const OBJECTS_TABLE: &str = "__watch_objects";

/// The settle window `stripe-sql watch` and `\watch new` use by default (seconds).
pub const DEFAULT_SETTLE_SECS: i64 = 10;

/// How a watch starts.
#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    /// Also report updates and deletions (from events), with a leading `change` column.
    pub changes: bool,
    /// Start here (unix seconds) when there is no saved state; default: now.
    pub since: Option<i64>,
    /// Resume from this saved state (wins over `since` and `settle`).
    pub state: Option<WatchState>,
    /// Seconds behind the newest `created` seen that each poll looks again, for
    /// objects that become listable a moment after their `created` second
    /// (slow requests). 0 keeps only the newest second.
    pub settle: i64,
}

/// What one poll found.
#[derive(Debug)]
pub struct Poll {
    /// New rows (and changes), oldest first, in the user's columns
    /// (with changes: `change` first). Empty when nothing is new.
    pub batches: Vec<RecordBatch>,
    /// Number of rows in `batches`.
    pub rows: usize,
    /// API calls the poll made.
    pub calls: usize,
    /// The state after this poll; pass it to [`Watcher::commit`] once the rows are out.
    pub state: WatchState,
}

/// A running watch.
#[derive(Debug)]
pub struct Watcher {
    engine: Arc<Engine>,
    query: WatchQuery,
    change_types: Option<Vec<String>>,
    state: WatchState,
}

impl Watcher {
    /// Checks `sql` and prepares a watch over `engine`. Polls run with the
    /// session's `stripe.use_search` off (restored after each poll): the Search
    /// API is eventually consistent and would miss new objects.
    pub async fn new(engine: Arc<Engine>, sql: &str, opts: WatchOptions) -> Result<Self> {
        let query = WatchQuery::parse(sql)?;
        let table = query.table.name.clone();
        let change_types = if opts.changes {
            let types = changes::change_types(&query.table);
            if types.is_empty() {
                return Err(Error::Plan(format!(
                    "cannot watch changes of {table}: stripe sends no update or delete events for it"
                )));
            }
            Some(types)
        } else {
            None
        };
        let state = match opts.state {
            Some(s) if s.table != table => {
                return Err(Error::Config(format!(
                    "the watch state is for table {}, not {table}; use another --state file",
                    s.table
                )));
            }
            Some(s) => s,
            None => WatchState::starting_at(&table, opts.since.unwrap_or_else(unix_now), opts.settle),
        };
        // The user's own plan says best why a query cannot be watched (aggregates,
        // windows); the recomposed one must plan too. Planning makes no API call.
        check_plan(&engine.context().sql(sql).await?.into_unoptimized_plan())?;
        engine.context().sql(&query.rows_sql(state.rows.floor())).await?;
        Ok(Watcher { engine, query, change_types, state })
    }

    /// The state as of the last commit.
    pub fn state(&self) -> &WatchState {
        &self.state
    }

    /// The watched table.
    pub fn table(&self) -> &str {
        &self.query.table.name
    }

    /// Fetches what is new since the last commit (does not commit).
    pub async fn poll(&self) -> Result<Poll> {
        let log = self.engine.client().request_log();
        let before = log.len();
        let mut state = self.state.clone();
        let mut batches = Vec::new();
        let _search_off = SearchOff::new(&self.engine);
        let rows = self.engine.sql(&self.query.rows_sql(state.rows.floor())).await?;
        let keys = row_keys(&rows)?;
        let fresh = state.rows.admit(&keys);
        let mut at = 0;
        for batch in rows {
            let mask = &fresh[at..at + batch.num_rows()];
            at += batch.num_rows();
            let kept = filter_record_batch(&batch, &mask.iter().map(|b| Some(*b)).collect()).map_err(arrow)?;
            if kept.num_rows() > 0 {
                batches.push(self.finish(kept, ChangeKind::Created)?);
            }
        }
        if let Some(types) = &self.change_types {
            batches.extend(self.changes(types, &mut state).await?);
        }
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        Ok(Poll { batches, rows, calls: log.len() - before, state })
    }

    /// Accepts a poll's state (after its rows were written).
    pub fn commit(&mut self, state: WatchState) {
        self.state = state;
    }

    /// Polls and commits at once (for callers that keep the rows in memory).
    pub async fn poll_and_commit(&mut self) -> Result<Poll> {
        let poll = self.poll().await?;
        self.commit(poll.state.clone());
        Ok(poll)
    }

    /// Updates and deletions since the events cursor, through the user's query.
    async fn changes(&self, types: &[String], state: &mut WatchState) -> Result<Vec<RecordBatch>> {
        let result = self.engine.sql(&changes::events_sql(types, state.events.floor())).await?;
        let mut events = Vec::new();
        for batch in &result {
            let ids = strings(batch.column(0))?;
            let created = seconds(batch.column(1))?;
            let kinds = strings(batch.column(2))?;
            let objects = strings(batch.column(3))?;
            for i in 0..batch.num_rows() {
                let (Some(id), Some(object)) = (ids.value_opt(i), objects.value_opt(i)) else { continue };
                let kind = ChangeKind::of_event(kinds.value_opt(i).unwrap_or_default());
                events.push((id.to_string(), created.value_opt(i).unwrap_or_default(), kind, object.to_string()));
            }
        }
        // Lists are newest first; print oldest first, keeping the order within a second.
        events.reverse();
        events.sort_by_key(|e| e.1);
        let keys: Vec<(String, i64)> = events.iter().map(|e| (e.0.clone(), e.1)).collect();
        let fresh = state.events.admit(&keys);
        let mut out = Vec::new();
        for ((_, _, kind, object), new) in events.into_iter().zip(fresh) {
            if new {
                out.extend(self.object_rows(&object, kind).await?);
            }
        }
        Ok(out)
    }

    /// One event's object as rows of the user's query (none if its WHERE rejects it).
    async fn object_rows(&self, object: &str, kind: ChangeKind) -> Result<Vec<RecordBatch>> {
        let value: Value = serde_json::from_str(object)
            .map_err(|e| Error::Plan(format!("could not read the object of an event: {e}")))?;
        let batch = Decoder::new(&self.query.table, None).decode(&[value])?;
        let ctx = self.engine.context();
        ctx.deregister_table(OBJECTS_TABLE)?;
        ctx.register_table(OBJECTS_TABLE, Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?))?;
        let result = ctx.sql(&self.query.over_sql(OBJECTS_TABLE)).await?.collect().await;
        ctx.deregister_table(OBJECTS_TABLE)?;
        result?.into_iter().filter(|b| b.num_rows() > 0).map(|b| self.finish(b, kind)).collect()
    }

    /// Drops the hidden columns and, with changes, puts the `change` column first.
    fn finish(&self, batch: RecordBatch, kind: ChangeKind) -> Result<RecordBatch> {
        let keep: Vec<usize> = (0..batch.num_columns().saturating_sub(2)).collect();
        let batch = batch.project(&keep).map_err(arrow)?;
        if self.change_types.is_none() {
            return Ok(batch);
        }
        let mut fields = vec![Arc::new(Field::new("change", DataType::Utf8, false))];
        fields.extend(batch.schema().fields().iter().cloned());
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![kind.name(); batch.num_rows()]))];
        columns.extend(batch.columns().iter().cloned());
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow)
    }
}

/// Turns `stripe.use_search` off for its lifetime (also if a poll is dropped).
struct SearchOff<'a> {
    engine: &'a Engine,
    previous: bool,
}

impl<'a> SearchOff<'a> {
    fn new(engine: &'a Engine) -> Self {
        SearchOff { engine, previous: set_use_search(engine, false) }
    }
}

impl Drop for SearchOff<'_> {
    fn drop(&mut self) {
        set_use_search(self.engine, self.previous);
    }
}

/// Sets the session's `stripe.use_search`; returns the previous value.
fn set_use_search(engine: &Engine, on: bool) -> bool {
    let state = engine.context().state_ref();
    let mut state = state.write();
    match state.config_mut().options_mut().extensions.get_mut::<StripeOptions>() {
        Some(options) => std::mem::replace(&mut options.use_search, on),
        None => true,
    }
}

/// `(id, created)` of every row, from the hidden columns, in order.
fn row_keys(batches: &[RecordBatch]) -> Result<Vec<(String, i64)>> {
    let mut keys = Vec::new();
    for batch in batches {
        let n = batch.num_columns();
        let (Some(id), Some(created)) = (batch.column_by_name(ID_COLUMN), batch.column_by_name(CREATED_COLUMN)) else {
            return Err(Error::Plan(format!("the watched query lost its hidden columns ({n} columns)")));
        };
        let ids = strings(id)?;
        let created = seconds(created)?;
        for i in 0..batch.num_rows() {
            keys.push((ids.value_opt(i).unwrap_or_default().to_string(), created.value_opt(i).unwrap_or(i64::MIN)));
        }
    }
    Ok(keys)
}

trait ValueOpt<'a, T> {
    fn value_opt(&'a self, i: usize) -> Option<T>;
}

impl<'a> ValueOpt<'a, &'a str> for StringArray {
    fn value_opt(&'a self, i: usize) -> Option<&'a str> {
        self.is_valid(i).then(|| self.value(i))
    }
}

impl ValueOpt<'_, i64> for Int64Array {
    fn value_opt(&self, i: usize) -> Option<i64> {
        self.is_valid(i).then(|| self.value(i))
    }
}

fn strings(array: &ArrayRef) -> Result<StringArray> {
    let utf8 = cast(array, &DataType::Utf8).map_err(arrow)?;
    Ok(utf8.as_any().downcast_ref::<StringArray>().cloned().expect("cast to utf8 gives a StringArray"))
}

/// Timestamps (seconds) as their unix seconds.
fn seconds(array: &ArrayRef) -> Result<Int64Array> {
    let ints = cast(array, &DataType::Int64).map_err(arrow)?;
    Ok(ints.as_any().downcast_ref::<Int64Array>().cloned().expect("cast to int64 gives an Int64Array"))
}

/// Refuses plans that have no "new rows" (aggregates, windows, joins, ...).
fn check_plan(plan: &LogicalPlan) -> Result<()> {
    let allowed = matches!(
        plan,
        LogicalPlan::Projection(_)
            | LogicalPlan::Filter(_)
            | LogicalPlan::Sort(_)
            | LogicalPlan::TableScan(_)
            | LogicalPlan::SubqueryAlias(_)
    );
    if !allowed {
        let what = plan.display().to_string();
        let what = what.split(':').next().unwrap_or("this");
        return Err(Error::Plan(format!(
            "cannot watch this query: it needs {what}, which has no notion of new rows (aggregates, window \
             functions, joins and unnesting cannot be watched)"
        )));
    }
    plan.inputs().into_iter().try_for_each(check_plan)
}

fn arrow(e: datafusion::arrow::error::ArrowError) -> Error {
    Error::DataFusion(datafusion::error::DataFusionError::ArrowError(Box::new(e), Some("watch".into())))
}

/// The local clock in unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
