//! What a statement reported without failing (under `stripe.accounts`, the
//! accounts that failed) reaches a Postgres client as `NoticeResponse`s of
//! severity WARNING, after the statement's result (its `CommandComplete`)
//! and before `ReadyForQuery`, as psql and drivers expect notices.
//!
//! The extended protocol sends them after each Execute. The simple protocol
//! streams rows after `do_query` returns, so pgwire's own query loop runs over
//! [`Noticed`], a client that sends the engine's warnings after each
//! `CommandComplete` it passes on.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use datafusion_postgres::pgwire;
use futures::Sink;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, SessionExtensions};
use pgwire::error::ErrorInfo;
use pgwire::messages::response::{NoticeResponse, TransactionStatus};
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, ProtocolVersion};
use rustls::pki_types::CertificateDer;

use stripe_sql::engine::Engine;

/// SQLSTATE `01000` (warning).
const WARNING: &str = "01000";

/// The notices of `engine`'s warnings so far (taken: each is sent once).
pub fn take(engine: &Engine) -> Vec<PgWireBackendMessage> {
    engine
        .take_warnings()
        .into_iter()
        .map(|text| {
            let info = ErrorInfo::new("WARNING".to_owned(), WARNING.to_owned(), text);
            PgWireBackendMessage::NoticeResponse(NoticeResponse::from(info))
        })
        .collect()
}

/// A client connection that, after each `CommandComplete`, also sends the
/// engine's warnings as notices.
pub struct Noticed<'a, C> {
    inner: &'a mut C,
    engine: &'a Engine,
    queue: VecDeque<PgWireBackendMessage>,
}

impl<'a, C> Noticed<'a, C> {
    /// `inner` with `engine`'s warnings added after each result.
    pub fn new(inner: &'a mut C, engine: &'a Engine) -> Self {
        Self { inner, engine, queue: VecDeque::new() }
    }
}

impl<C> Noticed<'_, C>
where
    C: Sink<PgWireBackendMessage> + Unpin,
{
    /// Sends the queued notices ahead of anything else.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        while !self.queue.is_empty() {
            match Pin::new(&mut *self.inner).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            if let Some(notice) = self.queue.pop_front() {
                Pin::new(&mut *self.inner).start_send(notice)?;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<C> Sink<PgWireBackendMessage> for Noticed<'_, C>
where
    C: Sink<PgWireBackendMessage> + Unpin,
{
    type Error = C::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut *this.inner).poll_ready(cx),
            other => other,
        }
    }

    fn start_send(self: Pin<&mut Self>, item: PgWireBackendMessage) -> Result<(), Self::Error> {
        let this = self.get_mut();
        let finished = matches!(item, PgWireBackendMessage::CommandComplete(_));
        Pin::new(&mut *this.inner).start_send(item)?;
        if finished {
            this.queue.extend(take(this.engine));
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut *this.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        match this.drain(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut *this.inner).poll_close(cx),
            other => other,
        }
    }
}

impl<C: ClientPortalStore> ClientPortalStore for Noticed<'_, C> {
    type PortalStore = C::PortalStore;

    fn portal_store(&self) -> &Self::PortalStore {
        self.inner.portal_store()
    }
}

impl<C: ClientInfo> ClientInfo for Noticed<'_, C> {
    fn socket_addr(&self) -> SocketAddr {
        self.inner.socket_addr()
    }

    fn is_secure(&self) -> bool {
        self.inner.is_secure()
    }

    fn protocol_version(&self) -> ProtocolVersion {
        self.inner.protocol_version()
    }

    fn set_protocol_version(&mut self, version: ProtocolVersion) {
        self.inner.set_protocol_version(version)
    }

    fn pid_and_secret_key(&self) -> (i32, SecretKey) {
        self.inner.pid_and_secret_key()
    }

    fn set_pid_and_secret_key(&mut self, pid: i32, secret_key: SecretKey) {
        self.inner.set_pid_and_secret_key(pid, secret_key)
    }

    fn state(&self) -> PgWireConnectionState {
        self.inner.state()
    }

    fn set_state(&mut self, new_state: PgWireConnectionState) {
        self.inner.set_state(new_state)
    }

    fn transaction_status(&self) -> TransactionStatus {
        self.inner.transaction_status()
    }

    fn set_transaction_status(&mut self, new_status: TransactionStatus) {
        self.inner.set_transaction_status(new_status)
    }

    fn metadata(&self) -> &HashMap<String, String> {
        self.inner.metadata()
    }

    fn metadata_mut(&mut self) -> &mut HashMap<String, String> {
        self.inner.metadata_mut()
    }

    fn session_extensions(&self) -> &SessionExtensions {
        self.inner.session_extensions()
    }

    fn sni_server_name(&self) -> Option<&str> {
        self.inner.sni_server_name()
    }

    fn client_certificates<'a>(&self) -> Option<&[CertificateDer<'a>]> {
        self.inner.client_certificates()
    }
}
