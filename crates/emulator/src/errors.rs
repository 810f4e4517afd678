//! Errors shaped like Stripe's: `{"error": {"type", "message", "param", "code", ...}}`.

use serde_json::{Map, Value, json};

/// One API error response.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Stripe's `error.type` (`invalid_request_error`, `card_error`, ...).
    pub kind: &'static str,
    /// Human-readable message.
    pub message: String,
    /// Offending parameter, when there is one.
    pub param: Option<String>,
    /// Stripe's `error.code`.
    pub code: Option<String>,
    /// Extra fields (`decline_code`, `charge`, `payment_intent`).
    pub extra: Box<Map<String, Value>>,
}

impl ApiError {
    fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, kind, message: message.into(), param: None, code: None, extra: Box::default() }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request_error", message)
    }

    /// 400 `invalid_request_error` naming a parameter.
    pub fn invalid_param(param: &str, message: impl Into<String>) -> Self {
        Self::invalid(message).with_param(param)
    }

    /// 400 for a missing required parameter.
    pub fn missing(param: &str) -> Self {
        Self::invalid_param(param, format!("Missing required param: {param}.")).with_code("parameter_missing")
    }

    /// 400 for a parameter the endpoint does not know.
    pub fn unknown_param(param: &str) -> Self {
        Self::invalid_param(param, format!("Received unknown parameter: {param}")).with_code("parameter_unknown")
    }

    /// 404 `resource_missing` for an id that does not exist.
    pub fn no_such(object: &str, id: &str, param: &str) -> Self {
        let mut e = Self::new(404, "invalid_request_error", format!("No such {object}: '{id}'"));
        e.param = Some(param.to_string());
        e.code = Some("resource_missing".into());
        e
    }

    /// 404 for a method/path Stripe does not serve (e.g. DELETE on a charge).
    pub fn unrecognized(method: &str, path: &str) -> Self {
        Self::new(
            404,
            "invalid_request_error",
            format!(
                "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
        )
    }

    /// 400 for an action not allowed in the object's current state.
    pub fn state(code: &str, message: impl Into<String>) -> Self {
        Self::invalid(message).with_code(code)
    }

    /// 402 `card_error` for a declined card.
    pub fn card(code: &str, decline_code: Option<&str>, message: &str) -> Self {
        let mut e = Self::new(402, "card_error", message).with_code(code);
        if let Some(d) = decline_code {
            e.extra.insert("decline_code".into(), json!(d));
        }
        e
    }

    /// 403: the key may not do this (a `Stripe-Account` it has no access to).
    pub fn permission(message: impl Into<String>) -> Self {
        Self::new(403, "invalid_request_error", message)
    }

    /// 401 for a missing or malformed key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "invalid_request_error", message)
    }

    /// 403 for a restricted key without the permission a resource needs.
    pub fn missing_permission(resource: &str) -> Self {
        Self::new(
            403,
            "invalid_request_error",
            format!(
                "The provided key does not have the required permissions for this endpoint: it needs `{resource}` read access."
            ),
        )
    }

    /// 429 `rate_limit_error`.
    pub fn rate_limited() -> Self {
        Self::new(
            429,
            "rate_limit_error",
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        )
        .with_code("rate_limit")
    }

    /// A server-side failure with the given 5xx status (`api_error`).
    pub fn server(status: u16) -> Self {
        Self::new(
            status,
            "api_error",
            "An unknown error occurred while processing this request (injected by the emulator).",
        )
    }

    /// 400 `idempotency_error`.
    pub fn idempotency(message: impl Into<String>) -> Self {
        Self::new(400, "idempotency_error", message)
    }

    /// Sets `param`.
    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }

    /// Sets `code`.
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }

    /// Adds an extra field to the error object.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_string(), value);
        self
    }

    /// The JSON body.
    pub fn body(&self, request_id: &str) -> Value {
        let mut err = Map::new();
        if let Some(c) = &self.code {
            err.insert("code".into(), json!(c));
            err.insert("doc_url".into(), json!(format!("https://stripe.com/docs/error-codes/{}", c.replace('_', "-"))));
        }
        err.insert("message".into(), json!(self.message));
        if let Some(p) = &self.param {
            err.insert("param".into(), json!(p));
        }
        err.insert("request_log_url".into(), json!(format!("https://dashboard.stripe.com/test/logs/{request_id}")));
        err.insert("type".into(), json!(self.kind));
        for (k, v) in self.extra.iter() {
            err.insert(k.clone(), v.clone());
        }
        json!({ "error": err })
    }
}

/// Result of an emulated endpoint.
pub type ApiResult<T = Value> = Result<T, ApiError>;
