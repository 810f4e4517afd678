//! `stripe-sql sync`: checks the tables before any call, builds the engine
//! through `run::build_engine`, opens the mirror (default under `--mirror`,
//! one folder per account and API version) and steps it until Ctrl-C/SIGTERM,
//! which stop it at a commit boundary. Progress goes to the terminal (per
//! table: objects, objects/s, ETA); `--format ndjson` prints one JSON line per
//! event instead, for services.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use crate::cli::SyncArgs;
use crate::config::Config;
use crate::repl::OutputFormat;
use crate::{Error, Result};
use stripe_sql::sync::{AccountsSyncer, Observer, Progress, SyncOptions, Syncer, Target};
use stripe_sql::watch::interval::parse_interval;

/// Runs `stripe-sql sync`; returns the exit code.
pub async fn run_cli(config: &Config, args: &SyncArgs) -> Result<i32> {
    let interval = parse_interval(&args.interval).map_err(Error::Config)?;
    let lag = parse_interval(&args.lag).map_err(|e| Error::Config(format!("--lag: {e}")))?.as_secs() as i64;
    let reconcile_every = match args.reconcile_every.trim() {
        "0" | "0s" => None,
        other => Some(parse_interval(other).map_err(|e| Error::Config(format!("--reconcile-every: {e}")))?),
    };
    let tables: Option<Vec<String>> = (!args.all).then(|| args.tables.clone());
    // Unknown tables and nested tables without their parent fail before any call.
    stripe_sql::sync::plan::plan(tables.as_deref())?;
    // The sync reads Stripe, never the mirror it writes; each account's
    // syncer acts as its account (`--accounts` is the sync's, not the session's).
    let live = Config { mirror_reads: false, accounts: None, ..config.clone() };
    let engine = Arc::new(crate::run::build_engine(&live, None)?);
    let target = match &args.to {
        Some(dir) => Target::Dir(dir.clone()),
        None => Target::Root(config.mirror.clone()),
    };
    // `--all` takes what the account has; a table named on purpose must sync.
    let options = SyncOptions {
        lag,
        reconcile_every,
        skip_unavailable: args.all,
        backfill_rows: args.commit_rows as usize,
        compact_files: args.compact_files as usize,
        ..SyncOptions::default()
    };
    let observer = observer(config.format);
    if let Some(accounts) = config.accounts.as_deref().filter(|a| !a.trim().is_empty()) {
        let mut syncer = AccountsSyncer::open(engine, tables.as_deref(), accounts, target, options, observer).await?;
        let what = format!("{} of accounts {accounts} into {}", table_names(syncer.plans()), syncer.dir().display());
        return drive(config, args.once, syncer.stop_flag(), what, syncer.run(interval, args.once, args.reconcile))
            .await;
    }
    let mut syncer = Syncer::open(engine, tables.as_deref(), target, options, observer).await?;
    let what = format!("{} into {}", table_names(syncer.plans()), syncer.dir().display());
    drive(config, args.once, syncer.stop_flag(), what, syncer.run(interval, args.once, args.reconcile)).await
}

