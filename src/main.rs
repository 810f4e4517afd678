//! The `stripe-sql` binary: parse the command line, run, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 a failure while running, 2 bad usage or configuration.

use stripe_sql_app::cli::{Cli, Command};
use stripe_sql_app::config::Config;

fn main() {
    let cli = Cli::parse_args();
    init_tracing(cli.global.verbose);
    let config = match Config::load(&cli.global) {
        Ok(c) => c,
        Err(e) => exit_with(&e, 2),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => exit_with(&format!("could not start the async runtime: {e}"), 1),
    };
    let code = runtime.block_on(run(cli, config));
    std::process::exit(code);
}

async fn run(cli: Cli, config: Config) -> i32 {
    let result = match &cli.command {
        Some(Command::Emulator(args)) => {
            stripe_emulator::run_standalone(args.args.clone()).await.map(|()| 0).map_err(|e| match e {
                stripe_emulator::Error::Config(m) => stripe_sql::Error::Config(m),
                other => other.into(),
            })
        }
        Some(Command::Serve(args)) => {
            if !config.demo
                && let Err(e) = config.client_config()
            {
                exit_with(&e, 2);
            }
            stripe_sql_app::server::run_serve(&config, args).await
        }
        Some(Command::Watch(args)) => {
            if !config.demo
                && let Err(e) = config.client_config()
            {
                exit_with(&e, 2);
            }
            stripe_sql_app::watch_cmd::run_cli(&config, args).await
        }
        Some(Command::Sync(args)) => {
            if !config.demo
                && let Err(e) = config.client_config()
            {
                exit_with(&e, 2);
            }
            // Bad tables, another account's folder, a key without events: usage errors.
            match stripe_sql_app::sync_cmd::run_cli(&config, args).await {
                Err(e @ stripe_sql::Error::Plan(_)) => exit_with(&e, 2),
                other => other,
            }
        }
        None => {
            // Fail before anything else when no key is configured (demo mode needs none).
            if !config.demo
                && let Err(e) = config.client_config()
            {
                exit_with(&e, 2);
            }
            stripe_sql_app::run::run_cli(config, &cli).await
        }
    };
    match result {
        Ok(code) => code,
        Err(e @ stripe_sql::Error::Config(_)) => exit_with(&e, 2),
        Err(e) => exit_with(&e, 1),
    }
}

fn exit_with(err: &dyn std::fmt::Display, code: i32) -> ! {
    eprintln!("stripe-sql: error: {err}");
    std::process::exit(code);
}

/// `-v` errors, `-vv` warnings, `-vvv` one line per request, `-vvvv` parameters,
/// `-vvvvv` every request and response line. Logs go to stderr.
fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("stripe_sql={level}"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
