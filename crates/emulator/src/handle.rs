//! The in-process emulator handle: start on 127.0.0.1, base URL, counts, fault
//! controls, shutdown (also on drop). The server runs on its own thread and runtime,
//! so it works from sync and async callers alike.

use super::config::{DataSet, EmulatorConfig};
use super::faults::Faults;
use super::idempotency;
use super::rng::Rng;
use super::server::{self, Inner, Shared, lock};
use super::store::State;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("addr", &self.addr).finish()
    }
}

/// A key the emulator accepts (any well-formed `sk_test_` key works).
pub const TEST_API_KEY: &str = "sk_test_emulator0000000000000000";

impl Emulator {
    /// Builds the initial state and serves it on `config.listen` (default 127.0.0.1:0).
    pub fn start(config: EmulatorConfig) -> crate::Result<Emulator> {
        let mut state = State::new(config.seed);
        if config.data == DataSet::Demo {
            super::demo::generate(&mut state, config.seed, config.scale.max(1));
        }
        let listen = config.listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = std::net::TcpListener::bind(listen)
            .map_err(|e| crate::Error::Config(format!("cannot bind the emulator to {listen}: {e}")))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner { state, idem: idempotency::Store::default() }),
            faults: Mutex::new(Faults::new(&config)),
            request_ids: Mutex::new(Rng::new(config.seed ^ 0x0EE1)),
            shutdown: stop_rx.clone(),
            served: Default::default(),
            accounts: super::connect::Accounts::new(&config),
        });
        let app = server::app(shared.clone());
        let thread = std::thread::Builder::new().name("stripe-emulator".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                // Named so that a benchmark can tell the emulator's CPU time from its caller's.
                .thread_name("emulator-worker")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("emulator runtime failed to start: {e}");
                    return;
                }
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let mut rx = stop_rx.clone();
                let signal = async move {
                    let _ = rx.wait_for(|v| *v).await;
                };
                let serve = axum::serve(listener, app).with_graceful_shutdown(signal);
                let mut rx2 = stop_rx;
                let deadline = async move {
                    let _ = rx2.wait_for(|v| *v).await;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                };
                tokio::select! {
                    _ = serve => {}
                    _ = deadline => {}
                }
            });
        })?;
        Ok(Emulator { addr, shared, stop, thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash; API paths start with `/v1/`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A test key the emulator accepts.
    pub fn api_key(&self) -> &'static str {
        TEST_API_KEY
    }

    /// Number of stored objects of a resource (`"customers"`, `"events"`, ...).
    pub fn count(&self, resource: &str) -> usize {
        lock(&self.shared.inner).state.count(resource)
    }

    /// Freezes the clock that stamps `created` on new objects and events at
    /// `unix_seconds` (`None`: the real clock again). Lets tests create many
    /// objects in one second, or in a chosen second, deterministically.
    pub fn set_clock(&self, unix_seconds: Option<i64>) {
        lock(&self.shared.inner).state.fixed_now = unix_seconds;
    }

    /// [`Emulator::set_clock`] for connected account `account`, whose data has a
    /// clock of its own (nothing when it is unknown).
    pub fn set_clock_in(&self, account: &str, unix_seconds: Option<i64>) {
        if let Some(c) = self.shared.accounts.get(account) {
            lock(c.inner()).state.fixed_now = unix_seconds;
        }
    }

    /// Stores ready-made objects of `resource` as they are (each needs a string
    /// `id` and an integer `created`), without events or side effects: for
    /// benchmarks and tests that need many objects fast.
    pub fn insert_objects(&self, resource: &str, objects: impl IntoIterator<Item = serde_json::Value>) {
        let mut inner = lock(&self.shared.inner);
        for object in objects {
            let created = object.get("created").and_then(serde_json::Value::as_i64).unwrap_or(0);
            inner.state.insert(resource, created, object);
        }
    }

    /// Changes one stored object with `change` and emits no event: the drift
    /// Stripe sometimes shows (a change no event reports). False when no such object.
    pub fn mutate_silently(
        &self,
        resource: &str,
        id: &str,
        change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> bool {
        let mut inner = lock(&self.shared.inner);
        match inner.state.get_mut(resource, id) {
            Some(object) => {
                change(object);
                true
            }
            None => false,
        }
    }

    /// Holds back the next `n` events: each keeps its `created` second but is not
    /// listable until [`Emulator::release_events`] (an event that becomes
    /// listable late, as Stripe's sometimes do).
    pub fn hold_next_events(&self, n: usize) {
        lock(&self.shared.inner).state.hold_next_events = n;
    }

    /// Makes the held events listable (each at its own `created` second).
    /// Returns how many were released.
    pub fn release_events(&self) -> usize {
        let mut inner = lock(&self.shared.inner);
        let held = std::mem::take(&mut inner.state.held_events);
        let n = held.len();
        for (created, event) in held {
            inner.state.insert("events", created, event);
        }
        n
    }

    /// The connected accounts' ids, newest first (as `GET /v1/accounts` lists them).
    pub fn connected_accounts(&self) -> Vec<String> {
        self.shared.accounts.ids()
    }

    /// Stored objects of `resource` in connected account `account`.
    pub fn count_in(&self, account: &str, resource: &str) -> usize {
        self.shared.accounts.count(account, resource)
    }

    /// Requests received as connected account `account` (answered or refused).
    pub fn requests_as(&self, account: &str) -> u64 {
        self.shared.accounts.received(account)
    }

    /// Revokes the platform's access to connected account `account` after it
    /// answered `requests` more requests (0: at once); later requests as that
    /// account get Stripe's 403 (`account_invalid`).
    pub fn revoke_account_after(&self, account: &str, requests: u64) {
        self.shared.accounts.revoke_after(account, requests);
    }

    /// [`Emulator::insert_objects`] into connected account `account` (nothing
    /// when it is unknown).
    pub fn insert_objects_in(
        &self,
        account: &str,
        resource: &str,
        objects: impl IntoIterator<Item = serde_json::Value>,
    ) {
        if let Some(c) = self.shared.accounts.get(account) {
            let mut inner = lock(c.inner());
            for object in objects {
                let created = object.get("created").and_then(serde_json::Value::as_i64).unwrap_or(0);
                inner.state.insert(resource, created, object);
            }
        }
    }

    /// Requests received so far (including rejected ones).
    pub fn requests_received(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
    }

    /// Fails the next `n` requests with `status` (429 is shaped as a rate limit).
    pub fn fail_next(&self, n: u32, status: u16) {
        lock(&self.shared.faults).fail_next(n, status, None);
    }

    /// Fails the next `n` requests whose path starts with `path_prefix`.
    pub fn fail_next_on(&self, n: u32, status: u16, path_prefix: &str) {
        lock(&self.shared.faults).fail_next(n, status, Some(path_prefix.to_string()));
    }

    /// Drops the connection on the next `n` writes, after committing them.
    pub fn drop_next_writes(&self, n: u32) {
        lock(&self.shared.faults).drop_next_writes(n);
    }

    /// Sends only half of the next `n` JSON bodies.
    pub fn truncate_next(&self, n: u32) {
        lock(&self.shared.faults).truncate_next(n);
    }

    /// Drops the connection of the next `n` requests before handling them (a write
    /// is not committed; the client sees a connection failure).
    pub fn drop_next_before(&self, n: u32) {
        lock(&self.shared.faults).drop_next_before(n);
    }

    /// Sends half of the next `n` bodies, then stops answering (released at shutdown).
    pub fn stall_next(&self, n: u32) {
        lock(&self.shared.faults).stall_next(n);
    }

    /// Never answers the next `n` requests (released at shutdown).
    pub fn hang_next(&self, n: u32) {
        lock(&self.shared.faults).hang_next(n);
    }

    /// Sets the latency added to every response.
    pub fn set_latency(&self, fixed: Duration, jitter: Duration) {
        lock(&self.shared.faults).set_latency(fixed, jitter);
    }

    /// Sets per-endpoint and global rate limits in requests/second (0 = unlimited).
    pub fn set_rate_limits(&self, endpoint_rps: f64, global_rps: f64) {
        lock(&self.shared.faults).set_rate_limits(endpoint_rps, global_rps);
    }

    /// Sets the random 500 rate and the random drop-after-commit rate (0..1).
    pub fn set_fail_rates(&self, fail_rate: f64, drop_after_commit_rate: f64) {
        lock(&self.shared.faults).set_rates(fail_rate, drop_after_commit_rate);
    }

    /// Stops serving and waits for the server thread.
    pub fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}
