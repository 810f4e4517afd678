//! Runs the SQL modes of the command line: `-c`, `-f`, piped stdin and the
//! interactive REPL, against Stripe or (with `--demo`) the built-in emulator.

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;

use crate::cli::{Cli, OutputFormat as CliFormat};
use crate::config::Config;
use crate::engine::Engine;
use crate::engine::backend::EngineBackend;
use crate::repl::{self, Backend, OutputFormat, ReplOptions, ScriptOptions};
use crate::{Error, Result, stripe};

/// Builds the engine `config` asks for and runs the SQL mode `cli` selects.
/// Returns the process exit code.
pub async fn run_cli(config: Config, cli: &Cli) -> Result<i32> {
    let engine = Arc::new(build_engine(&config)?);
    let backend: Arc<dyn Backend> = Arc::new(EngineBackend::new(Arc::clone(&engine)));
    let format = output_format(config.format);
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let width = repl::terminal_width();

    if !cli.commands.is_empty() {
        let sql = cli.commands.join(";\n");
        let opts = ScriptOptions { format, max_width: width, ..ScriptOptions::default() };
        return Ok(repl::run_script(backend, &sql, &opts, &mut out, &mut err).await);
    }
    if let Some(path) = &cli.file {
        let sql = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("could not read {}: {e}", path.display())))?;
        let mut opts = ScriptOptions::for_file(path, format);
        opts.max_width = width;
        return Ok(repl::run_script(backend, &sql, &opts, &mut out, &mut err).await);
    }
    if !std::io::stdin().is_terminal() {
        let mut sql = String::new();
        std::io::stdin().read_to_string(&mut sql)?;
        let opts = ScriptOptions { format, max_width: width, ..ScriptOptions::default() };
        return Ok(repl::run_script(backend, &sql, &opts, &mut out, &mut err).await);
    }
    if config.demo {
        let _ = writeln!(err, "stripe-sql: demo mode: tables are served by the built-in Stripe emulator (no Stripe account is used)");
    }
    let opts = ReplOptions { format, history_file: repl::default_history_path(), quiet: false };
    repl::run_interactive(backend, opts).await?;
    Ok(0)
}

/// The engine for `config`: the in-process emulator with demo data under
/// `--demo`, otherwise the configured Stripe API.
pub fn build_engine(config: &Config) -> Result<Engine> {
    if config.demo {
        return Engine::demo();
    }
    let client = stripe::Client::new(config.client_config()?)?;
    let engine = Engine::new(client)?;
    engine.set_allow_live_writes(config.allow_live_writes);
    Ok(engine)
}

fn output_format(format: CliFormat) -> OutputFormat {
    match format {
        CliFormat::Table => OutputFormat::Table,
        CliFormat::Csv => OutputFormat::Csv,
        CliFormat::Json => OutputFormat::Json,
        CliFormat::Ndjson => OutputFormat::Ndjson,
        CliFormat::Markdown => OutputFormat::Markdown,
    }
}
