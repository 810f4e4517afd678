//! Headers every request carries.

use super::server::{Reply, TEST_KEY, TestServer};
use serde_json::json;

#[tokio::test]
async fn auth_account_version_and_user_agent_are_sent() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({"id": "cus_1"}))).await;
    let client = server.client(|c| {
        c.account = Some("acct_123".into());
        c.stripe_version = "2023-08-16".into();
    });
    client.get("/v1/customers/cus_1", &json!({"expand": ["default_source"]})).await.unwrap();
    let req = &server.requests()[0];
    assert_eq!(req.header("stripe-account"), Some("acct_123"));
    assert_eq!(req.header("stripe-version"), Some("2023-08-16"));
    assert_eq!(req.header("authorization"), Some(format!("Bearer {TEST_KEY}").as_str()));
    assert!(req.header("user-agent").unwrap().starts_with("stripe-sql/"));
    assert_eq!(req.query("expand[]"), Some("default_source"));
    assert!(req.header("idempotency-key").is_none(), "GET carries no idempotency key");
}

#[tokio::test]
async fn no_stripe_account_header_without_an_account() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let client = server.client(|_| {});
    client.get("/v1/balance", &json!({})).await.unwrap();
    let req = &server.requests()[0];
    assert!(req.header("stripe-account").is_none());
    assert_eq!(req.header("stripe-version"), Some("2023-08-16"));
}
