//! Starts the third-party fakes installed by `tests/peers/install.sh` on
//! 127.0.0.1 (a free port each) and stops them on drop: localstripe (PyPI) and
//! stripe-stateful-mock (npm). A missing install is a failure naming install.sh.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stripe_sql::engine::Engine;
use stripe_sql::stripe::{ApiKey, Client, ClientConfig};

/// A running peer process; killed on drop.
pub struct Peer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn peers_dir() -> String {
    std::env::var("STRIPE_SQL_PEERS").unwrap_or_else(|_| {
        format!("{}/.cache/stripe-sql-peers", std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn ready(mut child: Child, port: u16, name: &str) -> Peer {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{name} exited ({status}) before listening; run tests/peers/install.sh");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name} did not listen on 127.0.0.1:{port} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Peer { child, base: format!("http://127.0.0.1:{port}") }
}

/// localstripe 1.15.10, in memory (no pickle file), bound to 127.0.0.1.
pub async fn localstripe() -> Peer {
    let python = format!("{}/venv/bin/python", peers_dir());
    assert!(
        std::path::Path::new(&python).exists(),
        "localstripe is not installed ({python} missing): run tests/peers/install.sh"
    );
    let port = free_port();
    let script = format!(
        "from aiohttp import web; from localstripe import server, resources; \
         resources.Store.dump_to_disk=lambda self: None; \
         web.run_app(server.app, host='127.0.0.1', port={port}, access_log=None, print=None)"
    );
    let child = Command::new(&python)
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start localstripe with {python}: {e}; run tests/peers/install.sh"));
    ready(child, port, "localstripe").await
}

/// stripe-stateful-mock 0.0.16 (node), bound to 127.0.0.1.
pub async fn stateful_mock() -> Peer {
    let dir = format!("{}/node", peers_dir());
    let module = format!("{dir}/node_modules/stripe-stateful-mock");
    assert!(
        std::path::Path::new(&module).exists(),
        "stripe-stateful-mock is not installed ({module} missing): run tests/peers/install.sh"
    );
    let port = free_port();
    let script = format!("require('stripe-stateful-mock').createExpressApp().listen({port}, '127.0.0.1')");
    let child = Command::new("node")
        .args(["-e", &script])
        .current_dir(&dir)
        .env("LOG_LEVEL", "silent")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start node for stripe-stateful-mock: {e}; run tests/peers/install.sh"));
    ready(child, port, "stripe-stateful-mock").await
}

/// An engine over `peer` with a test key, no client-side rate limit and fast retries.
pub fn engine(peer: &Peer, max_retries: u32) -> Engine {
    let mut config = ClientConfig::new(ApiKey::parse("sk_test_reliabilitypeer").unwrap());
    config.api_base = peer.base.clone();
    config.max_rps = 0.0;
    config.endpoint_rps = 0.0;
    config.max_retries = max_retries;
    config.retry_base_delay = Duration::from_millis(20);
    config.retry_max_delay = Duration::from_millis(100);
    Engine::new(Client::new(config).unwrap()).unwrap()
}
