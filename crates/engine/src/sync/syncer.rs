//! The sync loop: open (every check before any data call), then steps of
//! backfill (per table, resumable), follow (events, created cursors) and, when
//! due, reconciliation. A stop request is honoured between commits only.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use datafusion::arrow::record_batch::RecordBatch;
use serde_json::json;

use super::plan::{self, Kind, TablePlan};
use super::progress::{Observer, Progress};
use crate::engine::Engine;
use crate::mirror::location::{self, Marker};
use crate::mirror::partition::Partition;
use crate::mirror::state::{Backfill, TableState};
use crate::mirror::store::TableStore;
use crate::{Error, Result};

/// Seconds the Events API reaches back.
pub const EVENTS_WINDOW: i64 = 30 * 86_400;

/// How a sync behaves.
#[derive(Clone)]
pub struct SyncOptions {
    /// Events are re-read this many seconds behind the cursor, so one that
    /// becomes listable late is still applied (de-duplicated by id).
    pub lag: i64,
    /// Tables without update events re-read this many seconds behind their cursor.
    pub lookback: i64,
    /// Rows a backfill commits at a time (at least one page): its memory
    /// holds about two such chunks, one being committed while the next is
    /// fetched.
    pub backfill_rows: usize,
    /// Objects per list request of a backfill (Stripe's maximum, 100, by default).
    pub page_size: usize,
    /// Requests a backfill's scan keeps in flight (the client's limiter still
    /// holds the rate); `None`: the session's `stripe.max_concurrency`.
    pub max_concurrency: Option<u64>,
    /// Reconcile (re-list and repair) every this often; `None`: never on its own.
    pub reconcile_every: Option<Duration>,
    /// The current unix second (the server's clock in tests).
    pub now: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Skip (and report) a table the account cannot list — Stripe answers
    /// 400, 403 or 404 for a product the account does not have, such as
    /// Connect's application fees or Issuing — instead of stopping the sync.
    /// `sync --all` sets it; a table named on purpose still fails.
    pub skip_unavailable: bool,
    /// After a step, a table holding more data files than this is compacted
    /// (Delta `OPTIMIZE`: its small files rewritten into a few large ones);
    /// `0`: never.
    pub compact_files: usize,
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions").field("lag", &self.lag).field("lookback", &self.lookback).finish()
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            lag: 120,
            lookback: 600,
            backfill_rows: 25_000,
            page_size: 100,
            // More requests in flight than the interactive default: the client's
            // limiter still holds the rate, and the scan's ranges end unevenly.
            max_concurrency: Some(24),
            reconcile_every: Some(Duration::from_secs(86_400)),
            skip_unavailable: false,
            // A step adds at most one file per table: a table followed every
            // 15 s is compacted about every quarter of an hour it changes.
            compact_files: 64,
            now: Arc::new(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
            }),
        }
    }
}

/// Where to put the mirror.
#[derive(Debug, Clone)]
pub enum Target {
    /// Exactly this folder (`--to DIR`).
    Dir(PathBuf),
    /// `root/<account>/<api version>` (the default root is the user's data dir).
    Root(PathBuf),
}

/// A running mirror of some tables of one account (alone, or as one
/// partition of a mirror of several: see [`super::accounts`]).
pub struct Syncer {
    pub(super) engine: Arc<Engine>,
    pub(super) dir: PathBuf,
    /// In a mirror of several accounts: the account this syncer writes.
    pub(super) account: Option<String>,
    pub(super) plans: Vec<TablePlan>,
    pub(super) stores: Vec<TableStore>,
    pub(super) states: Vec<TableState>,
    pub(super) options: SyncOptions,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) observer: Observer,
    pub(super) last_reconcile: Option<std::time::Instant>,
    /// Tables skipped in this process because the account cannot list them
    /// (`SyncOptions::skip_unavailable`).
    pub(super) unavailable: std::collections::HashSet<usize>,
    /// When (the sync's clock) each table was last vacuumed in this process.
    pub(super) vacuumed_at: std::collections::HashMap<usize, i64>,
}

/// Waits `interval` between two steps, looking at `stop` every 100 ms;
/// `false` as soon as a stop is requested.
pub(super) async fn wait_unless_stopped(interval: Duration, stop: &AtomicBool) -> bool {
    let deadline = tokio::time::Instant::now() + interval;
    while tokio::time::Instant::now() < deadline {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100).min(interval)).await;
    }
    true
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer").field("dir", &self.dir).field("tables", &self.plans.len()).finish()
    }
}

