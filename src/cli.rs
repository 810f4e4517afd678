//! The command line (clap), exactly as DESIGN.md §8 lists it: REPL by default, `-c SQL`,
//! `-f FILE`, `--demo`, and the `serve`, `emulator` and `watch` subcommands.
//!
//! The global flags ([`GlobalArgs`]) are accepted before and after a subcommand
//! (`stripe-sql --demo serve` = `stripe-sql serve --demo`): each level parses its own
//! copy and [`Cli::try_parse_args`] merges them, refusing a flag given on both sides.

use crate::repl::OutputFormat;
use clap::{Args, Parser, Subcommand};
use std::fmt;
use std::path::PathBuf;

/// `stripe-sql`: query a Stripe account with SQL.
#[derive(Debug, Parser)]
#[command(
    name = "stripe-sql",
    version,
    about = "A SQL engine whose tables are a Stripe account",
    long_about = "A SQL engine whose tables are a Stripe account.\n\n\
        Without -c/-f it starts a REPL when stdin is a terminal, or runs the SQL read from stdin.\n\
        Environment: STRIPE_API_KEY, STRIPE_API_BASE, STRIPE_ACCOUNT, STRIPE_VERSION, HTTPS_PROXY;\n\
        with --demo, STRIPE_SQL_DEMO_LATENCY_MS adds that many milliseconds to every emulator response."
)]
pub struct Cli {
    /// Flags shared by every mode.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Run these SQL statements, print the results and exit (repeatable).
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,
    /// Run the SQL statements of this file and exit.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A subcommand; without one, SQL mode (REPL, -c or -f).
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses `args` (the program name first) and merges the global flags given
    /// after the subcommand into [`Cli::global`]. A global flag given both before
    /// and after the subcommand, or `-c`/`-f` with a subcommand, is an error.
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut cli = Cli::try_parse_from(args)?;
        let (name, after) = match &mut cli.command {
            None => return Ok(cli),
            Some(Command::Serve(a)) => ("serve", std::mem::take(&mut a.global)),
            Some(Command::Watch(a)) => ("watch", std::mem::take(&mut a.global)),
            Some(Command::Emulator(a)) => ("emulator", std::mem::take(&mut a.global)),
            Some(Command::Sync(a)) => ("sync", std::mem::take(&mut a.global)),
        };
        if !cli.commands.is_empty() || cli.file.is_some() {
            let flag = if cli.commands.is_empty() { "-f/--file" } else { "-c/--command" };
            return Err(usage_error(format!("{flag} cannot be used with the subcommand '{name}'")));
        }
        cli.global = merge(std::mem::take(&mut cli.global), after, name)?;
        Ok(cli)
    }

    /// [`Cli::try_parse_args`] on the process's arguments; on error prints the
    /// message (with usage) and exits with code 2 (0 for `--help`/`--version`).
    pub fn parse_args() -> Cli {
        Cli::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }
}

/// A usage error formatted like clap's own (exit code 2).
fn usage_error(message: String) -> clap::Error {
    use clap::CommandFactory;
    clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, format!("{message}\n")).format(&mut Cli::command())
}

/// `before` (flags given before the subcommand `name`) completed by `after`;
/// a flag present in both is an error naming both places.
fn merge(before: GlobalArgs, after: GlobalArgs, name: &str) -> Result<GlobalArgs, clap::Error> {
    let twice = |flag: &str| {
        usage_error(format!(
            "the global flag {flag} was given twice: before the subcommand ('stripe-sql {flag} … {name}') \
             and after it ('stripe-sql {name} {flag} …'); give it once"
        ))
    };
    fn one<T>(
        a: Option<T>,
        b: Option<T>,
        flag: &str,
        twice: &dyn Fn(&str) -> clap::Error,
    ) -> Result<Option<T>, clap::Error> {
        match (a, b) {
            (Some(_), Some(_)) => Err(twice(flag)),
            (a, b) => Ok(a.or(b)),
        }
    }
    let flag = |a: bool, b: bool, name: &str| if a && b { Err(twice(name)) } else { Ok(a || b) };
    if before.verbose > 0 && after.verbose > 0 {
        return Err(twice("-v"));
    }
    Ok(GlobalArgs {
        api_key: one(before.api_key, after.api_key, "--api-key", &twice)?,
        api_base: one(before.api_base, after.api_base, "--api-base", &twice)?,
        account: one(before.account, after.account, "--account", &twice)?,
        accounts: one(before.accounts, after.accounts, "--accounts", &twice)?,
        stripe_version: one(before.stripe_version, after.stripe_version, "--stripe-version", &twice)?,
        proxy: one(before.proxy, after.proxy, "--proxy", &twice)?,
        max_rps: one(before.max_rps, after.max_rps, "--max-rps", &twice)?,
        allow_live_writes: flag(before.allow_live_writes, after.allow_live_writes, "--allow-live-writes")?,
        format: one(before.format, after.format, "--format", &twice)?,
        config: one(before.config, after.config, "--config", &twice)?,
        verbose: before.verbose.max(after.verbose),
        demo: flag(before.demo, after.demo, "--demo")?,
        mirror: one(before.mirror, after.mirror, "--mirror", &twice)?,
    })
}

