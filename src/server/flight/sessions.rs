//! Flight SQL sessions: one engine session per client connection (a gRPC
//! channel is one HTTP/2 connection), so `SET stripe.*` stays with the
//! connection that said it, as on the Postgres port. The session is freed
//! when its connection closes (`connections::Tracked`), it takes one of the
//! server's `--max-connections` slots, and it holds the connection's
//! prepared statements and running queries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::LogicalPlan;
use datafusion::scalar::ScalarValue;
use tonic::Status;

use super::connections::{Active, Activity};
use crate::server::connection::{ConnectionSlots, Slot};

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
    /// Its running and cancelled queries.
    pub running: Arc<super::cancel::Running>,
    /// The tables it made for itself, charged to the server's memory pool.
    pub tables: crate::server::session_tables::SessionTables,
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

/// A call of one connection: its session, the call counted as running
/// (`connections::Active`) until this drops.
pub struct Call {
    session: Arc<FlightSession>,
    _active: Active,
}

impl std::ops::Deref for Call {
    type Target = FlightSession;

    fn deref(&self) -> &FlightSession {
        &self.session
    }
}

/// One open connection: when it last had a call running, and its session
/// once it made a call that needs one.
struct Connection {
    activity: Arc<Activity>,
    session: Option<(Arc<FlightSession>, Slot)>,
}

/// How each new session starts, from the server's options (as on the Postgres port).
#[derive(Debug, Clone, Default)]
pub struct SessionSetup {
    /// Allow writes with a live key.
    pub allow_live_writes: bool,
    /// Read mirrored tables from here (`--mirror DIR`, `stripe.source`).
    pub mirror: Option<std::path::PathBuf>,
    /// `stripe.accounts` to start with (`--accounts`).
    pub accounts: Option<String>,
}

/// The sessions of every open connection.
pub struct Sessions {
    client: stripe::Client,
    runtime: Arc<RuntimeEnv>,
    setup: SessionSetup,
    slots: Arc<ConnectionSlots>,
    by_peer: Mutex<HashMap<SocketAddr, Connection>>,
}

impl Sessions {
    /// No sessions yet; each will fetch through `client`, draw on `runtime`
    /// and take one of `slots` (shared with the Postgres port: `--max-connections`),
    /// set up as `setup` says.
    pub fn new(
        client: stripe::Client,
        runtime: Arc<RuntimeEnv>,
        setup: SessionSetup,
        slots: Arc<ConnectionSlots>,
    ) -> Arc<Self> {
        Arc::new(Self { client, runtime, setup, slots, by_peer: Mutex::new(HashMap::new()) })
    }

    /// A call of the connection from `peer`, whose session is made on its
    /// first call; refused with 53300 when every connection slot is taken.
    pub fn get(&self, peer: Option<SocketAddr>) -> Result<Call, Status> {
        let peer = peer.ok_or_else(|| Status::internal("the connection has no peer address"))?;
        let mut connections = self.by_peer.lock().expect("sessions lock");
        let connection =
            connections.entry(peer).or_insert_with(|| Connection { activity: Arc::default(), session: None });
        let active = connection.activity.start();
        if let Some((session, _)) = &connection.session {
            return Ok(Call { session: Arc::clone(session), _active: active });
        }
        let slot = self.slots.take().ok_or_else(|| {
            Status::resource_exhausted(
                "sorry, too many clients already (SQLSTATE 53300): the server's --max-connections are in use",
            )
        })?;
        tracing::debug!("new Flight SQL session for the connection from {peer}");
        let own_log = stripe::RequestLog::with_capacity(self.client.request_log().capacity());
        let engine = Engine::with_runtime(self.client.with_request_log(own_log), Arc::clone(&self.runtime))
            .map_err(|e| Status::internal(format!("could not set up a session: {e}")))?;
        engine.set_allow_live_writes(self.setup.allow_live_writes);
        if let Some(dir) = &self.setup.mirror {
            engine.set_mirror(dir.clone());
        }
        if let Some(accounts) = &self.setup.accounts {
            engine.set_accounts(accounts).map_err(|e| Status::invalid_argument(e.to_string()))?;
        }
        let tables = crate::server::session_tables::SessionTables::new(engine.context());
        let session = Arc::new(FlightSession {
            engine: Arc::new(engine),
            running: Arc::default(),
            tables,
            prepared: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_handle: AtomicU64::new(0),
        });
        connection.session = Some((Arc::clone(&session), slot));
        Ok(Call { session, _active: active })
    }

    /// Sessions open now.
    pub fn open(&self) -> usize {
        self.by_peer.lock().expect("sessions lock").values().filter(|c| c.session.is_some()).count()
    }

    /// Notes a new connection from `peer`; its activity decides when it is idle.
    pub(super) fn register(&self, peer: SocketAddr) -> Arc<Activity> {
        let activity = Arc::new(Activity::default());
        let connection = Connection { activity: Arc::clone(&activity), session: None };
        self.by_peer.lock().expect("sessions lock").insert(peer, connection);
        activity
    }

    /// Frees the session (and the connection slot) of the connection from `peer`.
    pub(super) fn close(&self, peer: SocketAddr) {
        self.by_peer.lock().expect("sessions lock").remove(&peer);
    }
}
