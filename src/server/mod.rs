//! `stripe-sql serve`: the Postgres wire protocol over the engine, for BI
//! tools, notebooks and drivers (psql, psycopg, pgJDBC, SQLAlchemy, ...).
//!
//! Built on `datafusion-postgres` (pgwire + a `pg_catalog` emulation): one
//! Stripe client is shared by every connection, each connection gets its own
//! session (settings, `stripe_last_requests()`), queries stream row by row
//! and a client cancel stops the running scan.

pub mod auth;
pub mod encode;
pub mod errors;
pub mod extended;
pub mod handlers;
pub mod pg_compat;
pub mod policy;
pub mod rewrite;
pub mod session;
pub mod settings;
pub mod tls;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use datafusion_postgres::pgwire;
use pgwire::api::ConnectionManager;
use pgwire::tokio::{TlsAcceptor, process_socket};
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::stripe;
use crate::{Error, Result};

pub use auth::ServerPassword;
pub use pg_compat::register as register_pg_catalog;

/// How the server listens and what it allows.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// Require this password (MD5 challenge) from every client.
    pub password: Option<ServerPassword>,
    /// Refuse INSERT/UPDATE/DELETE and action table functions.
    pub read_only: bool,
    /// Serve TLS (clients asking for SSL get it; others stay plain).
    pub tls: Option<TlsAcceptor>,
    /// Allow writes with a live key (the CLI's `--allow-live-writes`).
    pub allow_live_writes: bool,
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("password", &self.password.is_some())
            .field("read_only", &self.read_only)
            .field("tls", &self.tls.is_some())
            .field("allow_live_writes", &self.allow_live_writes)
            .finish()
    }
}

/// A bound Postgres-wire server; [`Server::run`] accepts connections.
pub struct Server {
    listener: TcpListener,
    client: stripe::Client,
    options: Arc<ServerOptions>,
    connections: Arc<ConnectionManager>,
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
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Config(format!("could not listen on {addr}: {e}")))?;
        Ok(Self { listener, client, options: Arc::new(options), connections: Arc::new(ConnectionManager::new()) })
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
            tokio::spawn(async move {
                let handlers = match handlers::ConnectionHandlers::new(&client, &options, connections) {
                    Ok(h) => h,
                    Err(e) => {
                        tracing::error!("could not set up a session for {peer}: {e}");
                        return;
                    }
                };
                if let Err(e) = process_socket(socket, options.tls.clone(), handlers).await {
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
        read_only: args.read_only,
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        },
        allow_live_writes: config.allow_live_writes,
    };
    if !args.listen.ip().is_loopback() && options.password.is_none() {
        // Checked before the engine starts so the refusal is immediate.
        return Err(Error::Config(format!(
            "refusing to listen on {} without a password: give --password-file FILE or listen on 127.0.0.1",
            args.listen
        )));
    }
    let engine = crate::engine::run::build_engine(config)?;
    let server = Server::bind(args.listen, engine.client().clone(), options).await?;
    let addr = server.local_addr()?;
    let mut out = std::io::stdout();
    let mode = if config.demo { " (demo data from the built-in emulator)" } else { "" };
    let _ = writeln!(out, "stripe-sql: listening on {addr}{mode}");
    let _ = out.flush();
    tokio::select! {
        result = server.run() => result?,
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(engine);
    Ok(0)
}
