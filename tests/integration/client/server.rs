//! A scripted HTTP server for client tests: records every request with a server-side
//! timestamp and answers with whatever the test's handler returns. Binds 127.0.0.1:0 and
//! shuts down when dropped.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stripe_sql::stripe::{ApiKey, Client, ClientConfig};

/// The key every client test uses (fake; never sent anywhere but 127.0.0.1).
pub const TEST_KEY: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dcSECRET";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub headers: http::HeaderMap,
    pub at: Instant,
}

impl Recorded {
    /// First query-string value of `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the server answers.
pub struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            content_type: "application/json",
            headers: vec![],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    pub fn html(status: u16, body: &str) -> Self {
        Reply { status, content_type: "text/html", headers: vec![], body: body.to_owned(), delay: Duration::ZERO }
    }
    /// Answers only after `delay` (without blocking the server).
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    handler: Handler,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

/// A running server; dropping it stops it.
pub struct TestServer {
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server whose answers come from `handler(request, index_of_request)`.
    pub async fn start(handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Shared { handler: Arc::new(handler), requests: Arc::default() };
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        TestServer { base, requests: shared.requests, shutdown: Some(tx) }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// A client for this server: test key, fast retries, no rate limit unless `tweak` sets one.
    pub fn client(&self, tweak: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut cfg = ClientConfig::new(ApiKey::parse(TEST_KEY).unwrap());
        cfg.api_base = self.base.clone();
        cfg.max_rps = 0.0;
        cfg.endpoint_rps = 0.0;
        cfg.retry_base_delay = Duration::from_millis(5);
        cfg.retry_max_delay = Duration::from_millis(20);
        cfg.request_timeout = Duration::from_secs(10);
        tweak(&mut cfg);
        Client::new(cfg).unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

async fn handle(State(shared): State<Shared>, req: Request) -> Response {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: pairs(parts.uri.query().unwrap_or("")),
        form: pairs(&String::from_utf8_lossy(&body)),
        headers: parts.headers,
        at,
    };
    let index = {
        let mut all = shared.requests.lock().unwrap();
        all.push(recorded.clone());
        all.len() - 1
    };
    let reply = (shared.handler)(&recorded, index);
    tokio::time::sleep(reply.delay).await;
    let mut resp = Response::builder().status(reply.status).header("content-type", reply.content_type);
    for (k, v) in &reply.headers {
        resp = resp.header(k, v);
    }
    resp.body(Body::from(reply.body)).unwrap()
}

/// A Stripe-shaped error body.
pub fn stripe_error(kind: &str, message: &str) -> Value {
    serde_json::json!({"error": {"type": kind, "message": message}})
}
