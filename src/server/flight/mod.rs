//! `stripe-sql serve --flight-sql ADDR`: an Arrow Flight SQL endpoint beside
//! (or instead of) the Postgres port, on the `arrow-flight` crate's Flight
//! SQL server over tonic. Results leave as the Arrow record batches the
//! engine produces. It shares the server's rules: a password (basic auth in
//! the handshake, then a bearer token), TLS with the same certificate,
//! `--read-only`, `--memory-limit` (the same pool), `--max-connections` (the
//! same slots), `--idle-timeout`, file access refused, one session per
//! connection, cancel, and a non-loopback bind refused without a password.

pub mod cancel;
pub mod connections;
pub mod metadata;
pub mod service;
pub mod sessions;
pub mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use datafusion::execution::runtime_env::RuntimeEnv;
use tokio::net::TcpListener;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::server::ServerPassword;
use crate::server::connection::ConnectionSlots;
use crate::{Error, Result};
use connections::Tracked;
use sessions::{SessionSetup, Sessions};
use stripe_sql::stripe;

/// How the Flight SQL endpoint serves.
#[derive(Clone)]
pub struct FlightOptions {
    /// Require this password (basic auth) of every call.
    pub password: Option<ServerPassword>,
    /// Refuse writes and actions.
    pub read_only: bool,
    /// Serve TLS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Allow writes with a live key.
    pub allow_live_writes: bool,
    /// Sessions may read tables from the mirror here (`--mirror DIR`), as on the Postgres port.
    pub mirror: Option<PathBuf>,
    /// Each session starts with `stripe.accounts` set to this (`--accounts`).
    pub accounts: Option<String>,
    /// The connection slots sessions take (`--max-connections`; shared with
    /// the Postgres port when both are served).
    pub slots: Arc<ConnectionSlots>,
    /// Close a connection with no call running for this long (zero: never).
    pub idle_timeout: Duration,
}

impl Default for FlightOptions {
    fn default() -> Self {
        Self {
            password: None,
            read_only: false,
            tls: None,
            allow_live_writes: false,
            slots: ConnectionSlots::new(crate::server::DEFAULT_MAX_CONNECTIONS),
            idle_timeout: Duration::ZERO,
            mirror: None,
            accounts: None,
        }
    }
}

/// A bound Flight SQL endpoint; [`FlightServer::run`] serves it.
pub struct FlightServer {
    listener: TcpListener,
    sessions: Arc<Sessions>,
    options: FlightOptions,
}

impl FlightServer {
    /// Binds `addr`; a non-loopback address needs a password.
    pub async fn bind(
        addr: SocketAddr,
        client: stripe::Client,
        runtime: Arc<RuntimeEnv>,
        options: FlightOptions,
    ) -> Result<Self> {
        if !addr.ip().is_loopback() && options.password.is_none() {
            return Err(Error::Config(format!(
                "refusing to serve Flight SQL on {addr} without a password: give --password-file FILE or listen on 127.0.0.1"
            )));
        }
        let listener =
            TcpListener::bind(addr).await.map_err(|e| Error::Config(format!("could not listen on {addr}: {e}")))?;
        let setup = SessionSetup {
            allow_live_writes: options.allow_live_writes,
            mirror: options.mirror.clone(),
            accounts: options.accounts.clone(),
        };
        let sessions = Sessions::new(client, runtime, setup, Arc::clone(&options.slots));
        Ok(Self { listener, sessions, options })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The sessions of the open connections.
    pub fn sessions(&self) -> Arc<Sessions> {
        Arc::clone(&self.sessions)
    }

    /// Serves until the task is dropped.
    pub async fn run(self) -> Result<()> {
        let Self { listener, sessions, options } = self;
        let service = service::FlightSqlServiceImpl::new(Arc::clone(&sessions), options.password, options.read_only);
        let mut builder = Server::builder();
        if let Some((cert, key)) = &options.tls {
            let read = |p: &PathBuf| {
                std::fs::read(p).map_err(|e| Error::Config(format!("could not read {}: {e}", p.display())))
            };
            let identity = Identity::from_pem(read(cert)?, read(key)?);
            builder = builder
                .tls_config(ServerTlsConfig::new().identity(identity))
                .map_err(|e| Error::Config(format!("could not set up TLS for Flight SQL: {e}")))?;
        }
        let idle_timeout = options.idle_timeout;
        let incoming = futures::stream::unfold((listener, sessions), move |(listener, sessions)| async move {
            let accepted = listener.accept().await.map(|(socket, peer)| {
                let _ = socket.set_nodelay(true);
                Tracked::new(socket, peer, &sessions, idle_timeout)
            });
            Some((accepted, (listener, sessions)))
        });
        builder
            .add_service(FlightServiceServer::new(service).max_decoding_message_size(64 << 20))
            .serve_with_incoming(incoming)
            .await
            .map_err(|e| Error::Config(format!("the Flight SQL endpoint stopped: {e}")))
    }
}
