//! Flight SQL sessions: one engine session per client connection (a gRPC
//! channel is one HTTP/2 connection), so `SET stripe.*` stays with the
//! connection that said it, as on the Postgres port. The session is freed
//! when its connection closes ([`Tracked`] carries the guard), and it holds
//! the connection's prepared statements.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};

use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::LogicalPlan;
use datafusion::scalar::ScalarValue;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::Status;
use tonic::transport::server::{Connected, TcpConnectInfo};

use stripe_sql::engine::Engine;
use stripe_sql::stripe;

/// A prepared statement of one connection: its plan with `$n` placeholders
/// and the parameter values the client last bound.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    /// The statement's SQL (after the engine's rewrite).
    pub sql: String,
    /// The plan, placeholders unbound.
    pub plan: LogicalPlan,
    /// The values bound by the last DoPut, `$1` first.
    pub params: Option<Vec<ScalarValue>>,
    /// For a SET, DDL or write already run by GetFlightInfo: the plan reading its result.
    pub ran: Option<LogicalPlan>,
}

/// One client connection's session.
pub struct FlightSession {
    /// The connection's own engine session (settings, request log).
    pub engine: Arc<Engine>,
    prepared: Mutex<HashMap<u64, PreparedStatement>>,
    pending: Mutex<HashMap<u64, (LogicalPlan, bool)>>,
    next_handle: AtomicU64,
}

/// Statements planned by GetFlightInfo and not yet fetched; past this many
/// the oldest are dropped (a DoGet for one of them plans it again).
const MAX_PENDING: usize = 64;

impl FlightSession {
    /// Keeps the plan of a statement GetFlightInfo planned until its DoGet,
    /// so the statement is planned (and marked for `stripe_last_requests()`)
    /// once; `ran` when it already ran and the plan reads its result.
    pub fn keep_planned(&self, plan: LogicalPlan, ran: bool) -> u64 {
        let id = self.next_handle.fetch_add(1, Ordering::Relaxed) + 1;
        let mut pending = self.pending.lock().expect("pending plans lock");
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending.keys().min().copied()
        {
            pending.remove(&oldest);
        }
        pending.insert(id, (plan, ran));
        id
    }

    /// The plan kept under `id` and whether it already ran, taken out.
    pub fn take_planned(&self, id: u64) -> Option<(LogicalPlan, bool)> {
        self.pending.lock().expect("pending plans lock").remove(&id)
    }

    /// Keeps `statement` and returns its handle.
    pub fn prepare(&self, statement: PreparedStatement) -> u64 {
        let handle = self.next_handle.fetch_add(1, Ordering::Relaxed) + 1;
        self.prepared.lock().expect("prepared statements lock").insert(handle, statement);
        handle
    }

    /// The prepared statement behind `handle`.
    pub fn prepared(&self, handle: &[u8]) -> Result<PreparedStatement, Status> {
        let id = parse_handle(handle)?;
        self.prepared
            .lock()
            .expect("prepared statements lock")
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found("no such prepared statement on this connection"))
    }

    /// Binds `params` to the prepared statement behind `handle`.
    pub fn bind(&self, handle: &[u8], params: Vec<ScalarValue>) -> Result<(), Status> {
        let id = parse_handle(handle)?;
        let mut prepared = self.prepared.lock().expect("prepared statements lock");
        let entry = prepared.get_mut(&id).ok_or_else(|| Status::not_found("no such prepared statement"))?;
        entry.params = Some(params);
        Ok(())
    }

    /// Records (`Some`) or takes out (`None`) the result plan of a prepared
    /// statement GetFlightInfo already ran.
    pub fn ran(&self, handle: &[u8], result: Option<LogicalPlan>) -> Result<Option<LogicalPlan>, Status> {
        let id = parse_handle(handle)?;
        let mut prepared = self.prepared.lock().expect("prepared statements lock");
        let entry = prepared.get_mut(&id).ok_or_else(|| Status::not_found("no such prepared statement"))?;
        Ok(match result {
            Some(plan) => entry.ran.replace(plan),
            None => entry.ran.take(),
        })
    }

    /// Forgets the prepared statement behind `handle`.
    pub fn close(&self, handle: &[u8]) -> Result<(), Status> {
        let id = parse_handle(handle)?;
        self.prepared.lock().expect("prepared statements lock").remove(&id);
        Ok(())
    }
}

/// The handle bytes of prepared statement `id`.
pub fn handle_bytes(id: u64) -> bytes::Bytes {
    bytes::Bytes::from(id.to_string())
}

fn parse_handle(handle: &[u8]) -> Result<u64, Status> {
    std::str::from_utf8(handle)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Status::invalid_argument("not a prepared statement handle of this server"))
}

/// The sessions of every open connection.
pub struct Sessions {
    client: stripe::Client,
    runtime: Arc<RuntimeEnv>,
    allow_live_writes: bool,
    mirror: Option<std::path::PathBuf>,
    by_peer: Mutex<HashMap<SocketAddr, Arc<FlightSession>>>,
}

impl Sessions {
    /// No sessions yet; each will fetch through `client`, draw on `runtime`
    /// and, given `mirror`, read mirrored tables from it (`stripe.source`).
    pub fn new(
        client: stripe::Client,
        runtime: Arc<RuntimeEnv>,
        allow_live_writes: bool,
        mirror: Option<std::path::PathBuf>,
    ) -> Arc<Self> {
        Arc::new(Self { client, runtime, allow_live_writes, mirror, by_peer: Mutex::new(HashMap::new()) })
    }

    /// The session of the connection from `peer`, made on its first call.
    pub fn get(&self, peer: Option<SocketAddr>) -> Result<Arc<FlightSession>, Status> {
        let peer = peer.ok_or_else(|| Status::internal("the connection has no peer address"))?;
        let mut sessions = self.by_peer.lock().expect("sessions lock");
        if let Some(session) = sessions.get(&peer) {
            return Ok(Arc::clone(session));
        }
        tracing::debug!("new Flight SQL session for the connection from {peer}");
        let own_log = stripe::RequestLog::with_capacity(self.client.request_log().capacity());
        let engine = Engine::with_runtime(self.client.with_request_log(own_log), Arc::clone(&self.runtime))
            .map_err(|e| Status::internal(format!("could not set up a session: {e}")))?;
        engine.set_allow_live_writes(self.allow_live_writes);
        if let Some(dir) = &self.mirror {
            engine.set_mirror(dir.clone());
        }
        let session = Arc::new(FlightSession {
            engine: Arc::new(engine),
            prepared: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_handle: AtomicU64::new(0),
        });
        sessions.insert(peer, Arc::clone(&session));
        Ok(session)
    }

    /// Sessions open now.
    pub fn open(&self) -> usize {
        self.by_peer.lock().expect("sessions lock").len()
    }

    fn close(&self, peer: SocketAddr) {
        self.by_peer.lock().expect("sessions lock").remove(&peer);
    }
}

/// An accepted connection that frees its session when it closes.
pub struct Tracked {
    inner: TcpStream,
    _guard: CloseGuard,
}

impl Tracked {
    /// Tracks `socket` from `peer` in `sessions`.
    pub fn new(inner: TcpStream, peer: SocketAddr, sessions: &Arc<Sessions>) -> Self {
        Self { inner, _guard: CloseGuard { sessions: Arc::downgrade(sessions), peer } }
    }
}

struct CloseGuard {
    sessions: Weak<Sessions>,
    peer: SocketAddr,
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        if let Some(sessions) = self.sessions.upgrade() {
            sessions.close(self.peer);
        }
    }
}

impl Connected for Tracked {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for Tracked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
