//! `stripe-sql serve`: the Postgres wire protocol over the engine, for BI
//! tools, notebooks and drivers (psql, psycopg, pgJDBC, SQLAlchemy, ...).
//!
//! Built on `datafusion-postgres` (pgwire + a `pg_catalog` emulation): one
//! Stripe client (connections, rate budget, cache) is shared by every
//! connection; each connection gets its own session (settings, request log,
//! `stripe_last_requests()`), which it frees when it closes. What does not
//! change (table definitions, the `pg_catalog` data) is built once per
//! process. Queries stream row by row, a client cancel stops the running
//! scan, and every query of every connection draws on one memory pool
//! (`--memory-limit`), so one client cannot take the server down.
//!
//! Bulk readers get `COPY … TO STDOUT` (`copy.rs`; text, CSV, binary) on
//! this port and Arrow Flight SQL on `--flight-sql` (`flight/`), which shares
//! the password, TLS, read-only and file-access rules (`policy.rs`).

pub mod array_text;
pub mod auth;
pub mod connection;
pub mod copy;
pub mod encode;
pub mod errors;
pub mod extended;
pub mod flight;
pub mod handlers;
pub mod notices;
pub mod pg_attribute;
pub mod pg_catalog;
pub mod pg_compat;
pub mod pg_extra;
pub mod policy;
pub mod rewrite;
pub mod session;
pub mod session_tables;
pub mod settings;
pub mod tls;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use datafusion_postgres::pgwire;
use pgwire::api::ConnectionManager;
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::tokio::TlsAcceptor;
use tokio::net::TcpListener;

use datafusion::execution::memory_pool::{GreedyMemoryPool, MemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::server::connection::{ConnectionLimits, ConnectionSlots};
use crate::{Error, Result};
use stripe_sql::stripe;

pub use auth::{PasswordAuth, ServerPassword};
pub use pg_compat::register as register_pg_catalog;

/// Sessions served at once by default (Postgres's own default `max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;
/// Memory all running queries may hold at once by default: a quarter of this
/// machine class's 24 GiB would starve the rest, so 2 GiB, which holds sorts
/// and joins of millions of Stripe rows while leaving room for the process.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// How the server listens and what it allows.
#[derive(Clone)]
pub struct ServerOptions {
    /// Require this password from every client.
    pub password: Option<ServerPassword>,
    /// How the password is checked (SCRAM-SHA-256 unless MD5 is asked for).
    pub password_auth: PasswordAuth,
    /// Sessions served at once; the next client gets SQLSTATE 53300.
    pub max_connections: usize,
    /// Close a session idle this long between statements (zero: never).
    pub idle_timeout: std::time::Duration,
    /// Bytes all running queries (and `CREATE TABLE … AS` tables) may hold at once.
    pub memory_limit: usize,
    /// Refuse INSERT/UPDATE/DELETE and action table functions.
    pub read_only: bool,
    /// Serve TLS (clients asking for SSL get it; others stay plain).
    pub tls: Option<TlsAcceptor>,
    /// Allow writes with a live key (the CLI's `--allow-live-writes`).
    pub allow_live_writes: bool,
    /// Sessions may read tables from the mirror here (`--mirror DIR`).
    pub mirror: Option<std::path::PathBuf>,
    /// Each session starts with `stripe.accounts` set to this (`--accounts`).
    pub accounts: Option<String>,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("password", &self.password.is_some())
            .field("password_auth", &self.password_auth)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("memory_limit", &self.memory_limit)
            .field("read_only", &self.read_only)
            .field("tls", &self.tls.is_some())
            .field("allow_live_writes", &self.allow_live_writes)
            .field("mirror", &self.mirror)
            .field("accounts", &self.accounts)
            .finish()
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            password: None,
            password_auth: PasswordAuth::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: std::time::Duration::ZERO,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            read_only: false,
            tls: None,
            allow_live_writes: false,
            mirror: None,
            accounts: None,
        }
    }
}

/// A bound Postgres-wire server; [`Server::run`] accepts connections.
pub struct Server {
    listener: TcpListener,
    client: stripe::Client,
    options: Arc<ServerOptions>,
    connections: Arc<ConnectionManager>,
    slots: Arc<ConnectionSlots>,
    runtime: Arc<RuntimeEnv>,
}

