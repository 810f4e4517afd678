//! One client socket from accept to close: TLS negotiation, the startup
//! deadline, the connection limit, the idle-session timeout and the message
//! loop that hands each message to the connection's pgwire handlers.
//!
//! pgwire's own `process_socket` runs the same loop but has neither a
//! connection limit nor an idle timeout, so the loop lives here, over
//! pgwire's public steps (`negotiate_tls`, `process_message`, `process_error`).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use datafusion_postgres::pgwire;
use futures::{SinkExt, StreamExt};
use pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use pgwire::api::{ClientInfo, NoopHandler, PgWireConnectionState};
use pgwire::error::ErrorInfo;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, sleep_until};

use crate::server::handlers::ConnectionHandlers;
use crate::server::session::Session;

/// The prepared-statement type of a session, which the message codec carries.
type Statement = <Session as pgwire::api::query::ExtendedQueryHandler>::Statement;

/// SQLSTATE `too_many_connections`.
pub const TOO_MANY_CONNECTIONS: &str = "53300";
/// SQLSTATE `idle_session_timeout`.
pub const IDLE_SESSION_TIMEOUT: &str = "57P05";
/// A client must finish its startup (TLS, authentication) within this time.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// Counts the open client sessions against `--max-connections`.
#[derive(Debug)]
pub struct ConnectionSlots {
    max: usize,
    open: AtomicUsize,
}

impl ConnectionSlots {
    /// Room for `max` sessions at once.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max, open: AtomicUsize::new(0) })
    }

    /// Takes a slot, or `None` when all `max` are taken.
    pub fn take(self: &Arc<Self>) -> Option<Slot> {
        let mut open = self.open.load(Ordering::Relaxed);
        loop {
            if open >= self.max {
                return None;
            }
            match self.open.compare_exchange_weak(open, open + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(Slot(Arc::clone(self))),
                Err(now) => open = now,
            }
        }
    }

    /// Sessions open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// One taken connection slot, given back when dropped.
#[derive(Debug)]
pub struct Slot(Arc<ConnectionSlots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What a connection is allowed.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Close a session that sends nothing for this long between statements (zero: never).
    pub idle_timeout: Duration,
}

/// Answers a client while the server is full: its startup message gets
/// `53300`; a cancel request (a connection of its own that ends at once) is
/// still served, as Postgres does.
pub async fn refuse(socket: TcpStream, tls: Option<TlsAcceptor>, cancel: Arc<DefaultCancelHandler>) -> io::Result<()> {
    let first = async {
        let Some(mut socket) = negotiate_tls::<Statement>(socket, tls).await? else { return Ok(()) };
        match socket.next().await {
            Some(Ok(PgWireFrontendMessage::CancelRequest(request))) => cancel.on_cancel_request(request).await,
            Some(Ok(PgWireFrontendMessage::Startup(_))) => {
                fatal(&mut socket, TOO_MANY_CONNECTIONS, "sorry, too many clients already").await?
            }
            _ => {}
        }
        Ok(())
    };
    tokio::time::timeout(STARTUP_DEADLINE, first).await.unwrap_or(Ok(()))
}

/// Serves one socket until the client leaves, the session idles out or a
/// fatal error.
pub async fn serve(
    socket: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: ConnectionHandlers,
    limits: &ConnectionLimits,
) -> io::Result<()> {
    let startup_deadline = sleep(STARTUP_DEADLINE);
    tokio::pin!(startup_deadline);
    let negotiated = tokio::select! {
        _ = &mut startup_deadline => return Ok(()),
        socket = negotiate_tls::<Statement>(socket, tls) => socket?,
    };
    let Some(mut socket) = negotiated else { return Ok(()) };
    let ConnectionHandlers { session, startup, cancel } = handlers;
    let copy = Arc::new(NoopHandler);
    let mut last_activity = Instant::now();
    loop {
        let starting = matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup | PgWireConnectionState::AuthenticationInProgress
        );
        let message = if starting {
            tokio::select! {
                _ = &mut startup_deadline => None,
                message = socket.next() => message,
            }
        } else if limits.idle_timeout.is_zero() || !idle_between_statements(socket.state()) {
            socket.next().await
        } else {
            tokio::select! {
                _ = sleep_until(last_activity + limits.idle_timeout) => {
                    let _ = fatal(&mut socket, IDLE_SESSION_TIMEOUT, "terminating connection due to idle-session timeout").await;
                    return Ok(());
                }
                message = socket.next() => message,
            }
        };
        let Some(Ok(message)) = message else { break };
        if matches!(message, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let extended_query = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => message.is_extended_query(),
        };
        let result = process_message(
            message,
            &mut socket,
            Arc::clone(&startup),
            Arc::clone(&session),
            Arc::clone(&session),
            Arc::clone(&copy),
            Arc::clone(&cancel),
        )
        .await;
        if let Err(e) = result {
            tracing::debug!("sending error to client: {e}");
            process_error(&mut socket, e, extended_query).await?;
        }
        last_activity = Instant::now();
    }
    Ok(())
}

/// Whether the session waits for its next statement (not inside a COPY or a
/// half-sent extended-protocol exchange, which the client is in the middle of).
fn idle_between_statements(state: PgWireConnectionState) -> bool {
    matches!(state, PgWireConnectionState::ReadyForQuery)
}

/// Sends a `FATAL` error with `code` and closes the socket.
async fn fatal<S, C>(socket: &mut S, code: &str, message: &str) -> io::Result<()>
where
    S: futures::Sink<PgWireBackendMessage, Error = C> + Unpin,
    io::Error: From<C>,
{
    let info = ErrorInfo::new("FATAL".to_owned(), code.to_owned(), message.to_owned());
    socket.send(PgWireBackendMessage::ErrorResponse(info.into())).await?;
    socket.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let slots = ConnectionSlots::new(2);
        let a = slots.take().unwrap();
        let b = slots.take().unwrap();
        assert!(slots.take().is_none(), "a third session is refused");
        assert_eq!(slots.open(), 2);
        drop(a);
        assert_eq!(slots.open(), 1);
        let c = slots.take();
        assert!(c.is_some());
        drop((b, c));
        assert_eq!(slots.open(), 0);
    }
}
