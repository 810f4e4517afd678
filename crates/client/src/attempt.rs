//! One HTTP attempt: build the request, send it, read the response, log it.
//!
//! The retry loop in `client.rs` calls this once per attempt and asks the pure policy in
//! `retry.rs` what to do with the result.

use super::config::ClientConfig;
use super::log::{LogEntry, RequestLog};
use super::wire::StatusError;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::Method;
use std::time::{Duration, Instant};

/// A prepared request, reused unchanged by every attempt (same idempotency key, same body).
pub(crate) struct Prepared {
    pub method: Method,
    pub path: String,
    pub url: String,
    pub params: Vec<(String, String)>,
    pub body: Option<String>,
    pub idempotency_key: Option<String>,
}

/// What came back from one attempt.
pub(crate) enum AttemptResult {
    /// 2xx with its body and request id.
    Success { status: u16, body: bytes::Bytes, request_id: Option<String> },
    /// A non-2xx response.
    Status { error: StatusError, should_retry: Option<bool>, retry_after: Option<Duration> },
    /// No (complete) response.
    Transport { message: String, timeout: bool },
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The chain of causes of a transport error, e.g. "error sending request: connection refused".
fn describe(err: &reqwest::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Sends `req` once (attempt number `attempt`), logs the attempt, returns what happened.
pub(crate) async fn send_once(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    account: Option<&str>,
    log: &RequestLog,
    req: &Prepared,
    attempt: u32,
) -> AttemptResult {
    let started = Instant::now();
    let sent_at = std::time::SystemTime::now();
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", cfg.api_key.expose()))
        .expect("a parsed api key is ascii alphanumeric");
    auth.set_sensitive(true);
    let mut builder = http
        .request(req.method.clone(), &req.url)
        .header(AUTHORIZATION, auth)
        .header("Stripe-Version", &cfg.stripe_version);
    if let Some(account) = account {
        builder = builder.header("Stripe-Account", account);
    }
    if let Some(key) = &req.idempotency_key {
        builder = builder.header("Idempotency-Key", key);
    }
    if let Some(body) = &req.body {
        builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body.clone());
    }
    tracing::trace!(method = %req.method, url = %req.url, "> authorization: Bearer [redacted]");
    tracing::trace!(method = %req.method, url = %req.url, "> stripe-version: {}", cfg.stripe_version);
    if let Some(body) = &req.body {
        tracing::trace!(method = %req.method, url = %req.url, "> body: {}", redact(body, cfg.api_key.expose()));
    }

    let result = match builder.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            for (name, value) in headers.iter() {
                let value = redact(value.to_str().unwrap_or("<binary>"), cfg.api_key.expose());
                tracing::trace!(status, "< {}: {}", name, value);
            }
            match resp.bytes().await {
                Ok(body) => {
                    let key = cfg.api_key.expose();
                    tracing::trace!(status, "< body: {}", redact(&String::from_utf8_lossy(&body), key));
                    let mut result = classify(req, status, &headers, body);
                    if let AttemptResult::Status { error, .. } = &mut result {
                        for text in
                            [&mut error.message, &mut error.raw_body, &mut error.request_id].into_iter().flatten()
                        {
                            *text = redact(text, key);
                        }
                    }
                    result
                }
                Err(e) => AttemptResult::Transport { message: describe(&e), timeout: e.is_timeout() },
            }
        }
        Err(e) => AttemptResult::Transport { message: describe(&e), timeout: e.is_timeout() },
    };

    let (status, error) = match &result {
        AttemptResult::Success { status, .. } => (Some(*status), None),
        AttemptResult::Status { error, .. } => (Some(error.status), Some(error.to_string())),
        AttemptResult::Transport { message, .. } => (None, Some(message.clone())),
    };
    log.push(LogEntry {
        seq: 0,
        method: req.method.as_str().to_owned(),
        path: req.path.clone(),
        params: req.params.clone(),
        status,
        attempt,
        duration: started.elapsed(),
        error,
        idempotency_key: req.idempotency_key.is_some(),
        sent_at,
        cached: false,
        account: account.map(str::to_owned),
    });
    result
}

/// Replaces the key wherever a server echoed it back (a misbehaving proxy or fake), so it
/// cannot reach an error message or a log line through the response.
fn redact(text: &str, key: &str) -> String {
    text.replace(key, "[redacted]")
}

fn classify(req: &Prepared, status: u16, headers: &HeaderMap, body: bytes::Bytes) -> AttemptResult {
    let request_id = header_str(headers, "request-id");
    if (200..300).contains(&status) {
        return AttemptResult::Success { status, body, request_id };
    }
    let error = StatusError::from_response(
        req.method.as_str(),
        &req.path,
        status,
        request_id,
        header_str(headers, "content-type").as_deref(),
        &body,
    );
    AttemptResult::Status {
        error,
        should_retry: header_str(headers, "stripe-should-retry").and_then(|v| super::retry::parse_should_retry(&v)),
        retry_after: header_str(headers, "retry-after").and_then(|v| super::retry::parse_retry_after(&v)),
    }
}
