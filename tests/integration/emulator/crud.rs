//! Retrieve/create/update/delete semantics, errors, auth, expand, idempotency, events.

use super::support::{Api, fresh, ids};

#[tokio::test]
async fn create_update_delete_follow_stripe_rules() {
    let emu = fresh();
    let api = Api::new(&emu);
    let c = api.post("/v1/customers", &[("email", "a@example.com"), ("metadata[a]", "1"), ("metadata[b]", "2")]).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let id = c.s("id");
    assert!(id.starts_with("cus_") && id.len() == 28, "{id}");
    assert_eq!(c.body["object"], "customer");
    assert!(c.header("request-id").is_some_and(|r| r.starts_with("req_")));
    // Metadata merges; '' removes a key.
    let u =
        api.post(&format!("/v1/customers/{id}"), &[("metadata[b]", ""), ("metadata[c]", "3"), ("name", "Ann")]).await;
    assert_eq!(u.body["metadata"], serde_json::json!({"a": "1", "c": "3"}));
    assert_eq!(u.body["email"], "a@example.com");
    assert_eq!(u.body["name"], "Ann");
    // metadata='' clears everything; description='' unsets.
    let u = api.post(&format!("/v1/customers/{id}"), &[("metadata", ""), ("description", "")]).await;
    assert_eq!(u.body["metadata"], serde_json::json!({}));
    assert!(u.body["description"].is_null());
    // Unknown params are rejected, nothing changes.
    let bad = api.post(&format!("/v1/customers/{id}"), &[("colour", "red")]).await;
    assert_eq!(
        (bad.status, bad.err("param").as_str(), bad.err("type").as_str()),
        (400, "colour", "invalid_request_error")
    );
    // Required params.
    let r = api.post("/v1/products", &[("description", "x")]).await;
    assert_eq!((r.status, r.err("param").as_str(), r.err("code").as_str()), (400, "name", "parameter_missing"));
    let r = api.post("/v1/payment_intents", &[("currency", "usd")]).await;
    assert_eq!((r.status, r.err("param").as_str()), (400, "amount"));
    let r = api.post("/v1/payment_intents", &[("currency", "usd"), ("amount", "12x")]).await;
    assert_eq!((r.status, r.err("param").as_str()), (400, "amount"));
    // Delete returns the deleted stub; the object is gone.
    let d = api.delete(&format!("/v1/customers/{id}")).await;
    assert_eq!(d.body, serde_json::json!({"id": id, "object": "customer", "deleted": true}));
    let g = api.get(&format!("/v1/customers/{id}"), &[]).await;
    assert_eq!(g.status, 404);
    assert_eq!(g.err("code"), "resource_missing");
    assert_eq!(g.err("param"), "id");
    assert_eq!(g.err("message"), format!("No such customer: '{id}'"));
    assert!(g.header("request-id").is_some());
    // Prices and charges cannot be deleted.
    let prod = api.post("/v1/products", &[("name", "Widget")]).await.s("id");
    let price = api.post("/v1/prices", &[("product", &prod), ("currency", "usd"), ("unit_amount", "500")]).await;
    assert_eq!(price.status, 200, "{}", price.body);
    let d = api.delete(&format!("/v1/prices/{}", price.s("id"))).await;
    assert_eq!(d.status, 404);
    assert!(d.err("message").starts_with("Unrecognized request URL (DELETE: /v1/prices/"), "{}", d.body);
    let ch = api.post("/v1/charges", &[("amount", "1000"), ("currency", "usd"), ("source", "tok_visa")]).await;
    let d = api.delete(&format!("/v1/charges/{}", ch.s("id"))).await;
    assert_eq!(d.status, 404);
    // A product with prices cannot be deleted.
    assert_eq!(api.delete(&format!("/v1/products/{prod}")).await.status, 400);
    // Unknown routes are Stripe's 404.
    assert_eq!(api.get("/v1/widgets", &[]).await.status, 404);
    // Events: created, updated (with previous_attributes), deleted.
    let ev = api.list_all("/v1/events", &[("type", "customer.*")]).await;
    let types: Vec<&str> = ev.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["customer.deleted", "customer.updated", "customer.updated", "customer.created"]);
    assert_eq!(ev[2]["data"]["previous_attributes"]["metadata"], serde_json::json!({"a": "1", "b": "2"}));
    assert_eq!(ev[3]["data"]["object"]["id"], id.as_str());
    assert!(ev[3]["request"]["id"].as_str().unwrap().starts_with("req_"));
}

