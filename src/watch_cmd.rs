//! `stripe-sql watch`: builds the engine (with the call budget), loads the
//! state file, then polls every interval, printing new rows in the global
//! `--format` and saving the state after each poll's rows are written. Ctrl-C
//! or SIGTERM stops it cleanly (an unfinished poll is dropped, the state of the
//! last finished one is on disk).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use datafusion::arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;

use crate::cli::WatchArgs;
use crate::config::Config;
use crate::repl::{FormatOptions, OutputFormat, write_batches};
use crate::{Error, Result};
use stripe_sql::engine::Engine;
use stripe_sql::watch::budget::{self, CallBudget};
use stripe_sql::watch::interval::parse_interval;
use stripe_sql::watch::state::WatchState;
use stripe_sql::watch::watcher::{Poll, WatchOptions, Watcher};

/// Runs `stripe-sql watch` until Ctrl-C/SIGTERM; returns the exit code.
pub async fn run_cli(config: &Config, args: &WatchArgs) -> Result<i32> {
    // Installed first: a SIGTERM while the engine starts also stops cleanly.
    let mut stop = stop_signal();
    let sql = watched_sql(args)?;
    let interval = parse_interval(&args.interval).map_err(Error::Config)?;
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let budget = match args.max_calls_per_minute {
        Some(0) => return Err(Error::Config("--max-calls-per-minute must be at least 1".into())),
        n => n.map(CallBudget::per_minute),
    };
    let state = match &args.state {
        Some(path) => WatchState::load(path)?,
        None => None,
    };
    let engine = Arc::new(crate::run::build_engine(config, budget)?);
    let settle = parse_settle(&args.settle)?;
    let opts = WatchOptions { changes: args.changes, since, state, settle };
    let mut watcher = Watcher::new(Arc::clone(&engine), &sql, opts).await?;
    let mut out = RowWriter { format: config.format, header_written: false };
    let mut stdout = std::io::stdout();
    if std::io::stderr().is_terminal() {
        eprintln!(
            "stripe-sql: watching {} every {:?} for rows created from {}; Ctrl-C stops",
            watcher.table(),
            interval,
            stripe_sql::watch::query::rfc3339(watcher.state().rows.start)
        );
    }
    let mut polls = 0u64;
    loop {
        let started = tokio::time::Instant::now();
        let poll = tokio::select! {
            poll = watcher.poll() => poll,
            () = &mut stop => break,
        };
        polls += 1;
        match poll {
            Ok(poll) => {
                out.write(&mut stdout, &poll)?;
                log_budget(&engine, polls, &poll, budget);
                watcher.commit(poll.state);
                if let Some(path) = &args.state {
                    watcher.state().save(path)?;
                }
            }
            // A failure at start is a setup problem; later ones are usually passing.
            Err(e) if polls == 1 => return Err(e),
            Err(e) => eprintln!("stripe-sql: watch: poll {polls} failed, trying again in {interval:?}: {e}"),
        }
        tokio::select! {
            () = tokio::time::sleep_until(started + interval) => {}
            () = &mut stop => break,
        }
    }
    if let Some(path) = &args.state {
        watcher.state().save(path)?;
    }
    Ok(0)
}

/// The SQL to watch: the argument, or `SELECT * FROM <table>` for `--new <table>`.
fn watched_sql(args: &WatchArgs) -> Result<String> {
    match (&args.sql, &args.new) {
        (Some(sql), None) => Ok(sql.clone()),
        (None, Some(table)) => {
            let plain = !table.is_empty() && table.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if !plain {
                return Err(Error::Config(format!("--new takes a table name such as charges, not {table:?}")));
            }
            Ok(format!("SELECT * FROM {table}"))
        }
        (Some(_), Some(_)) => Err(Error::Config("give either a query or --new TABLE, not both".into())),
        (None, None) => {
            Err(Error::Config("watch needs a query (e.g. \"SELECT * FROM charges\") or --new TABLE".into()))
        }
    }
}

/// `--settle`: a duration like `10s`, or `0`; whole seconds (rounded up).
fn parse_settle(text: &str) -> Result<i64> {
    let zero = text.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic()).trim().parse::<f64>() == Ok(0.0);
    if zero {
        return Ok(0);
    }
    let d = parse_interval(text).map_err(|e| Error::Config(format!("--settle: {e}")))?;
    Ok(d.as_secs_f64().ceil() as i64)
}

/// `--since`: unix seconds or an RFC 3339 / ISO timestamp.
pub fn parse_since(text: &str) -> Result<i64> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<i64>() {
        return Ok(secs);
    }
    string_to_timestamp_nanos(t).map(|ns| ns.div_euclid(1_000_000_000)).map_err(|_| {
        Error::Config(format!(
            "could not read --since {text:?}: expected unix seconds or a time like 2024-01-31T12:00:00Z"
        ))
    })
}

/// One line per poll at `-vvv`: its calls and the busiest recent window.
fn log_budget(engine: &Engine, polls: u64, poll: &Poll, budget: Option<CallBudget>) {
    let per = budget.map_or(Duration::from_secs(60), |b| b.per);
    let entries = engine.client().request_log().entries();
    let recent = budget::calls_in_last(&entries, per, SystemTime::now());
    let limit = budget.map_or_else(|| "none".to_string(), |b| b.calls.to_string());
    tracing::info!(
        poll = polls,
        calls = poll.calls,
        rows = poll.rows,
        "watch poll: {recent} calls in the last {per:?} (budget {limit})"
    );
}

/// Writes polls in one output format; CSV's header only once.
struct RowWriter {
    format: OutputFormat,
    header_written: bool,
}

impl RowWriter {
    fn write(&mut self, out: &mut dyn Write, poll: &Poll) -> Result<()> {
        if poll.rows == 0 {
            return Ok(());
        }
        let mut buf = Vec::new();
        write_batches(&mut buf, &poll.batches, self.format, &FormatOptions::default())?;
        let mut text: &[u8] = &buf;
        if self.format == OutputFormat::Csv && self.header_written {
            let line_end = text.iter().position(|b| *b == b'\n').map_or(text.len(), |i| i + 1);
            text = &text[line_end..];
        }
        self.header_written = true;
        out.write_all(text)?;
        out.flush()?;
        Ok(())
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM. The handlers are installed when
/// this is called, not when the future is first polled.
fn stop_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    let ctrl_c = Box::pin(tokio::signal::ctrl_c());
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return Box::pin(async move {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            });
        }
    }
    Box::pin(async move {
        let _ = ctrl_c.await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_unix_seconds_or_a_timestamp() {
        assert_eq!(parse_since("1700000000").unwrap(), 1_700_000_000);
        assert_eq!(parse_since("2023-11-14T22:13:20Z").unwrap(), 1_700_000_000);
        assert_eq!(parse_since("2023-11-14 22:13:20").unwrap(), 1_700_000_000);
        assert!(parse_since("yesterday").unwrap_err().to_string().contains("--since"));
    }

    #[test]
    fn settle_takes_a_duration_or_zero() {
        assert_eq!(parse_settle("10s").unwrap(), 10);
        assert_eq!(parse_settle("0").unwrap(), 0);
        assert_eq!(parse_settle("0s").unwrap(), 0);
        assert_eq!(parse_settle("1500ms").unwrap(), 2);
        assert_eq!(parse_settle("2m").unwrap(), 120);
        assert!(parse_settle("-3s").unwrap_err().to_string().contains("--settle"));
    }
}
