//! The HTTP front: one axum fallback handler that runs every request through
//! request id, latency, auth, rate limits and injected failures, idempotency, the
//! router, and the post-commit faults (dropped connection, truncated body).

use super::auth;
use super::errors::ApiError;
use super::events::API_VERSION;
use super::faults::Faults;
use super::form;
use super::idempotency::{self, Saved};
use super::params::Params;
use super::rng::Rng;
use super::router::{self, is_write};
use super::store::State;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// State and idempotency answers, changed together under one lock.
#[derive(Debug)]
pub struct Inner {
    /// The fake account.
    pub state: State,
    /// Saved idempotent answers.
    pub idem: idempotency::Store,
}

/// Everything the handler shares.
#[derive(Debug)]
pub struct Shared {
    /// Account state.
    pub inner: Mutex<Inner>,
    /// Fault settings.
    pub faults: Mutex<Faults>,
    /// Request id source.
    pub request_ids: Mutex<Rng>,
    /// Flips to true on shutdown (releases hung requests).
    pub shutdown: watch::Receiver<bool>,
    /// Requests received.
    pub served: AtomicU64,
    /// Connected accounts (Connect).
    pub accounts: super::connect::Accounts,
}

/// Locks a mutex, ignoring poisoning (a panicking request must not wedge the server).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A response whose body fails at once: the client sees the connection drop.
fn dropped_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the emulator"))
    });
    Response::new(Body::from_stream(stream))
}

/// The axum application.
pub fn app(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

fn json_response(status: u16, body: Vec<u8>, request_id: &str) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("request-id", v);
    }
    h.insert("stripe-version", HeaderValue::from_static(API_VERSION));
    r
}

fn error_response(e: &ApiError, request_id: &str) -> Response {
    json_response(e.status, serde_json::to_vec(&e.body(request_id)).unwrap_or_default(), request_id)
}

fn parse_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Params, ApiError> {
    let mut m = form::parse(uri.query().unwrap_or("")).map_err(ApiError::invalid)?;
    if !body.is_empty() {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let extra: Map<String, Value> = if ct.starts_with("application/json") {
            match serde_json::from_slice(body) {
                Ok(Value::Object(o)) => o,
                _ => return Err(ApiError::invalid("Invalid JSON body: expected an object")),
            }
        } else {
            let text = std::str::from_utf8(body).map_err(|_| ApiError::invalid("Invalid request body: not UTF-8"))?;
            form::parse(text).map_err(ApiError::invalid)?
        };
        m.extend(extra);
    }
    Ok(Params(m))
}

async fn handle(
    axum::extract::State(sh): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sh.served.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("req_{}", lock(&sh.request_ids).base62(14));
    let path = uri.path().to_string();
    let method = method.as_str().to_string();
    let connected = headers.get("stripe-account").map(|v| v.to_str().unwrap_or("").to_string());
    let target = connected.as_deref().and_then(|id| sh.accounts.get(id));
    let faults = target.map_or(&sh.faults, |c| &c.faults);
    let before = lock(faults).before(&method, &path);
    if !before.delay.is_zero() {
        tokio::time::sleep(before.delay).await;
    }
    if before.drop {
        return dropped_response();
    }
    if before.hang {
        let mut rx = sh.shutdown.clone();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(600), rx.wait_for(|v| *v)).await;
        return error_response(&ApiError::server(503), &request_id);
    }
    let auth_header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let account = match auth::check(auth_header) {
        Ok(k) => k,
        Err(e) => return error_response(&e, &request_id),
    };
    if let Some(e) = before.reject {
        return error_response(&e, &request_id);
    }
    if let Err(e) = auth::may_read(&account, &path) {
        return error_response(&e, &request_id);
    }
    let store = match connected.as_deref() {
        Some(id) => match sh.accounts.admit(id, &account) {
            Ok(c) => c.inner(),
            Err(e) => return error_response(&e, &request_id),
        },
        None if method == "GET" && path == "/v1/accounts" => {
            return match parse_params(&uri, &headers, &body).and_then(|p| sh.accounts.list(&p)) {
                Ok(v) => json_response(200, serde_json::to_vec(&v).unwrap_or_default(), &request_id),
                Err(e) => error_response(&e, &request_id),
            };
        }
        None => &sh.inner,
    };
    let params = match parse_params(&uri, &headers, &body) {
        Ok(p) => p,
        Err(e) => return error_response(&e, &request_id),
    };
    let write = is_write(&method);
    let idem_key = if method == "POST" {
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from)
    } else {
        None
    };
    let endpoint = format!("{method} {path}");
    let (status, bytes, replay_of) = {
        let mut inner = lock(store);
        let fp =
            if idem_key.is_some() { idempotency::fingerprint(&Value::Object(params.0.clone())) } else { String::new() };
        let mut replay = None;
        if let Some(k) = &idem_key {
            match inner.idem.lookup(&account, k, &endpoint, &fp) {
                Ok(Some(saved)) => replay = Some(saved.clone()),
                Ok(None) => {}
                Err(e) => return error_response(&e, &request_id),
            }
        }
        match replay {
            Some(s) => (s.status, s.body, Some(s.request_id)),
            None if !write && let Some(fast) = router::list_fast(&inner.state, &method, &path, &params) => match fast {
                Ok(text) => (200u16, text.into_bytes(), None),
                Err(e) => (e.status, serde_json::to_vec(&e.body(&request_id)).unwrap_or_default(), None),
            },
            None => {
                inner.state.current_request = Some((request_id.clone(), idem_key.clone()));
                let result = router::route(&mut inner.state, &method, &path, params);
                inner.state.current_request = None;
                let (status, json) = match result {
                    Ok(v) => (200u16, v),
                    Err(e) => (e.status, e.body(&request_id)),
                };
                let bytes = serde_json::to_vec(&json).unwrap_or_default();
                if let Some(k) = &idem_key
                    && (status < 400 || status == 402)
                {
                    let now = inner.state.now();
                    inner.idem.save(
                        &account,
                        k,
                        Saved {
                            endpoint,
                            fingerprint: fp,
                            status,
                            body: bytes.clone(),
                            request_id: request_id.clone(),
                        },
                        now,
                    );
                }
                (status, bytes, None)
            }
        }
    };
    let after = lock(faults).after(write);
    if after.drop {
        // The write is committed; the client never sees the answer.
        return dropped_response();
    }
    if after.stall {
        // Half the body, then silence until shutdown: a server that stops mid-response.
        let half = Bytes::from(bytes[..bytes.len() / 2].to_vec());
        let mut rx = sh.shutdown.clone();
        let rest = futures::stream::once(async move {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(600), rx.wait_for(|v| *v)).await;
            Err::<Bytes, std::io::Error>(std::io::Error::other("emulator stalled"))
        });
        let body = futures::StreamExt::chain(futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]), rest);
        let mut r = json_response(status, vec![], &request_id);
        *r.body_mut() = Body::from_stream(body);
        return r;
    }
    let bytes = if after.truncate { bytes[..bytes.len() / 2].to_vec() } else { bytes };
    let mut r = json_response(status, bytes, &request_id);
    if let Some(k) = &idem_key
        && let Ok(v) = HeaderValue::from_str(k)
    {
        r.headers_mut().insert("idempotency-key", v);
    }
    if let Some(orig) = replay_of {
        r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        if let Ok(v) = HeaderValue::from_str(&orig) {
            r.headers_mut().insert("original-request", v);
        }
    }
    r
}
