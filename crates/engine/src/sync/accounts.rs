//! `stripe-sql sync --accounts all|acct_1,…`: a Connect platform's accounts
//! mirrored into one Delta table per Stripe table, partitioned by the account
//! routing column (`account`, or `stripe_account`; see `mirror::partition`).
//! Each account has its own [`Syncer`] acting as that account
//! (`Stripe-Account`; the platform's own rows without it): its own backfill,
//! its own Events API read and cursor, its own reconciliation, all committed
//! with its rows. Under `all` the accounts are listed again every step, so a
//! newly connected account is backfilled; an account Stripe refuses is
//! skipped for the step and named ([`Progress::AccountSkipped`]), never fatal.
//!
//! Accounts are stepped [`AccountsSyncer::set_concurrency`] at a time (8 by
//! default: fewer than `stripe.account_concurrency`'s 32, because each
//! account's backfill holds up to two chunks of rows, where a query streams),
//! each with its own split scans and budget; their commits to one table take turns
//! (`mirror::partition::commit_lock`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use futures::StreamExt;
use serde_json::json;

use super::plan::{self, TablePlan};
use super::progress::{Observer, Progress};
use super::syncer::{SyncOptions, Syncer, Target, check_events, wait_unless_stopped};
use crate::engine::Engine;
use crate::mirror::location::{self, Marker};
use crate::provider::accounts::Fanout;
use crate::pushdown::accounts::AccountSet;
use crate::{Error, Result};

/// A running mirror of several accounts.
pub struct AccountsSyncer {
    platform: Arc<Engine>,
    platform_id: String,
    selection: AccountSet,
    plans: Vec<TablePlan>,
    dir: PathBuf,
    options: SyncOptions,
    observer: Observer,
    stop: Arc<AtomicBool>,
    syncers: BTreeMap<String, Syncer>,
    skipped: BTreeMap<String, String>,
    last_reconcile: Option<Instant>,
    concurrency: usize,
}

impl std::fmt::Debug for AccountsSyncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountsSyncer").field("dir", &self.dir).field("accounts", &self.selection).finish()
    }
}

/// The selection as `mirror.json` records it: `all`, or the sorted ids.
pub fn selection_text(selection: &AccountSet) -> String {
    match selection {
        AccountSet::All => "all".into(),
        AccountSet::Only(ids) => ids.iter().cloned().collect::<Vec<_>>().join(","),
    }
}

impl AccountsSyncer {
    /// Checks everything before any data call — the tables, the accounts
    /// setting, the folder (a mirror of other accounts is refused), the
    /// platform's read access to events — and claims the folder. The accounts'
    /// own tables are opened by the first step.
    pub async fn open(
        platform: Arc<Engine>,
        tables: Option<&[String]>,
        accounts: &str,
        target: Target,
        options: SyncOptions,
        observer: Observer,
    ) -> Result<AccountsSyncer> {
        let plans = plan::plan(tables)?;
        let selection = AccountSet::parse(accounts)
            .map_err(Error::Config)?
            .ok_or_else(|| Error::Config("--accounts takes 'all' or a list of acct_… ids".into()))?;
        let account = platform.client().get("/v1/account", &json!({})).await?;
        let platform_id = account.get("id").and_then(|v| v.as_str()).unwrap_or("acct_unknown").to_string();
        let api_version = crate::catalog::builtin().api_version.clone();
        let dir = match target {
            Target::Dir(d) => d,
            Target::Root(r) => location::accounts_dir(&r, &platform_id, &api_version),
        };
        let marker = Marker { account: platform_id.clone(), api_version, accounts: Some(selection_text(&selection)) };
        location::check(&dir, &marker)?;
        check_events(&platform, &plans).await?;
        location::claim(&dir, &marker)?;
        Ok(AccountsSyncer {
            platform,
            platform_id,
            selection,
            plans,
            dir,
            // Each account's syncer reconciles when this one says so.
            options: options.clone(),
            observer,
            stop: Arc::new(AtomicBool::new(false)),
            syncers: BTreeMap::new(),
            skipped: BTreeMap::new(),
            last_reconcile: None,
            concurrency: 8,
        })
    }

    /// Accounts stepped at the same time (at least 1).
    pub fn set_concurrency(&mut self, accounts: usize) {
        self.concurrency = accounts.max(1);
    }

    /// The mirror's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tables mirrored, parents first.
    pub fn plans(&self) -> &[TablePlan] {
        &self.plans
    }

    /// The platform's own account id.
    pub fn platform(&self) -> &str {
        &self.platform_id
    }

    /// The accounts synced so far (opened by a step), in order.
    pub fn accounts(&self) -> Vec<String> {
        self.syncers.keys().cloned().collect()
    }

    /// The accounts the last step skipped, with Stripe's answer.
    pub fn skipped(&self) -> &BTreeMap<String, String> {
        &self.skipped
    }

    /// The syncer of one account, once a step opened it.
    pub fn syncer(&self, account: &str) -> Option<&Syncer> {
        self.syncers.get(account)
    }