/// An API key given on the command line; `Debug` never shows it.
#[derive(Clone)]
pub struct KeyArg(pub String);

impl fmt::Debug for KeyArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyArg([redacted])")
    }
}

impl std::str::FromStr for KeyArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(KeyArg(s.to_owned()))
    }
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Stripe API key (sk_test_, sk_live_, rk_test_, rk_live_) [env: STRIPE_API_KEY].
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<KeyArg>,
    /// API base URL [env: STRIPE_API_BASE] [default: https://api.stripe.com].
    #[arg(long, value_name = "URL")]
    pub api_base: Option<String>,
    /// Connected account to act as (Stripe-Account header) [env: STRIPE_ACCOUNT].
    #[arg(long, value_name = "ACCT")]
    pub account: Option<String>,
    /// Connect: read every connected account at once (`all`) or these
    /// (`acct_1,acct_2`); every table gains an `account` column
    /// (`SET stripe.accounts`). With `sync`: mirror those accounts into
    /// tables partitioned by account.
    #[arg(long, value_name = "all|ACCT,...")]
    pub accounts: Option<String>,
    /// Stripe-Version header [env: STRIPE_VERSION] [default: 2023-08-16].
    #[arg(long, value_name = "V")]
    pub stripe_version: Option<String>,
    /// HTTPS proxy URL, optionally with user:password@ [env: HTTPS_PROXY].
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Request budget per second [default: 25 with test keys, 100 with live keys].
    #[arg(long, value_name = "N")]
    pub max_rps: Option<f64>,
    /// Allow INSERT/UPDATE/DELETE and actions with a live key.
    #[arg(long)]
    pub allow_live_writes: bool,
    /// Output format of query results [default: table].
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Verbosity: -v errors, -vv warnings, -vvv requests, -vvvv parameters, -vvvvv every
    /// request and response line (never the key).
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Use the built-in emulator with demo data (no API key needed).
    #[arg(long)]
    pub demo: bool,
    /// Where mirrors live: `sync` writes under it, `stripe_mirror_status()` reads it;
    /// given, queries read mirrored tables from it (`SET stripe.source`, default
    /// auto) [default: the user's data dir /stripe-sql/mirror, reads stay live].
    #[arg(long, value_name = "DIR")]
    pub mirror: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve SQL over the Postgres wire protocol.
    Serve(ServeArgs),
    /// Run the built-in fake Stripe API over HTTP.
    Emulator(EmulatorCmd),
    /// Re-run a query periodically and print new or changed rows.
    Watch(WatchArgs),
    /// Mirror tables into local Delta Lake tables and keep them fresh from events.
    Sync(SyncArgs),
}

/// `stripe-sql sync` (progress on a terminal; `--format ndjson`: one JSON log line per step).
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Global flags given after `sync` (merged into [`Cli::global`]).
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Tables to mirror, comma-separated (a nested table needs its parent too).
    #[arg(long, value_delimiter = ',', required_unless_present = "all", conflicts_with = "all")]
    pub tables: Vec<String>,
    /// Mirror every table that can be mirrored.
    #[arg(long)]
    pub all: bool,
    /// The mirror's folder [default: <--mirror root>/<account>/<api version>; with --accounts, <api version>-accounts].
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Time between steps once backfilled, e.g. `15s`.
    #[arg(long, default_value = "15s")]
    pub interval: String,
    /// Backfill and catch up once, then exit.
    #[arg(long)]
    pub once: bool,
    /// Reconcile (re-list every table and repair drift) this often, e.g. `24h` (`0`: only with --reconcile).
    #[arg(long, default_value = "24h")]
    pub reconcile_every: String,
    /// Reconcile in this run's first step.
    #[arg(long)]
    pub reconcile: bool,
    /// How far behind the newest event each poll reads again, for late events.
    #[arg(long, default_value = "2m")]
    pub lag: String,
    /// Rows a backfill commits at a time (with what it has still to list, so a
    /// stopped sync resumes there); about twice this many are held in memory.
    #[arg(long, default_value_t = 25_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub commit_rows: u64,
    /// Compact a table (rewrite its small files into a few large ones, as Delta's
    /// OPTIMIZE) once it holds more data files than this (`0`: never).
    #[arg(long, default_value_t = 64)]
    pub compact_files: u64,
}