#[tokio::test]
async fn expand_replaces_ids_with_objects() {
    let emu = fresh();
    let api = Api::new(&emu);
    let (cus, pm) = super::support::customer_with_card(&api, "x@example.com", "pm_card_visa").await;
    let pi = api
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("customer", &cus),
                ("payment_method", &pm),
                ("confirm", "true"),
                ("expand[]", "customer"),
                ("expand[]", "latest_charge"),
            ],
        )
        .await;
    assert_eq!(pi.status, 200, "{}", pi.body);
    assert_eq!(pi.body["customer"]["id"], cus.as_str());
    assert_eq!(pi.body["latest_charge"]["object"], "charge");
    let ch = pi.body["latest_charge"]["id"].as_str().unwrap().to_string();
    let r =
        api.get(&format!("/v1/charges/{ch}"), &[("expand[]", "customer"), ("expand[]", "balance_transaction")]).await;
    assert_eq!(r.body["customer"]["email"], "x@example.com");
    assert_eq!(r.body["balance_transaction"]["object"], "balance_transaction");
    let l = api.get("/v1/charges", &[("expand[]", "data.customer")]).await;
    assert_eq!(l.body["data"][0]["customer"]["object"], "customer");
    let plain = api.get(&format!("/v1/charges/{ch}"), &[]).await;
    assert_eq!(plain.body["customer"], cus.as_str());
    let bad = api.get(&format!("/v1/charges/{ch}"), &[("expand[]", "amount")]).await;
    assert_eq!((bad.status, bad.err("param").as_str()), (400, "expand"));
}

#[tokio::test]
async fn auth_is_required_and_never_echoed() {
    let emu = fresh();
    let base = emu.base_url();
    let http = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    };
    let r = http.get(format!("{base}/v1/customers")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("request-id").is_some());
    for key in ["pk_test_abc123", "sk_test_", "sk_test_bad key", "hello"] {
        let r = http.get(format!("{base}/v1/customers")).bearer_auth(key).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{key}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("abc123"), "the key leaked into the error: {body}");
    }
    for key in ["sk_test_123", "sk_live_abc", "rk_test_x", "rk_live_y"] {
        let r = http.get(format!("{base}/v1/customers")).basic_auth(key, Some("")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{key} via Basic");
    }
}

#[tokio::test]
async fn idempotent_replay_and_mismatch() {
    let emu = fresh();
    let api = Api::new(&emu);
    let a = api.post_key("/v1/customers", &[("email", "i@example.com"), ("name", "I")], "key-1").await;
    assert_eq!(a.status, 200);
    assert!(a.header("idempotent-replayed").is_none());
    // Same key and params (in a different order): the same answer, replayed.
    let b = api.post_key("/v1/customers", &[("name", "I"), ("email", "i@example.com")], "key-1").await;
    assert_eq!(b.status, 200);
    assert_eq!(b.body, a.body);
    assert_eq!(b.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(b.header("original-request"), a.header("request-id"));
    assert_eq!(emu.count("customers"), 1);
    // Same key, different params: idempotency_error, nothing created.
    let c = api.post_key("/v1/customers", &[("email", "other@example.com")], "key-1").await;
    assert_eq!((c.status, c.err("type").as_str()), (400, "idempotency_error"));
    // Same key on another endpoint: also an error.
    let d = api.post_key("/v1/products", &[("name", "P")], "key-1").await;
    assert_eq!((d.status, d.err("type").as_str()), (400, "idempotency_error"));
    assert_eq!(emu.count("customers"), 1);
    assert_eq!(emu.count("products"), 0);
    // Declines are replayed too (the request ran).
    let e1 = api
        .post_key("/v1/charges", &[("amount", "900"), ("currency", "usd"), ("source", "tok_chargeDeclined")], "key-2")
        .await;
    let e2 = api
        .post_key("/v1/charges", &[("amount", "900"), ("currency", "usd"), ("source", "tok_chargeDeclined")], "key-2")
        .await;
    assert_eq!((e1.status, e2.status), (402, 402));
    assert_eq!(e2.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(emu.count("charges"), 1);
    // A different key makes a new object.
    let f = api.post_key("/v1/customers", &[("email", "i@example.com"), ("name", "I")], "key-3").await;
    assert_ne!(f.s("id"), a.s("id"));
    assert_eq!(ids(&api.list_all("/v1/customers", &[]).await).len(), 2);
}