    /// Every row of a mirrored table of one account, in the live table's schema.
    pub async fn rows(&self, account: &str, table: &str) -> Result<Vec<RecordBatch>> {
        match self.syncers.get(account) {
            Some(s) => s.rows(table).await,
            None => Err(Error::Plan(format!("account {account} is not mirrored"))),
        }
    }

    /// A flag that, once set, stops the sync at the next commit boundary.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn report(&self, p: Progress) {
        (self.observer)(&p);
    }

    /// The accounts to sync now: under `all` the platform and every connected
    /// account, listed again (a newly connected one joins).
    async fn wanted(&self) -> Result<BTreeSet<String>> {
        match &self.selection {
            AccountSet::All => {
                let fanout = Fanout::new(self.platform.client().clone());
                fanout.all_accounts().await.map_err(Error::from)
            }
            AccountSet::Only(ids) => Ok(ids.clone()),
        }
    }

    /// An engine acting as `account` (the platform's own for the platform),
    /// and that account's syncer over its partitions.
    async fn open_account(&self, account: &str) -> Result<Syncer> {
        let engine = if account == self.platform_id {
            Arc::clone(&self.platform)
        } else {
            let client = self.platform.client().as_account(account);
            Arc::new(Engine::with_runtime(client, self.platform.context().runtime_env())?)
        };
        check_events(&engine, &self.plans).await?;
        let observer = Arc::clone(&self.observer);
        let who = account.to_string();
        let tagged: Observer = Arc::new(move |p: &Progress| {
            observer(&Progress::Account { account: who.clone(), progress: Box::new(p.clone()) })
        });
        let options = SyncOptions { reconcile_every: None, ..self.options.clone() };
        let mut syncer = Syncer::open_stores(
            engine,
            self.plans.clone(),
            self.dir.clone(),
            Some(account.to_string()),
            options,
            tagged,
        )
        .await?;
        syncer.stop = Arc::clone(&self.stop);
        Ok(syncer)
    }

    /// One pass over every account: each one's backfills, events, created
    /// cursors and (when due, or asked) reconciliation. An account Stripe
    /// refuses is skipped and named; a failing mirror stops the step.
    pub async fn step(&mut self, reconcile: bool) -> Result<()> {
        let started = crate::mirror::fresh::now();
        let wanted = self.wanted().await?;
        let due = reconcile
            || self
                .options
                .reconcile_every
                .is_some_and(|every| self.last_reconcile.is_none_or(|t| t.elapsed() >= every));
        self.skipped.clear();
        // New accounts are opened one at a time: the first one creates the tables.
        for account in &wanted {
            if self.stopping() {
                return Ok(());
            }
            if !self.syncers.contains_key(account) {
                match self.open_account(account).await {
                    Ok(s) => {
                        self.syncers.insert(account.clone(), s);
                    }
                    Err(e) if refused(&e) => self.skip(account, &e),
                    Err(e) => return Err(e),
                }
            }
        }
        let running: Vec<(String, Syncer)> =
            wanted.iter().filter_map(|a| self.syncers.remove(a).map(|s| (a.clone(), s))).collect();
        let steps = running.into_iter().map(|(account, mut syncer)| async move {
            let result = syncer.step_tables(due).await;
            (account, syncer, result)
        });
        let done: Vec<(String, Syncer, Result<()>)> =
            futures::stream::iter(steps).buffer_unordered(self.concurrency).collect().await;
        let mut failed = None;
        for (account, syncer, result) in done {
            self.syncers.insert(account.clone(), syncer);
            match result {
                Ok(()) => {}
                Err(e) if refused(&e) => self.skip(&account, &e),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        if self.stopping() {
            return Ok(());
        }
        if due {
            self.last_reconcile = Some(Instant::now());
        }
        // A table is in step once every account that answered is backfilled and caught up.
        let answered: Vec<&Syncer> =
            wanted.iter().filter(|a| !self.skipped.contains_key(*a)).filter_map(|a| self.syncers.get(a)).collect();
        let done: Vec<&str> = (0..self.plans.len())
            .filter(|&i| answered.iter().all(|s| s.ready(i)))
            .map(|i| self.plans[i].name())
            .collect();
        crate::mirror::fresh::record(&self.dir, &done, started);
        Ok(())
    }

    fn skip(&mut self, account: &str, e: &Error) {
        self.skipped.insert(account.to_string(), e.to_string());
        for p in &self.plans {
            let key = crate::mirror::status::error_key(p.name(), Some(account));
            crate::mirror::status::write_error(&self.dir, &key, &format!("account skipped: {e}"));
        }
        self.report(Progress::AccountSkipped { account: account.to_string(), reason: e.to_string() });
    }

    /// Steps every `interval` until stopped, as [`Syncer::run`].
    pub async fn run(&mut self, interval: Duration, once: bool, reconcile: bool) -> Result<()> {
        // Reconciling right after a backfill would re-list what was just listed.
        self.last_reconcile = Some(Instant::now());
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
}

/// Whether `e` is Stripe refusing the account or one of its calls (any API
/// answer: revoked, 403 `account_invalid`, deleted, …) rather than a failure
/// of the mirror itself, which stops the sync.
fn refused(e: &Error) -> bool {
    e.api_error().is_some() || matches!(e, Error::Plan(m) if m.starts_with("cannot follow events"))
}
