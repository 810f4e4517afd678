//! Runs the SQL modes of the command line: `-c`, `-f`, piped stdin and the
//! interactive REPL, against Stripe or (with `--demo`) the built-in emulator.

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::EngineBackend;
use crate::cli::Cli;
use crate::config::Config;
use crate::repl::{self, Backend, ReplOptions, ScriptOptions};
use crate::{Error, Result};
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::stripe;
use stripe_sql::watch::budget::CallBudget;

/// Builds the engine `config` asks for and runs the SQL mode `cli` selects.
/// Returns the process exit code.
pub async fn run_cli(config: Config, cli: &Cli) -> Result<i32> {
    let engine = Arc::new(build_engine(&config, None)?);
    let backend: Arc<dyn Backend> = Arc::new(EngineBackend::new(Arc::clone(&engine)));
    let format = config.format;
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let width = repl::terminal_width();
    let progress = std::io::stderr().is_terminal();

    if !cli.commands.is_empty() {
        let sql = cli.commands.join(";\n");
        let opts = ScriptOptions { format, max_width: width, progress, ..ScriptOptions::default() };
        return Ok(repl::run_script(backend, &sql, &opts, &mut out, &mut err).await);
    }
    if let Some(path) = &cli.file {
        let sql = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("could not read {}: {e}", path.display())))?;
        let mut opts = ScriptOptions::for_file(path, format);
        opts.max_width = width;
        opts.progress = progress;
        return Ok(repl::run_script(backend, &sql, &opts, &mut out, &mut err).await);
    }
    if !std::io::stdin().is_terminal() {
        let mut sql = String::new();
        std::io::stdin().read_to_string(&mut sql)?;
        let opts = ScriptOptions { format, max_width: width, progress, ..ScriptOptions::default() };
        return Ok(repl::run_script(backend, &sql, &opts, &mut out, &mut err).await);
    }
    if config.demo {
        let _ = writeln!(
            err,
            "stripe-sql: demo mode: tables are served by the built-in Stripe emulator (no Stripe account is used)"
        );
    }
    let opts = ReplOptions { format, history_file: repl::default_history_path(), quiet: false };
    repl::run_interactive(backend, opts).await?;
    Ok(0)
}

/// The engine `config` asks for: the in-process emulator with demo data under
/// `--demo`, otherwise the configured Stripe API. This is the one place an
/// engine is built from configuration: the SQL modes, `serve` and `watch` all
/// call it, so demo latency, live-write policy and rate limits reach each.
/// `budget` (watch's `--max-calls-per-minute`) caps the client's request
/// rate, also in `--demo`, where the limiter is otherwise off.
pub fn build_engine(config: &Config, budget: Option<CallBudget>) -> Result<Engine> {
    let engine = if config.demo {
        let latency = demo_latency(std::env::var(DEMO_LATENCY_ENV).ok().as_deref())?;
        let emulator = EmulatorConfig { latency, ..EmulatorConfig::demo() };
        Engine::with_emulator(emulator, |client| {
            if let Some(budget) = budget {
                client.max_rps = budget.limit(config.max_rps);
            }
        })?
    } else {
        let mut client = config.client_config()?;
        if let Some(budget) = budget {
            client.max_rps = budget.limit(client.max_rps);
            client.endpoint_rps = client.endpoint_rps.min(client.max_rps);
        }
        Engine::new(stripe::Client::new(client)?)?
    };
    engine.set_allow_live_writes(config.allow_live_writes);
    if config.mirror_reads {
        engine.set_mirror(config.mirror.clone());
    } else {
        engine.set_mirror_root(config.mirror.clone());
    }
    if let Some(accounts) = &config.accounts {
        engine.set_accounts(accounts)?;
    }
    Ok(engine)
}

/// Environment variable adding a fixed latency (milliseconds) to every response
/// of the demo emulator, to try cancellation and progress on slow scans.
pub const DEMO_LATENCY_ENV: &str = "STRIPE_SQL_DEMO_LATENCY_MS";

/// Parses the value of [`DEMO_LATENCY_ENV`] (unset or empty: no latency).
fn demo_latency(value: Option<&str>) -> Result<Duration> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Duration::ZERO),
        Some(v) => v.parse::<u64>().map(Duration::from_millis).map_err(|_| {
            Error::Config(format!("{DEMO_LATENCY_ENV} must be a whole number of milliseconds, not {v:?}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_latency_parses_milliseconds() {
        assert_eq!(demo_latency(None).unwrap(), Duration::ZERO);
        assert_eq!(demo_latency(Some(" ")).unwrap(), Duration::ZERO);
        assert_eq!(demo_latency(Some("250")).unwrap(), Duration::from_millis(250));
        let err = demo_latency(Some("fast")).unwrap_err().to_string();
        assert!(err.contains(DEMO_LATENCY_ENV) && err.contains("fast"), "{err}");
    }
}
