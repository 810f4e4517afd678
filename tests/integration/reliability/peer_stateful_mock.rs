//! Conformance through SQL against stripe-stateful-mock (npm, 0.0.16): customers,
//! charges (create, capture), refunds, read back with SELECT; retries and
//! idempotency through its failure tokens (`tok_429`, `tok_500`, pipe chains).
//! Where the mock departs from Stripe's documented behaviour the test says so and
//! checks the documented behaviour against the emulator instead.

use serde_json::json;
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;

use super::{error, one, peers, rows, s};

async fn count(e: &Engine, sql: &str) -> i64 {
    one(e, sql).await.values().next().and_then(|v| v.as_i64()).unwrap_or(-1)
}

#[tokio::test]
async fn customers_charges_and_refunds_round_trip_through_sql() {
    let peer = peers::stateful_mock().await;
    let e = peers::engine(&peer, 0);
    e.sql("SET stripe.use_search = false").await.unwrap();

    let inserted = rows(&e, "INSERT INTO customers (email, name, metadata) VALUES ('ssm@example.com', 'Ssm', MAP {'tier': 'gold'}) RETURNING id, email").await;
    let cus = s(&inserted[0], "id");
    assert!(cus.starts_with("cus_"), "{inserted:?}");
    let row =
        one(&e, "SELECT id, email, metadata['tier'] AS tier FROM customers WHERE email = 'ssm@example.com'").await;
    assert_eq!((s(&row, "id"), s(&row, "tier")), (cus.clone(), "gold".to_string()));
    // stripe-stateful-mock ignores `name` on create (Stripe stores it); it honours it on update.
    e.sql(&format!("UPDATE customers SET name = 'Renamed' WHERE id = '{cus}'")).await.unwrap();
    assert_eq!(s(&one(&e, &format!("SELECT name FROM customers WHERE id = '{cus}'")).await, "name"), "Renamed");

    // An uncaptured charge from a test token, captured in part by the action.
    let ch = s(&one(&e, r#"INSERT INTO charges (amount, currency, _raw) VALUES (1500, 'usd', '{"source": "tok_visa", "capture": false}') RETURNING id"#).await, "id");
    let row = one(&e, &format!("SELECT captured, amount FROM charges WHERE id = '{ch}'")).await;
    assert_eq!((row["captured"].as_bool(), row["amount"].as_i64()), (Some(false), Some(1500)));
    let row =
        one(&e, &format!("SELECT id, captured, amount_captured FROM capture_charge('{ch}', amount => 1000)")).await;
    assert_eq!((row["captured"].as_bool(), row["amount_captured"].as_i64()), (Some(true), Some(1000)), "{row:?}");

    // Refunds: INSERT and the refund_charge action, read back by charge.
    let paid = s(&one(&e, r#"INSERT INTO charges (amount, currency, _raw) VALUES (2000, 'usd', '{"source": "tok_visa"}') RETURNING id"#).await, "id");
    e.sql(&format!("INSERT INTO refunds (charge, amount) VALUES ('{paid}', 300)")).await.unwrap();
    let row = one(&e, &format!("SELECT id, amount FROM refund_charge('{paid}', amount => 200)")).await;
    assert_eq!(row["amount"].as_i64(), Some(200));
    let amounts: Vec<i64> = rows(&e, &format!("SELECT amount FROM refunds WHERE charge = '{paid}' ORDER BY amount"))
        .await
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [200, 300]);
    let row = one(&e, &format!("SELECT amount_refunded, refunded FROM charges WHERE id = '{paid}'")).await;
    assert_eq!((row["amount_refunded"].as_i64(), row["refunded"].as_bool()), (Some(500), Some(false)));
    // Over-refunding is refused with a Stripe-shaped error that reaches SQL.
    let err = error(&e, &format!("SELECT * FROM refund_charge('{paid}', amount => 5000)")).await;
    assert!(err.contains("400") || err.to_lowercase().contains("refund"), "{err}");
    assert_eq!(count(&e, "SELECT count(*) FROM charges").await, 2);
    super::conformance_suite::assert_conforms(&e);
}

#[tokio::test]
async fn failure_tokens_are_retried_with_one_idempotency_key_and_never_duplicate() {
    let peer = peers::stateful_mock().await;
    let e = peers::engine(&peer, 3);
    // tok_429 fails the first attempt with a rate limit; the retry (same key) succeeds.
    let ch = s(&one(&e, r#"INSERT INTO charges (amount, currency, _raw) VALUES (700, 'usd', '{"source": "tok_429|tok_visa|rel1"}') RETURNING id"#).await, "id");
    let posts: Vec<_> = e.client().request_log().entries().into_iter().filter(|x| x.method == "POST").collect();
    assert_eq!(posts.iter().map(|p| (p.status, p.attempt)).collect::<Vec<_>>(), [(Some(429), 1), (Some(200), 2)]);
    assert!(posts.iter().all(|p| p.idempotency_key), "every POST carries an Idempotency-Key");
    assert_eq!(count(&e, "SELECT count(*) FROM charges").await, 1);
    assert_eq!(s(&one(&e, &format!("SELECT status FROM charges WHERE id = '{ch}'")).await, "status"), "succeeded");

    // tok_500 fails the first attempt. Stripe documents that an idempotency key saves the
    // first result "including 500 errors", and stripe-stateful-mock does so: the retry
    // with the same key replays the 500, so the statement fails clearly and writes nothing.
    let err = error(
        &e,
        r#"INSERT INTO charges (amount, currency, _raw) VALUES (800, 'usd', '{"source": "tok_500|tok_visa|rel2"}')"#,
    )
    .await;
    assert!(err.contains("1 failed") && err.contains("0 of 1 row(s) written"), "{err}");
    let retried: Vec<_> = e
        .client()
        .request_log()
        .entries()
        .into_iter()
        .filter(|x| x.method == "POST" && x.status == Some(500))
        .collect();
    assert_eq!(retried.len(), 4, "three retries after the first 500: {retried:?}");
    assert_eq!(count(&e, "SELECT count(*) FROM charges").await, 1, "nothing was written");
    // A new statement is a new key: the chain's next token succeeds.
    e.sql(r#"INSERT INTO charges (amount, currency, _raw) VALUES (800, 'usd', '{"source": "tok_500|tok_visa|rel2"}')"#)
        .await
        .unwrap();
    assert_eq!(count(&e, "SELECT count(*) FROM charges").await, 2);

    // The same key replays; the same key with another body is an idempotency_error.
    let body = json!({"email": "idem@example.com"});
    let a = e.client().post_with_key("/v1/customers", &body, "rel-key-1").await.unwrap();
    let b = e.client().post_with_key("/v1/customers", &body, "rel-key-1").await.unwrap();
    assert_eq!(a["id"], b["id"]);
    let clash = e
        .client()
        .post_with_key("/v1/customers", &json!({"email": "other@example.com"}), "rel-key-1")
        .await
        .unwrap_err();
    assert!(clash.to_string().contains("idempotency") || clash.to_string().contains("same parameters"), "{clash}");
    assert_eq!(count(&e, "SELECT count(*) FROM customers").await, 1);
    super::conformance_suite::assert_conforms(&e);
}

#[tokio::test]
async fn documented_behaviour_the_mock_lacks_holds_on_the_emulator() {
    // stripe-stateful-mock stores no `name` on create and replaces metadata wholesale
    // on update; Stripe stores the name and merges metadata keys (documented).
    let e = Engine::with_emulator(EmulatorConfig::default(), |_| {}).unwrap();
    e.sql("INSERT INTO customers (email, name, metadata) VALUES ('doc@example.com', 'Doc', MAP {'a': '1'})")
        .await
        .unwrap();
    e.sql("UPDATE customers SET metadata = MAP {'b': '2'} WHERE email = 'doc@example.com'").await.unwrap();
    let row =
        one(&e, "SELECT name, metadata['a'] AS a, metadata['b'] AS b FROM customers WHERE email = 'doc@example.com'")
            .await;
    assert_eq!((s(&row, "name"), s(&row, "a"), s(&row, "b")), ("Doc".into(), "1".into(), "2".into()));
    // The mock's charges never carry `customer`, so `WHERE customer = …` finds nothing
    // there; Stripe (and the emulator) filter charges by customer.
    let cus = s(&one(&e, "SELECT id FROM customers WHERE email = 'doc@example.com'").await, "id");
    e.sql(&format!(r#"INSERT INTO charges (amount, currency, customer, _raw) VALUES (900, 'usd', '{cus}', '{{"source": "tok_visa"}}')"#)).await.unwrap();
    assert_eq!(count(&e, &format!("SELECT count(*) FROM charges WHERE customer = '{cus}'")).await, 1);
}
