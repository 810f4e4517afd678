//! The customer and product subset against localstripe (a third-party fake,
//! started here on 127.0.0.1; install it with tests/peers/install.sh).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stripe_sql::engine::Engine;
use stripe_sql::stripe::{ApiKey, Client, ClientConfig};

use super::support::{count, strings};

/// localstripe's process; killed on drop.
struct Localstripe {
    child: Child,
    base: String,
}

impl Drop for Localstripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start() -> Localstripe {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let peers = std::env::var("STRIPE_SQL_PEERS").unwrap_or_else(|_| format!("{home}/.cache/stripe-sql-peers"));
    let python = format!("{peers}/venv/bin/python");
    assert!(std::path::Path::new(&python).exists(), "localstripe missing ({python}): run tests/peers/install.sh");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
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
        .expect("localstripe starts");
    let peer = Localstripe { child, base: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "localstripe did not start on {}", peer.base);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peer
}

#[tokio::test]
async fn customers_and_products_round_trip_through_localstripe() {
    let peer = start().await;
    let mut config = ClientConfig::new(ApiKey::parse("sk_test_dmlpeer").unwrap());
    config.api_base = peer.base.clone();
    config.max_rps = 0.0;
    config.endpoint_rps = 0.0;
    let engine = Engine::new(Client::new(config).unwrap()).unwrap();

    assert_eq!(count(&engine, "INSERT INTO customers (email, name) VALUES ('p1@example.com', 'P1'), ('p2@example.com', 'P2')").await, 2);
    assert_eq!(count(&engine, "UPDATE customers SET name = name || ' (vip)' WHERE email = 'p1@example.com'").await, 1);
    let names = strings(&engine, "SELECT name FROM customers WHERE email = 'p1@example.com'").await;
    assert_eq!(names, ["P1 (vip)"]);
    assert_eq!(count(&engine, "DELETE FROM customers WHERE email = 'p2@example.com'").await, 1);
    let emails = strings(&engine, "SELECT email FROM customers ORDER BY email").await;
    assert_eq!(emails, ["p1@example.com"]);

    // localstripe has no Search API: filter product names locally instead.
    engine.sql("SET stripe.use_search = false").await.unwrap();
    assert_eq!(count(&engine, "INSERT INTO products (name, description) VALUES ('Peer product', 'first')").await, 1);
    assert_eq!(count(&engine, "UPDATE products SET description = 'second' WHERE name = 'Peer product'").await, 1);
    let descriptions = strings(&engine, "SELECT description FROM products WHERE name = 'Peer product'").await;
    assert_eq!(descriptions, ["second"]);
    assert_eq!(count(&engine, "DELETE FROM products WHERE name = 'Peer product'").await, 1);
    assert!(strings(&engine, "SELECT id FROM products").await.is_empty());
}
