//! The pgwire handlers of one connection: its [`Session`] for queries, the
//! startup (open or password) and the cancel handler shared by the server.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire;
use futures::Sink;
use pgwire::api::auth::md5pass::Md5PasswordAuthStartupHandler;
use pgwire::api::auth::noop::NoopStartupHandler;
use pgwire::api::auth::{DefaultServerParameterProvider, StartupHandler};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::{ClientInfo, ConnectionManager, ErrorHandler, PgWireServerHandlers};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::Result;
use crate::server::auth::ServerPassword;
use crate::server::session::Session;
use crate::server::ServerOptions;
use crate::stripe;

/// Everything pgwire asks for while serving one socket.
pub struct ConnectionHandlers {
    session: Arc<Session>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl ConnectionHandlers {
    /// Handlers for a new connection: a fresh session over `client`.
    pub fn new(client: &stripe::Client, options: &ServerOptions, connections: Arc<ConnectionManager>) -> Result<Self> {
        let session = Session::new(client, options.allow_live_writes, options.read_only)?;
        let startup = match &options.password {
            None => Startup::Open(OpenStartup { connections: Arc::clone(&connections) }),
            Some(password) => Startup::Password(
                Md5PasswordAuthStartupHandler::new(Arc::new(password.clone()), Arc::new(server_parameters()))
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

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        Arc::clone(&self.session)
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        Arc::clone(&self.session)
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::clone(&self.startup)
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(LogErrors)
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        Arc::clone(&self.cancel)
    }
}

/// The parameters reported at startup (server version, encoding, ...).
fn server_parameters() -> DefaultServerParameterProvider {
    let mut params = DefaultServerParameterProvider::default();
    params.server_version = "16.6".to_owned();
    params.search_path = crate::engine::SCHEMA.to_owned();
    params
}

/// How a connection authenticates.
pub enum Startup {
    /// No password (loopback only).
    Open(OpenStartup),
    /// MD5 password challenge.
    Password(Md5PasswordAuthStartupHandler<ServerPassword, DefaultServerParameterProvider>),
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
            Self::Password(h) => h.on_startup(client, message).await,
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

/// Logs errors sent to clients at debug level (the client sees them anyway).
struct LogErrors;

impl ErrorHandler for LogErrors {
    fn on_error<C: ClientInfo>(&self, _client: &C, error: &mut PgWireError) {
        tracing::debug!("sending error to client: {error}");
    }
}