/// `stripe-sql emulator`: the emulator's own flags plus the global ones.
#[derive(Debug, Clone, Args)]
pub struct EmulatorCmd {
    /// The emulator's flags.
    #[command(flatten)]
    pub args: stripe_sql::emulator::EmulatorArgs,
    /// Global flags given after `emulator` (merged into [`Cli::global`]).
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// `stripe-sql serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Global flags given after `serve` (merged into [`Cli::global`]).
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Address of the Postgres port (default 127.0.0.1:5433; with only
    /// `--flight-sql` given, no Postgres port is opened).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Also (or, without `--listen`, only) serve Arrow Flight SQL on this address.
    #[arg(long, value_name = "ADDR")]
    pub flight_sql: Option<std::net::SocketAddr>,
    /// File holding the password clients must send.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Refuse writes and actions.
    #[arg(long)]
    pub read_only: bool,
    /// TLS certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// How clients prove the password: scram-sha-256 (Postgres's default), or
    /// md5 for old drivers without SCRAM.
    #[arg(long, value_enum, default_value = "scram-sha-256", requires = "password_file")]
    pub password_auth: crate::server::PasswordAuth,
    /// Sessions served at once; the next client is refused with SQLSTATE 53300.
    #[arg(long, value_name = "N", default_value = "100", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Close a session that sends nothing for this long between statements
    /// (e.g. 10m; 0: never, as Postgres's idle_session_timeout).
    #[arg(long, value_name = "DURATION", default_value = "0")]
    pub idle_timeout: String,
    /// Memory all running queries of all sessions may hold at once (e.g.
    /// 512MB, 2GB); a query past it fails alone with SQLSTATE 53200.
    #[arg(long, value_name = "SIZE", default_value = "2GB")]
    pub memory_limit: String,
    /// Keep the mirror (`--mirror DIR`, its tables as synced) fresh in the
    /// background, one sync step every this often (e.g. 15s), while serving.
    #[arg(long, value_name = "DURATION")]
    pub sync_interval: Option<String>,
}

impl ServeArgs {
    /// The Postgres port's address: `--listen`, else the default unless
    /// only Flight SQL was asked for.
    pub fn postgres_addr(&self) -> Option<std::net::SocketAddr> {
        match (self.listen, self.flight_sql) {
            (Some(addr), _) => Some(addr),
            (None, Some(_)) => None,
            (None, None) => Some(std::net::SocketAddr::from(([127, 0, 0, 1], 5433))),
        }
    }
}

/// `stripe-sql watch "SELECT ..."` (output format: the global `--format`).
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Global flags given after `watch` (merged into [`Cli::global`]).
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The query to watch: `SELECT … FROM <table> [WHERE …]` over a table with `created`.
    #[arg(required_unless_present = "new")]
    pub sql: Option<String>,
    /// Shortcut for `SELECT * FROM TABLE` (e.g. `--new charges`).
    #[arg(long, value_name = "TABLE", conflicts_with = "sql")]
    pub new: Option<String>,
    /// Time between runs, e.g. `15s`, `2m`.
    #[arg(long, default_value = "15s")]
    pub interval: String,
    /// Only rows created at or after this time (RFC 3339 or unix seconds).
    #[arg(long)]
    pub since: Option<String>,
    /// File remembering what was already seen, so a restart resumes.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Print updated and deleted rows too (from events), with a leading `change` column.
    #[arg(long)]
    pub changes: bool,
    /// How far behind the newest `created` seen each poll looks again, for
    /// objects listed a moment after their `created` second (ids already printed
    /// are remembered, so nothing repeats).
    #[arg(long, default_value = "10s")]
    pub settle: String,
    /// Most API calls in any 60 seconds (e.g. 100); polls wait for their turn.
    #[arg(long, value_name = "N")]
    pub max_calls_per_minute: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_sql_mode_flags() {
        let cli = Cli::try_parse_args([
            "stripe-sql",
            "--api-key",
            "sk_test_x1",
            "-c",
            "select 1",
            "-c",
            "select 2",
            "--format",
            "csv",
            "-vvv",
            "--max-rps",
            "5",
        ])
        .unwrap();
        assert_eq!(cli.commands, vec!["select 1", "select 2"]);
        assert_eq!(cli.global.format, Some(OutputFormat::Csv));
        assert_eq!(cli.global.verbose, 3);
        assert_eq!(cli.global.max_rps, Some(5.0));
        assert!(cli.command.is_none());
        assert!(!format!("{cli:?}").contains("sk_test_x1"));
    }