impl Syncer {
    /// Checks everything before any data call — the tables (`None`: all that
    /// can be mirrored), the account the folder belongs to, read access to
    /// events — then opens (or creates) one Delta table per Stripe table.
    pub async fn open(
        engine: Arc<Engine>,
        tables: Option<&[String]>,
        target: Target,
        options: SyncOptions,
        observer: Observer,
    ) -> Result<Syncer> {
        let plans = plan::plan(tables)?;
        let client = engine.client().clone();
        let account = client.get("/v1/account", &json!({})).await?;
        let account = account.get("id").and_then(|v| v.as_str()).unwrap_or("acct_unknown").to_string();
        let api_version = crate::catalog::builtin().api_version.clone();
        let dir = match target {
            Target::Dir(d) => d,
            Target::Root(r) => location::default_dir(&r, &account, &api_version),
        };
        let marker = Marker::single(account, api_version);
        location::check(&dir, &marker)?;
        check_events(&engine, &plans).await?;
        location::claim(&dir, &marker)?;
        Self::open_stores(engine, plans, dir, None, options, observer).await
    }

    /// Opens (or creates) the Delta tables of `plans` in the claimed folder
    /// `dir`; with `account`, that account's partition of a mirror of several
    /// (`engine` then acts as that account).
    pub(super) async fn open_stores(
        engine: Arc<Engine>,
        plans: Vec<TablePlan>,
        dir: PathBuf,
        account: Option<String>,
        options: SyncOptions,
        observer: Observer,
    ) -> Result<Syncer> {
        if let Some(n) = options.max_concurrency {
            engine.sql(&format!("SET stripe.max_concurrency = {n}")).await?;
        }
        let mut stores = Vec::new();
        let mut states = Vec::new();
        for p in &plans {
            let partition = account.as_ref().map(|a| Partition {
                column: crate::pushdown::accounts::account_column(&p.def).to_string(),
                account: a.clone(),
            });
            let store = TableStore::open_in(&dir, p.name(), p.schema.clone(), partition).await?;
            states.push(store.state().await?);
            stores.push(store);
        }
        Ok(Syncer {
            engine,
            dir,
            account,
            plans,
            stores,
            states,
            options,
            stop: Arc::new(AtomicBool::new(false)),
            observer,
            last_reconcile: None,
            vacuumed_at: Default::default(),
            unavailable: Default::default(),
        })
    }

    /// The mirror's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tables mirrored, parents first.
    pub fn plans(&self) -> &[TablePlan] {
        &self.plans
    }