/// The mirrored tables' names, comma-separated.
fn table_names(plans: &[stripe_sql::sync::plan::TablePlan]) -> String {
    plans.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

/// Runs a syncer's loop (`run`) with Ctrl-C/SIGTERM setting its `stop` flag
/// (it then stops at the next commit), after a line saying `what` it syncs
/// on a terminal; returns the exit code.
async fn drive(
    config: &Config,
    once: bool,
    stop: Arc<std::sync::atomic::AtomicBool>,
    what: String,
    run: impl std::future::Future<Output = stripe_sql::Result<()>>,
) -> Result<i32> {
    let signal = tokio::spawn(async move {
        stop_signal().await;
        stop.store(true, Ordering::Relaxed);
    });
    if config.format != OutputFormat::Ndjson && std::io::stderr().is_terminal() {
        eprintln!("stripe-sql: syncing {what}{}", if once { "" } else { "; Ctrl-C stops at the next commit" });
    }
    let result = run.await;
    signal.abort();
    result?;
    Ok(0)
}

/// A sync running in the background of `serve`; dropping it stops it at the
/// next commit boundary.
pub struct BackgroundSync {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for BackgroundSync {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts keeping the mirror under `--mirror` fresh while `serve` answers:
/// the tables it already holds, one sync step every `every`, through a
/// live-only engine over `engine`'s client. Under `--accounts` the mirror of
/// several accounts is kept fresh, with the accounts it was made for.
/// Readers see whole Delta commits only.
pub async fn background(
    config: &Config,
    engine: Arc<stripe_sql::engine::Engine>,
    every: &str,
) -> Result<BackgroundSync> {
    let interval = parse_interval(every).map_err(|e| Error::Config(format!("--sync-interval: {e}")))?;
    if !config.mirror_reads {
        return Err(Error::Config("--sync-interval needs --mirror DIR (a mirror made by stripe-sql sync)".into()));
    }
    let live = Arc::new(stripe_sql::engine::Engine::new(engine.client().clone())?);
    let observer: Observer = Arc::new(|p: &Progress| {
        if matches!(p, Progress::Error { .. } | Progress::Skipped { .. } | Progress::AccountSkipped { .. }) {
            eprintln!("{}", text(p));
        }
    });
    let options = SyncOptions::default();
    if config.accounts.as_deref().is_some_and(|a| !a.trim().is_empty()) {
        let (dir, marker) = stripe_sql::mirror::read::accounts_mirror(&config.mirror).map_err(|why| {
            Error::Config(format!("--sync-interval: {why}; run stripe-sql sync --accounts … --mirror DIR first"))
        })?;
        let tables = mirrored_tables(&dir)?;
        let accounts = marker.accounts.unwrap_or_default();
        let mut syncer =
            AccountsSyncer::open(live, Some(&tables), &accounts, Target::Dir(dir), options, observer).await?;
        let stop = syncer.stop_flag();
        on_own_thread(move |runtime| runtime.block_on(syncer.run(interval, false, false)))?;
        return Ok(BackgroundSync { stop });
    }
    let dir = stripe_sql::mirror::read::mirror_dir(&config.mirror)
        .map_err(|why| Error::Config(format!("--sync-interval: {why}; run stripe-sql sync --mirror DIR first")))?;
    let tables = mirrored_tables(&dir)?;
    let mut syncer = Syncer::open(live, Some(&tables), Target::Dir(dir), options, observer).await?;
    let stop = syncer.stop_flag();
    on_own_thread(move |runtime| runtime.block_on(syncer.run(interval, false, false)))?;
    Ok(BackgroundSync { stop })
}

/// The tables a mirror folder holds (one Delta table each), sorted.
fn mirrored_tables(dir: &std::path::Path) -> Result<Vec<String>> {
    let mut tables: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .filter(|e| e.path().join("_delta_log").is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    tables.sort();
    if tables.is_empty() {
        return Err(Error::Config(format!("--sync-interval: {} holds no mirrored table", dir.display())));
    }
    Ok(tables)
}

/// Runs a background sync on its own thread and runtime: the sync's future
/// is not `Send` (it holds borrows across awaits), and it must not slow the
/// sessions' runtime.
fn on_own_thread(sync: impl FnOnce(&tokio::runtime::Runtime) -> stripe_sql::Result<()> + Send + 'static) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("stripe-sql-sync".into()).spawn(move || {
        if let Err(e) = sync(&runtime) {
            eprintln!("stripe-sql: background sync stopped: {e}");
        }
    })?;
    Ok(())
}

/// Progress as the format asks: ndjson lines on stdout, or lines on stderr
/// (a refreshed line per table on a terminal).
fn observer(format: OutputFormat) -> Observer {
    if format == OutputFormat::Ndjson {
        return Arc::new(|p: &Progress| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", ndjson(p));
            let _ = out.flush();
        });
    }
    let terminal = std::io::stderr().is_terminal();
    Arc::new(move |p: &Progress| {
        let line = text(p);
        let mut err = std::io::stderr().lock();
        match p {
            Progress::Backfill { done: false, .. } if terminal => {
                let _ = write!(err, "\r\x1b[2K{line}");
            }
            _ if terminal => {
                let _ = writeln!(err, "\r\x1b[2K{line}");
            }
            _ => {
                let _ = writeln!(err, "{line}");
            }
        }
        let _ = err.flush();
    })
}

fn eta_text(eta: Option<Duration>) -> String {
    match eta {
        Some(d) if d.as_secs() >= 3600 => format!("{}h{:02}m", d.as_secs() / 3600, d.as_secs() / 60 % 60),
        Some(d) if d.as_secs() >= 60 => format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60),
        Some(d) => format!("{}s", d.as_secs()),
        None => "-".into(),
    }
}