    #[test]
    fn parses_subcommands_with_global_flags_after_them() {
        let cli = Cli::try_parse_args(["stripe-sql", "serve", "--read-only", "--demo"]).unwrap();
        match cli.command {
            Some(Command::Serve(s)) => {
                assert!(s.read_only);
                assert_eq!(s.postgres_addr().map(|a| a.to_string()).as_deref(), Some("127.0.0.1:5433"));
            }
            other => panic!("{other:?}"),
        }
        assert!(cli.global.demo);
        let cli = Cli::try_parse_args(["stripe-sql", "serve", "--flight-sql", "127.0.0.1:50051"]).unwrap();
        match cli.command {
            Some(Command::Serve(s)) => assert_eq!(s.postgres_addr(), None, "Flight SQL alone"),
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_args([
            "stripe-sql",
            "watch",
            "select 1",
            "--interval",
            "5s",
            "--changes",
            "--format",
            "ndjson",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Watch(w)) => {
                assert_eq!((w.sql.as_deref(), w.interval.as_str(), w.changes), (Some("select 1"), "5s", true))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(cli.global.format, Some(OutputFormat::Ndjson));
        let cli = Cli::try_parse_args(["stripe-sql", "emulator", "--latency-ms", "7"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Emulator(a)) if a.args.latency_ms == 7));
        let cli = Cli::try_parse_args(["stripe-sql", "emulator", "--endpoint-rps", "25", "--rate-window", "sliding"]);
        let window = stripe_sql::emulator::RateWindow::Sliding;
        assert!(matches!(cli.unwrap().command, Some(Command::Emulator(a)) if a.args.rate_window == window));
        assert!(Cli::try_parse_args(["stripe-sql", "--format", "xml"]).is_err());
    }

    #[test]
    fn global_flags_are_accepted_before_every_subcommand() {
        let cli = Cli::try_parse_args(["stripe-sql", "--api-key", "sk_test_x1", "watch", "select 1"]).unwrap();
        assert_eq!(cli.global.api_key.map(|k| k.0).as_deref(), Some("sk_test_x1"));
        assert!(matches!(cli.command, Some(Command::Watch(w)) if w.sql.as_deref() == Some("select 1")));
        let cli = Cli::try_parse_args(["stripe-sql", "--demo", "--format", "csv", "serve", "--read-only"]).unwrap();
        assert!(cli.global.demo);
        assert_eq!(cli.global.format, Some(OutputFormat::Csv));
        assert!(matches!(cli.command, Some(Command::Serve(s)) if s.read_only));
        let cli = Cli::try_parse_args(["stripe-sql", "-vv", "--config", "a.toml", "emulator", "--scale", "2"]).unwrap();
        assert_eq!((cli.global.verbose, cli.global.config.as_deref()), (2, Some(std::path::Path::new("a.toml"))));
        assert!(matches!(cli.command, Some(Command::Emulator(e)) if e.args.scale == 2));
    }

    #[test]
    fn global_flags_mean_the_same_on_both_sides() {
        let before = Cli::try_parse_args(["stripe-sql", "--api-base", "http://127.0.0.1:1", "--max-rps", "3", "serve"]);
        let after = Cli::try_parse_args(["stripe-sql", "serve", "--api-base", "http://127.0.0.1:1", "--max-rps", "3"]);
        let (before, after) = (before.unwrap().global, after.unwrap().global);
        assert_eq!(format!("{before:?}"), format!("{after:?}"));
        assert_eq!(before.api_base.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(after.max_rps, Some(3.0));
    }

    #[test]
    fn a_global_flag_given_on_both_sides_is_an_error_naming_both() {
        for args in [
            &["stripe-sql", "--api-key", "sk_test_a", "serve", "--api-key", "sk_test_b"][..],
            &["stripe-sql", "--demo", "watch", "select 1", "--demo"][..],
        ] {
            let err = Cli::try_parse_args(args).unwrap_err();
            let msg = err.to_string();
            let flag = args[1];
            assert!(msg.contains(&format!("{flag} was given twice")), "{msg}");
            assert!(msg.contains("before the subcommand") && msg.contains("after it"), "{msg}");
            assert!(!msg.contains("sk_test_a") && !msg.contains("sk_test_b"), "{msg}");
            assert_eq!(err.exit_code(), 2);
        }
        let err = Cli::try_parse_args(["stripe-sql", "-c", "select 1", "serve"]).unwrap_err().to_string();
        assert!(err.contains("-c/--command cannot be used with the subcommand 'serve'"), "{err}");
    }
}