    /// The account this syncer writes in a mirror of several (`None`: a mirror of one).
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// A flag that, once set, stops the sync at the next commit boundary.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub(super) fn now(&self) -> i64 {
        (self.options.now)()
    }

    pub(super) fn report(&self, p: Progress) {
        (self.observer)(&p);
    }

    /// Every row of a mirrored table, in the live table's schema.
    pub async fn rows(&self, table: &str) -> Result<Vec<RecordBatch>> {
        let i = self.index(table)?;
        self.stores[i].read_all().await
    }

    /// The committed state of a mirrored table.
    pub fn state(&self, table: &str) -> Result<&TableState> {
        Ok(&self.states[self.index(table)?])
    }

    pub(super) fn index(&self, table: &str) -> Result<usize> {
        self.plans.iter().position(|p| p.name() == table).ok_or_else(|| Error::Plan(format!("{table} is not mirrored")))
    }

    /// Commits `rows` appended (or replacing everything) with `state` as table `i`'s new state.
    pub(super) async fn commit_append(
        &mut self,
        i: usize,
        rows: Vec<RecordBatch>,
        mut state: TableState,
        overwrite: bool,
    ) -> Result<()> {
        state.step = self.states[i].step + 1;
        self.stores[i].append(rows, &state, overwrite).await.inspect_err(|e| self.record_error(i, e))?;
        self.states[i] = state;
        self.clear_error(i);
        Ok(())
    }

    /// One pass: finish backfills, apply what happened since, and reconcile
    /// when due (or when `reconcile` asks). Stops early, between commits, on a stop request.
    pub async fn step(&mut self, reconcile: bool) -> Result<()> {
        let started = crate::mirror::fresh::now();
        self.step_tables(reconcile).await?;
        // A mirror of several accounts vouches for a table once every account's step is done.
        if !self.stopping() && self.account.is_none() {
            // Only a whole step vouches for a table: everything Stripe held when
            // it started is now committed (readers compare this with `max_staleness`).
            let done: Vec<&str> =
                (0..self.plans.len()).filter(|&i| self.ready(i)).map(|i| self.plans[i].name()).collect();
            crate::mirror::fresh::record(&self.dir, &done, started);
        }
        Ok(())
    }

    pub(super) async fn step_tables(&mut self, reconcile: bool) -> Result<()> {
        for i in 0..self.plans.len() {
            if self.stopping() {
                return Ok(());
            }
            if let Kind::Nested { parent_table, .. } = &self.plans[i].kind
                && self.index(parent_table).is_ok_and(|p| self.unavailable.contains(&p))
            {
                let reason = format!("its parent table {parent_table} cannot be listed");
                self.unavailable.insert(i);
                self.report(Progress::Skipped { table: self.plans[i].name().to_string(), reason });
                continue;
            }
            let backfilled = async {
                if self.states[i].step == 0 {
                    self.start_backfill(i, None).await?;
                }
                self.backfill(i).await
            };
            match backfilled.await {
                Ok(()) => {
                    self.unavailable.remove(&i);
                }
                // It stays unbackfilled, so nothing follows, reconciles or
                // vouches for it (readers go live); the next step asks again.
                Err(e) if self.options.skip_unavailable && unavailable(&e) => {
                    self.unavailable.insert(i);
                    crate::mirror::status::write_error(&self.dir, &self.error_key(i), &e.to_string());
                    self.report(Progress::Skipped { table: self.plans[i].name().to_string(), reason: e.to_string() });
                }
                Err(e) => return Err(e),
            }
        }
        if self.stopping() {
            return Ok(());
        }
        self.follow_events().await?;
        self.follow_created().await?;
        let due =
            self.options.reconcile_every.is_some_and(|every| self.last_reconcile.is_none_or(|t| t.elapsed() >= every));
        if (reconcile || due) && !self.stopping() {
            self.reconcile().await?;
            self.last_reconcile = Some(std::time::Instant::now());
        }
        self.maintain().await
    }

    /// Steps every `interval` until stopped; `once` runs a single step,
    /// `reconcile` reconciles in the first. A failing first step is returned (a
    /// setup problem); later failures are reported and the next step retries.
    pub async fn run(&mut self, interval: Duration, once: bool, reconcile: bool) -> Result<()> {
        // Reconciling right after a backfill would re-list what was just listed.
        self.last_reconcile = Some(std::time::Instant::now());
        let mut first = true;
        loop {
            match self.step(first && reconcile).await {
                Ok(()) => {}
                Err(e) if first || once => return Err(e),
                Err(e) => self.report(Progress::Error { table: "*".into(), message: e.to_string() }),
            }
            first = false;
            if once || self.stopping() {
                return Ok(());
            }
            if !wait_unless_stopped(interval, &self.stop).await {
                return Ok(());
            }
        }
    }

    /// Marks table `i` for a (re-)backfill. A flat table's is only planned
    /// here: its scan's first page is the table probe (a table the account
    /// cannot list fails there, with nothing committed), and the events cursor
    /// is read beside it and committed with the first rows. A nested table's
    /// is committed now with its events cursor.
    pub(super) async fn start_backfill(&mut self, i: usize, reason: Option<String>) -> Result<()> {
        let mut state = self.states[i].clone();
        state.backfill = Some(Backfill::start(reason.is_some()));
        state.events = Default::default();
        state.created_cursor = None;
        if let Some(r) = &reason {
            self.report(Progress::Rebackfill { table: self.plans[i].name().to_string(), reason: r.clone() });
        }
        state.rebackfill_reason = reason;
        if !matches!(self.plans[i].kind, Kind::Nested { .. }) {
            self.states[i] = state;
            return Ok(());
        }
        let newest_event = super::backfill::newest_created(self.engine.client(), "/v1/events", &json!({})).await?;
        state.events.cursor = newest_event.unwrap_or(0);
        self.commit_append(i, vec![], state, false).await
    }

    /// Whether table `i` is backfilled and can be followed, reconciled and
    /// vouched for: its backfill started (a table the account cannot list
    /// never commits one) and finished.
    pub(super) fn ready(&self, i: usize) -> bool {
        self.states[i].step > 0 && self.states[i].backfill.is_none() && !self.unavailable.contains(&i)
    }

    pub(super) fn record_error(&self, i: usize, e: &Error) {
        crate::mirror::status::write_error(&self.dir, &self.error_key(i), &e.to_string());
        self.report(Progress::Error { table: self.plans[i].name().to_string(), message: e.to_string() });
    }

    pub(super) fn clear_error(&self, i: usize) {
        crate::mirror::status::clear_error(&self.dir, &self.error_key(i));
    }

    /// Where table `i`'s last failure is kept (`errors.json`): per account in a mirror of several.
    fn error_key(&self, i: usize) -> String {
        crate::mirror::status::error_key(self.plans[i].name(), self.account.as_deref())
    }
}

/// Checks that `engine`'s key can read events when any of `plans` follows them.
pub(super) async fn check_events(engine: &Engine, plans: &[TablePlan]) -> Result<()> {
    if plans.iter().any(|p| p.kind != Kind::Immutable)
        && let Err(e) = engine.client().get("/v1/events", &json!({"limit": 1})).await
    {
        let why = match e.status() {
            Some(401 | 403) => "the key cannot read events (a restricted key needs read access to Events)",
            _ => "listing events failed",
        };
        return Err(Error::Plan(format!("cannot follow events: {why}: {e}")));
    }
    Ok(())
}

/// Whether `e` says the account cannot list a table at all (Stripe's 400, 403
/// or 404 for a product it does not have), as opposed to a failure worth
/// stopping for (auth, rate limits, the network, the mirror).
fn unavailable(e: &Error) -> bool {
    matches!(e.api_error().and_then(|api| api.status()), Some(400 | 403 | 404))
}
