//! Builds the DataFusion SessionContext: schema `stripe`, tables, functions, options.

/// Runs the SQL modes of the command line (REPL, `-c`, `-f`, stdin) and returns the exit
/// code. Placeholder until the engine is built: always fails with a clear message.
pub async fn run_cli(config: crate::config::Config, cli: &crate::cli::Cli) -> crate::Result<i32> {
    let _ = (config, cli);
    Err(crate::Error::Plan("running sql is not built yet (the engine is in progress)".into()))
}