impl Server {
    /// Binds `addr`. A non-loopback address needs a password: the server
    /// hands out the Stripe key's full power to whoever connects.
    pub async fn bind(addr: SocketAddr, client: stripe::Client, options: ServerOptions) -> Result<Self> {
        if !addr.ip().is_loopback() && options.password.is_none() {
            return Err(Error::Config(format!(
                "refusing to listen on {addr} without a password: anyone who can reach it could use the Stripe key; \
                 give --password-file FILE or listen on 127.0.0.1"
            )));
        }
        let listener =
            TcpListener::bind(addr).await.map_err(|e| Error::Config(format!("could not listen on {addr}: {e}")))?;
        let runtime = shared_runtime(options.memory_limit)?;
        let slots = ConnectionSlots::new(options.max_connections);
        Ok(Self {
            listener,
            client,
            options: Arc::new(options),
            connections: Arc::new(ConnectionManager::new()),
            slots,
            runtime,
        })
    }

    /// Client sessions open now.
    pub fn open_sessions(&self) -> Arc<ConnectionSlots> {
        Arc::clone(&self.slots)
    }

    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Accepts connections until the task is dropped. A connection that
    /// fails (bad password, garbage bytes) ends alone; the server keeps serving.
    pub async fn run(self) -> Result<()> {
        loop {
            let (socket, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("could not accept a connection: {e}");
                    continue;
                }
            };
            let client = self.client.clone();
            let options = Arc::clone(&self.options);
            let connections = Arc::clone(&self.connections);
            let runtime = Arc::clone(&self.runtime);
            let slot = self.slots.take();
            tokio::spawn(async move {
                let limits = ConnectionLimits { idle_timeout: options.idle_timeout };
                // A client over the limit gets no session: only its 53300 (or its cancel).
                let Some(_slot) = slot else {
                    let cancel = Arc::new(DefaultCancelHandler::new(connections));
                    if let Err(e) = connection::refuse(socket, options.tls.clone(), cancel).await {
                        tracing::info!("refused connection from {peer} ended with an error: {e}");
                    }
                    return;
                };
                let result = match handlers::ConnectionHandlers::new(&client, &options, connections, runtime) {
                    Ok(h) => connection::serve(socket, options.tls.clone(), h, &limits).await,
                    Err(e) => {
                        tracing::error!("could not set up a session for {peer}: {e}");
                        return;
                    }
                };
                if let Err(e) = result {
                    tracing::info!("connection from {peer} ended with an error: {e}");
                }
            });
        }
    }
}

