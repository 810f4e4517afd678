//! Clear errors: Stripe error bodies, HTML bodies, unreachable servers.

use super::server::{Reply, TestServer};
use serde_json::json;
use stripe_sql::stripe::ApiError;

#[tokio::test]
async fn a_stripe_error_carries_type_code_param_and_request_id() {
    let server = TestServer::start(|_, _| {
        Reply::json(
            404,
            json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
            "param": "id", "message": "No such customer: 'cus_x'"}}),
        )
        .header("Request-Id", "req_abc123")
    })
    .await;
    let client = server.client(|_| {});
    let err = client.get("/v1/customers/cus_x", &json!({})).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.request_id(), Some("req_abc123"));
    let s = err.stripe_error().unwrap();
    assert_eq!((s.code.as_deref(), s.param.as_deref()), (Some("resource_missing"), Some("id")));
    let msg = err.to_string();
    assert!(msg.contains("404") && msg.contains("No such customer") && msg.contains("req_abc123"), "{msg}");
    assert_eq!(server.requests().len(), 1, "404 is not retried");
}

#[tokio::test]
async fn an_html_error_body_gives_a_clear_error() {
    let server = TestServer::start(|_, _| {
        Reply::html(502, "<html><body><h1>502 Bad Gateway</h1></body></html>").header("Stripe-Should-Retry", "false")
    })
    .await;
    let client = server.client(|_| {});
    let err = client.get("/v1/charges", &json!({})).await.unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.status(), Some(502));
    assert!(msg.contains("non-json body (text/html)") && msg.contains("502 Bad Gateway"), "{msg}");
    assert!(msg.contains("GET /v1/charges"), "{msg}");
}

#[tokio::test]
async fn a_success_with_a_non_json_body_is_an_error() {
    let server = TestServer::start(|_, _| Reply::html(200, "<html>hi</html>")).await;
    let client = server.client(|_| {});
    let err = client.get("/v1/charges", &json!({})).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("not json"), "{err}");
}

#[tokio::test]
async fn an_unreachable_base_gives_a_clear_error_after_bounded_retries() {
    // Take a free port, then close it so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let client = server.client(|c| {
        c.api_base = format!("http://127.0.0.1:{port}");
        c.max_retries = 2;
    });
    let err = client.get("/v1/customers", &json!({})).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ApiError::Transport { attempts: 3, .. }), "{err:?}");
    assert!(msg.starts_with("could not reach stripe at http://127.0.0.1:"), "{msg}");
    assert!(msg.to_lowercase().contains("connect"), "{msg}");
    let log = client.request_log().entries();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| e.status.is_none() && e.error.is_some()));
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server =
        TestServer::start(|_, _| Reply::json(200, json!({})).delayed(std::time::Duration::from_millis(400))).await;
    let client = server.client(|c| {
        c.request_timeout = std::time::Duration::from_millis(100);
        c.max_retries = 0;
    });
    let err = client.get("/v1/customers", &json!({})).await.unwrap_err();
    assert!(matches!(err, ApiError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn paths_with_query_strings_are_refused_before_sending() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let client = server.client(|_| {});
    let err = client.get("/v1/customers?limit=1", &json!({})).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidRequest(_)), "{err:?}");
    assert!(server.requests().is_empty());
}
