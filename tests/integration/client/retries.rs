//! Retries: Retry-After, Stripe-Should-Retry, idempotency keys on POST.

use super::server::{Reply, TestServer, stripe_error};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_succeeds() {
    let server = TestServer::start(|_, n| match n {
        0 => Reply::json(429, stripe_error("rate_limit_error", "Too many requests")).header("Retry-After", "1"),
        _ => Reply::json(200, json!({"id": "cus_1", "object": "customer"})),
    })
    .await;
    let client = server.client(|_| {});
    let got = client.get("/v1/customers/cus_1", &json!({})).await.unwrap();
    assert_eq!(got["id"], "cus_1");
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}, before Retry-After");
    let log = client.request_log().entries();
    assert_eq!(log.iter().map(|e| (e.attempt, e.status)).collect::<Vec<_>>(), vec![(1, Some(429)), (2, Some(200))]);
}

#[tokio::test]
async fn stripe_should_retry_false_is_not_retried() {
    let server = TestServer::start(|_, _| {
        Reply::json(503, stripe_error("api_error", "Try later")).header("Stripe-Should-Retry", "false")
    })
    .await;
    let client = server.client(|c| c.max_retries = 5);
    let err = client.get("/v1/customers", &json!({})).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn stripe_should_retry_true_retries_a_client_error() {
    let server = TestServer::start(|_, n| match n {
        0 => Reply::json(400, stripe_error("invalid_request_error", "Lock")).header("Stripe-Should-Retry", "true"),
        _ => Reply::json(200, json!({"ok": true})),
    })
    .await;
    let client = server.client(|_| {});
    client.get("/v1/customers", &json!({})).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_post_is_retried_with_the_same_idempotency_key() {
    let server = TestServer::start(|_, n| match n {
        0 | 1 => Reply::json(500, stripe_error("api_error", "Internal")),
        _ => Reply::json(200, json!({"id": "cus_new"})),
    })
    .await;
    let client = server.client(|c| c.max_retries = 3);
    let body = json!({"email": "a@b.c", "metadata": {"k": "v"}, "expand": ["default_source"]});
    client.post("/v1/customers", &body).await.unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    let keys: Vec<&str> = seen.iter().map(|r| r.header("idempotency-key").unwrap()).collect();
    assert!(!keys[0].is_empty());
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    let form = &seen[2].form;
    assert!(form.contains(&("metadata[k]".into(), "v".into())), "{form:?}");
    assert!(form.contains(&("expand[]".into(), "default_source".into())), "{form:?}");
    assert_eq!(seen[2].header("content-type"), Some("application/x-www-form-urlencoded"));
    assert!(client.request_log().entries().iter().all(|e| e.idempotency_key));

    // A second POST gets a fresh key; post_with_key sends the caller's.
    client.post("/v1/customers", &body).await.unwrap();
    client.post_with_key("/v1/customers", &body, "my-key-1").await.unwrap();
    let seen = server.requests();
    assert_ne!(seen[3].header("idempotency-key"), Some(keys[0]));
    assert_eq!(seen[4].header("idempotency-key"), Some("my-key-1"));
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = TestServer::start(|_, _| Reply::json(500, stripe_error("api_error", "Down"))).await;
    let client = server.client(|c| c.max_retries = 2);
    let err = client.delete("/v1/customers/cus_1", &json!({})).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(server.requests().len(), 3);
    assert!(server.requests().iter().all(|r| r.method == "DELETE"));
}
