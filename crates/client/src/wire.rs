//! What travels on the wire: list and search pages as values, and the one error type
//! (the envelopes are read in [`super::raw`]).
//!
//! Stripe error bodies look like `{"error": {"type", "code", "param", "message",
//! "decline_code"}}`; the `Request-Id` response header identifies the call for Stripe
//! support. Bodies that are not JSON (an HTML page from a proxy or load balancer) are kept
//! as a short excerpt instead of failing to parse.

use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// One page of a list or search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The objects of this page, as Stripe sent them.
    pub data: Vec<Value>,
    /// Whether Stripe has more objects after this page.
    pub has_more: bool,
}

/// A search page plus the opaque token of the next page (`next_page`).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The objects and `has_more`.
    pub page: Page,
    /// Token to pass as `page` for the next request; `None` at the end.
    pub next_page: Option<String>,
}

/// Stripe's answer to a failed call: the HTTP status and what the body and headers said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusError {
    /// HTTP method, upper case.
    pub method: String,
    /// Request path, e.g. `/v1/customers/cus_123`.
    pub path: String,
    /// HTTP status code.
    pub status: u16,
    /// The `Request-Id` response header.
    pub request_id: Option<String>,
    /// `error.type`, e.g. `invalid_request_error`.
    pub error_type: Option<String>,
    /// `error.code`, e.g. `resource_missing`.
    pub code: Option<String>,
    /// `error.param`: the parameter at fault.
    pub param: Option<String>,
    /// `error.message`: Stripe's human-readable explanation.
    pub message: Option<String>,
    /// `error.decline_code` for card declines.
    pub decline_code: Option<String>,
    /// For bodies that are not a Stripe error object: content type and a short excerpt.
    pub raw_body: Option<String>,
}

impl StatusError {
    /// Builds the error from a response's status, request id, content type and body bytes.
    pub fn from_response(
        method: &str,
        path: &str,
        status: u16,
        request_id: Option<String>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Self {
        let mut err =
            StatusError { method: method.to_owned(), path: path.to_owned(), status, request_id, ..Default::default() };
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        match parsed.as_ref().and_then(|v| v.get("error")).filter(|e| e.is_object()) {
            Some(e) => {
                let field = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
                err.error_type = field("type");
                err.code = field("code");
                err.param = field("param");
                err.message = field("message");
                err.decline_code = field("decline_code");
            }
            None => {
                let kind = if parsed.is_some() { "json without an error object" } else { "non-json body" };
                let ct = content_type.unwrap_or("no content type");
                err.raw_body = Some(format!("{kind} ({ct}): {}", excerpt(body)));
            }
        }
        err
    }
}

/// The first ~200 characters of a body, whitespace collapsed, for error messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "empty body".to_owned();
    }
    let mut cut: String = collapsed.chars().take(200).collect();
    if collapsed.chars().count() > 200 {
        cut.push_str("...");
    }
    cut
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stripe answered {} to {} {}", self.status, self.method, self.path)?;
        let detail: Vec<&str> =
            [&self.error_type, &self.code, &self.decline_code].into_iter().flatten().map(String::as_str).collect();
        if !detail.is_empty() {
            write!(f, " ({})", detail.join(", "))?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(p) = &self.param {
            write!(f, " [param: {p}]")?;
        }
        if let Some(raw) = &self.raw_body {
            write!(f, ": {raw}")?;
        }
        match &self.request_id {
            Some(id) => write!(f, " (request id {id})"),
            None => write!(f, " (no request id)"),
        }
    }
}

/// Every way a call to Stripe can fail.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// Stripe (or something in front of it) answered with an error status.
    #[error("{0}")]
    Status(Box<StatusError>),
    /// The connection failed (refused, reset, DNS, TLS) before a response arrived.
    #[error("could not reach stripe at {base} for {method} {path}: {message} (after {attempts} attempt(s))")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// API base URL tried.
        base: String,
        /// Cause, from the transport library.
        message: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// No response within the configured timeout.
    #[error("{method} {path} timed out after {after:?} (after {attempts} attempt(s))")]
    Timeout {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// The timeout that expired.
        after: Duration,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A successful status with a body that is not the expected JSON.
    #[error("stripe answered {method} {path} with an unreadable response: {message} (request id {})", request_id.as_deref().unwrap_or("none"))]
    InvalidResponse {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// What was wrong.
        message: String,
        /// The `Request-Id` header, if any.
        request_id: Option<String>,
    },
    /// Pagination could not continue safely (repeated cursor, empty page with more).
    #[error("paginating {path} failed: {message}")]
    Pagination {
        /// List or search path.
        path: String,
        /// What the server did wrong.
        message: String,
    },
    /// The request could not be built (bad path, bad configuration).
    #[error("could not build the request: {0}")]
    InvalidRequest(String),
}

impl ApiError {
    /// True for a 404 (e.g. retrieving an id that does not exist).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status(s) => Some(s.status),
            _ => None,
        }
    }

    /// Stripe's request id, when a response carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Status(s) => s.request_id.as_deref(),
            ApiError::InvalidResponse { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The Stripe error body, when there was one.
    pub fn stripe_error(&self) -> Option<&StatusError> {
        match self {
            ApiError::Status(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_error_body_is_read_and_shown_with_request_id() {
        let body = br#"{"error":{"type":"invalid_request_error","code":"resource_missing","param":"id","message":"No such customer: 'cus_x'"}}"#;
        let e = StatusError::from_response(
            "GET",
            "/v1/customers/cus_x",
            404,
            Some("req_1".into()),
            Some("application/json"),
            body,
        );
        assert_eq!(e.code.as_deref(), Some("resource_missing"));
        let err = ApiError::Status(Box::new(e));
        assert!(err.is_not_found());
        let msg = err.to_string();
        assert!(msg.starts_with("stripe answered 404 to GET /v1/customers/cus_x"), "{msg}");
        assert!(msg.contains("No such customer") && msg.contains("req_1") && msg.contains("param: id"), "{msg}");
    }

    #[test]
    fn html_body_becomes_an_excerpt() {
        let body = b"<html>\n<body>  <h1>502 Bad Gateway</h1></body></html>";
        let e = StatusError::from_response("GET", "/v1/charges", 502, None, Some("text/html"), body);
        let msg = ApiError::Status(Box::new(e)).to_string();
        assert!(msg.contains("non-json body (text/html)") && msg.contains("502 Bad Gateway"), "{msg}");
        assert!(msg.contains("no request id"), "{msg}");
    }
}
