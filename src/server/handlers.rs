//! The pgwire handlers of one connection: its [`Session`] for queries, the
//! startup (open or password) and the cancel handler shared by the server;
//! `connection.rs` runs them.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire;
use futures::Sink;
use pgwire::api::auth::md5pass::Md5PasswordAuthStartupHandler;
use pgwire::api::auth::noop::NoopStartupHandler;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::ScramAuth;
use pgwire::api::auth::{DefaultServerParameterProvider, StartupHandler};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::{ClientInfo, ConnectionManager};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use datafusion::execution::runtime_env::RuntimeEnv;

use crate::Result;
use crate::server::ServerOptions;
use crate::server::auth::PasswordAuth;
use crate::server::session::Session;
use stripe_sql::stripe;

/// Everything pgwire asks for while serving one socket.
pub struct ConnectionHandlers {
    pub(crate) session: Arc<Session>,
    pub(crate) startup: Arc<Startup>,
    pub(crate) cancel: Arc<DefaultCancelHandler>,
}

impl ConnectionHandlers {
    /// Handlers for a new connection: a fresh session over `client` whose
    /// queries draw on `runtime`'s memory pool.
    pub fn new(
        client: &stripe::Client,
        options: &ServerOptions,
        connections: Arc<ConnectionManager>,
        runtime: Arc<RuntimeEnv>,
    ) -> Result<Self> {
        let session = Session::new(client, options.allow_live_writes, options.read_only, runtime)?;
        if let Some(dir) = &options.mirror {
            session.set_mirror(dir.clone());
        }
        if let Some(accounts) = &options.accounts {
            session.engine.set_accounts(accounts)?;
        }
        let startup = match (&options.password, options.password_auth) {
            (None, _) => Startup::Open(OpenStartup { connections: Arc::clone(&connections) }),
            (Some(password), PasswordAuth::ScramSha256) => Startup::Scram(Box::new(
                SASLAuthStartupHandler::new(Arc::new(server_parameters()))
                    .with_scram(ScramAuth::new(password.scram()))
                    .with_connection_manager(Arc::clone(&connections)),
            )),
            (Some(password), PasswordAuth::Md5) => Startup::Md5(
                Md5PasswordAuthStartupHandler::new(password.md5(), Arc::new(server_parameters()))
                    .with_connection_manager(Arc::clone(&connections)),
            ),
        };
        Ok(Self {
            session: Arc::new(session),
            startup: Arc::new(startup),
            cancel: Arc::new(DefaultCancelHandler::new(connections)),
        })
    }
}

/// The parameters reported at startup (server version, encoding, ...).
fn server_parameters() -> DefaultServerParameterProvider {
    let mut params = DefaultServerParameterProvider::default();
    params.server_version = "16.6".to_owned();
    params.search_path = stripe_sql::engine::SCHEMA.to_owned();
    params
}

/// How a connection authenticates.
pub enum Startup {
    /// No password (loopback only).
    Open(OpenStartup),
    /// SCRAM-SHA-256 (the default with a password).
    Scram(Box<SASLAuthStartupHandler<DefaultServerParameterProvider>>),
    /// MD5 password challenge (`--password-auth md5`).
    Md5(Md5PasswordAuthStartupHandler<crate::server::auth::Md5Source, DefaultServerParameterProvider>),
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self {
            Self::Open(h) => h.on_startup(client, message).await,
            Self::Scram(h) => h.on_startup(client, message).await,
            Self::Md5(h) => h.on_startup(client, message).await,
        }
    }
}

/// Startup without authentication that still registers the connection for cancels.
pub struct OpenStartup {
    connections: Arc<ConnectionManager>,
}

#[async_trait]
impl NoopStartupHandler for OpenStartup {
    fn connection_manager(&self) -> Option<Arc<ConnectionManager>> {
        Some(Arc::clone(&self.connections))
    }
}