/// `stripe-sql serve`: builds the engine (`--demo`: the built-in emulator),
/// binds, prints `listening on ADDR` on stdout and serves until interrupted.
pub async fn run_serve(config: &Config, args: &ServeArgs) -> Result<i32> {
    let options = ServerOptions {
        password: args.password_file.as_deref().map(ServerPassword::from_file).transpose()?,
        password_auth: args.password_auth,
        max_connections: args.max_connections as usize,
        idle_timeout: parse_idle_timeout(&args.idle_timeout)
            .map_err(|e| Error::Config(format!("--idle-timeout: {e}")))?,
        memory_limit: parse_bytes(&args.memory_limit).map_err(|e| Error::Config(format!("--memory-limit: {e}")))?,
        read_only: args.read_only,
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        },
        allow_live_writes: config.allow_live_writes,
        mirror: config.mirror_reads.then(|| config.mirror.clone()),
        accounts: config.accounts.clone(),
    };
    for addr in [args.postgres_addr(), args.flight_sql].into_iter().flatten() {
        if !addr.ip().is_loopback() && options.password.is_none() {
            // Checked before the engine starts so the refusal is immediate.
            return Err(Error::Config(format!(
                "refusing to listen on {addr} without a password: give --password-file FILE or listen on 127.0.0.1"
            )));
        }
    }
    let engine = Arc::new(crate::run::build_engine(config, None)?);
    let syncing = match &args.sync_interval {
        Some(every) => Some(crate::sync_cmd::background(config, Arc::clone(&engine), every).await?),
        None => None,
    };
    let mode = if config.demo { " (demo data from the built-in emulator)" } else { "" };
    let mut out = std::io::stdout();
    let pg = match args.postgres_addr() {
        Some(addr) => {
            let server = Server::bind(addr, engine.client().clone(), options.clone()).await?;
            let _ = writeln!(out, "stripe-sql: listening on {}{mode}", server.local_addr()?);
            Some(server)
        }
        None => None,
    };
    let flight = match args.flight_sql {
        Some(addr) => {
            let flight_options = flight::FlightOptions {
                password: options.password.clone(),
                read_only: options.read_only,
                tls: args.tls_cert.clone().zip(args.tls_key.clone()),
                allow_live_writes: options.allow_live_writes,
                mirror: options.mirror.clone(),
                accounts: options.accounts.clone(),
                // One --max-connections for both ports: it bounds the sessions the server holds.
                slots: match &pg {
                    Some(server) => server.open_sessions(),
                    None => ConnectionSlots::new(options.max_connections),
                },
                idle_timeout: options.idle_timeout,
            };
            let runtime = match &pg {
                Some(server) => Arc::clone(&server.runtime),
                None => shared_runtime(options.memory_limit)?,
            };
            let server = flight::FlightServer::bind(addr, engine.client().clone(), runtime, flight_options).await?;
            let _ = writeln!(out, "stripe-sql: Flight SQL listening on {}{mode}", server.local_addr()?);
            Some(server)
        }
        None => None,
    };
    let _ = out.flush();
    let pg_task = async {
        match pg {
            Some(server) => server.run().await,
            None => std::future::pending().await,
        }
    };
    let flight_task = async {
        match flight {
            Some(server) => server.run().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        result = pg_task => result?,
        result = flight_task => result?,
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(syncing);
    drop(engine);
    Ok(0)
}

/// The runtime every session of the server shares: one memory pool of
/// `limit` bytes, whose errors name the largest consumers.
pub fn shared_runtime(limit: usize) -> Result<Arc<RuntimeEnv>> {
    let pool: Arc<dyn MemoryPool> = Arc::new(TrackConsumersPool::new(
        GreedyMemoryPool::new(limit),
        std::num::NonZeroUsize::new(3).expect("3 is not zero"),
    ));
    Ok(RuntimeEnvBuilder::new().with_memory_pool(pool).build_arc()?)
}

/// Parses `--idle-timeout`: `0` (never, Postgres's default) or an interval such as `10m`.
pub fn parse_idle_timeout(text: &str) -> std::result::Result<std::time::Duration, String> {
    if text.trim() == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    stripe_sql::watch::parse_interval(text)
}

/// Parses a size such as `512MB`, `2GiB`, `1048576` (bytes; K/M/G/T with or
/// without `B`/`iB` are powers of 1024, as Postgres's memory settings are).
pub fn parse_bytes(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: usize = number.parse().map_err(|_| format!("{text:?} is not a size such as 512MB or 2GB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => return Err(format!("unknown unit {other:?} in {text:?}: use B, kB, MB, GB or TB")),
    };
    let bytes =
        number.checked_shl(shift).filter(|b| b >> shift == number).ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes < 1 << 20 {
        return Err(format!("{text:?} is below the 1MB a query needs to run"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_powers_of_1024() {
        assert_eq!(parse_bytes("2GB"), Ok(2 << 30));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes(" 64 mb "), Ok(64 << 20));
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert!(parse_bytes("12").unwrap_err().contains("below"));
        assert!(parse_bytes("2 potatoes").unwrap_err().contains("unknown unit"));
        assert!(parse_bytes("lots").unwrap_err().contains("not a size"));
        assert!(parse_bytes("99999999999999999999TB").is_err());
    }

    #[test]
    fn idle_timeout_zero_is_never() {
        assert_eq!(parse_idle_timeout("0"), Ok(std::time::Duration::ZERO));
        assert_eq!(parse_idle_timeout("10m"), Ok(std::time::Duration::from_secs(600)));
        assert!(parse_idle_timeout("soon").is_err());
    }
}