/// One progress line for people.
pub fn text(p: &Progress) -> String {
    match p {
        Progress::Backfill { table, fetched, per_second, eta, done } => {
            let state = if *done { "backfilled".to_string() } else { format!("ETA {}", eta_text(*eta)) };
            format!("stripe-sql: {table}: {fetched} objects, {per_second:.0} objects/s, {state}")
        }
        Progress::Applied { table, events, upserted, deleted, lag } => format!(
            "stripe-sql: {table}: {events} events, {upserted} rows upserted, {deleted} removed{}",
            lag.map(|l| format!(", lag {l}s")).unwrap_or_default()
        ),
        Progress::Rebackfill { table, reason } => format!("stripe-sql: {table}: backfilling again: {reason}"),
        Progress::Reconciled { table, repairs } => {
            format!("stripe-sql: {table}: reconciled with a full re-list, {repairs} rows repaired")
        }
        Progress::Compacted { table, files_before, files_after } => {
            format!("stripe-sql: {table}: compacted {files_before} files into {files_after}")
        }
        Progress::Vacuumed { table, files } => {
            format!("stripe-sql: {table}: deleted {files} files replaced longer ago than the retention")
        }
        Progress::Skipped { table, reason } => {
            format!("stripe-sql: {table}: skipped, this account cannot list it (queries read it live): {reason}")
        }
        Progress::Error { table, message } => format!("stripe-sql: {table}: error: {message}"),
        Progress::Account { account, progress } => {
            text(progress).replacen("stripe-sql: ", &format!("stripe-sql: {account}: "), 1)
        }
        Progress::AccountSkipped { account, reason } => {
            format!("stripe-sql: {account}: skipped this step, Stripe refused the account: {reason}")
        }
    }
}

/// One progress event as a JSON log line.
pub fn ndjson(p: &Progress) -> serde_json::Value {
    match p {
        Progress::Backfill { table, fetched, per_second, eta, done } => json!({
            "event": "backfill", "table": table, "objects": fetched, "objects_per_second": per_second,
            "eta_seconds": eta.map(|d| d.as_secs()), "done": done,
        }),
        Progress::Applied { table, events, upserted, deleted, lag } => json!({
            "event": "applied", "table": table, "events": events, "upserted": upserted, "deleted": deleted,
            "lag_seconds": lag,
        }),
        Progress::Rebackfill { table, reason } => json!({"event": "rebackfill", "table": table, "reason": reason}),
        Progress::Reconciled { table, repairs } => json!({"event": "reconciled", "table": table, "repairs": repairs}),
        Progress::Compacted { table, files_before, files_after } => {
            json!({"event": "compacted", "table": table, "files_before": files_before, "files_after": files_after})
        }
        Progress::Vacuumed { table, files } => json!({"event": "vacuumed", "table": table, "files": files}),
        Progress::Skipped { table, reason } => json!({"event": "skipped", "table": table, "reason": reason}),
        Progress::Error { table, message } => json!({"event": "error", "table": table, "message": message}),
        Progress::Account { account, progress } => {
            let mut line = ndjson(progress);
            line["account"] = json!(account);
            line
        }
        Progress::AccountSkipped { account, reason } => {
            json!({"event": "account_skipped", "account": account, "reason": reason})
        }
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_for_people_and_for_logs() {
        let p = Progress::Backfill {
            table: "charges".into(),
            fetched: 5000,
            per_second: 2400.4,
            eta: Some(Duration::from_secs(75)),
            done: false,
        };
        assert_eq!(text(&p), "stripe-sql: charges: 5000 objects, 2400 objects/s, ETA 1m15s");
        assert_eq!(ndjson(&p)["eta_seconds"], 75);
        let r = Progress::Reconciled { table: "customers".into(), repairs: 2 };
        assert_eq!(ndjson(&r), json!({"event": "reconciled", "table": "customers", "repairs": 2}));
        let a = Progress::Account { account: "acct_1".into(), progress: Box::new(r) };
        assert_eq!(text(&a), "stripe-sql: acct_1: customers: reconciled with a full re-list, 2 rows repaired");
        assert_eq!(ndjson(&a)["account"], "acct_1");
        let s = Progress::AccountSkipped { account: "acct_2".into(), reason: "403".into() };
        assert_eq!(ndjson(&s), json!({"event": "account_skipped", "account": "acct_2", "reason": "403"}));
        let c = Progress::Compacted { table: "charges".into(), files_before: 70, files_after: 2 };
        assert_eq!(text(&c), "stripe-sql: charges: compacted 70 files into 2");
        assert_eq!(ndjson(&c), json!({"event": "compacted", "table": "charges", "files_before": 70, "files_after": 2}));
        let v = Progress::Vacuumed { table: "charges".into(), files: 3 };
        assert_eq!(ndjson(&v), json!({"event": "vacuumed", "table": "charges", "files": 3}));
    }
}
