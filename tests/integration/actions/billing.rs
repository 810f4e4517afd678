//! Invoices, quotes and subscriptions: each action's happy path and one
//! illegal transition.

use super::{customer_with_card, empty, error, id, one, post, rows};
use serde_json::json;
use stripe_sql::engine::Engine;

/// A draft invoice of 3000 usd for `cus`, with `extra` create params.
async fn draft_invoice(e: &Engine, cus: &str, extra: serde_json::Value) -> String {
    let mut body = json!({"customer": cus});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let inv = id(&post(e, "/v1/invoices", body).await);
    post(e, "/v1/invoiceitems", json!({"customer": cus, "amount": 3000, "currency": "usd", "invoice": inv})).await;
    inv
}

async fn open_invoice(e: &Engine, cus: &str) -> String {
    let inv = draft_invoice(e, cus, json!({})).await;
    post(e, &format!("/v1/invoices/{inv}/finalize"), json!({})).await;
    inv
}

#[tokio::test]
async fn finalize_invoice_then_refuses_to_finalize_twice() {
    let e = empty();
    let (cus, _) = customer_with_card(&e).await;
    let inv = draft_invoice(&e, &cus, json!({})).await;
    let row =
        one(&e, &format!("SELECT status, amount_due FROM finalize_invoice('{inv}', auto_advance => false)")).await;
    assert_eq!((row["status"].as_str(), row["amount_due"].as_i64()), (Some("open"), Some(3000)));
    let err = error(&e, &format!("SELECT * FROM finalize_invoice('{inv}')")).await;
    assert!(err.contains("finalize_invoice('") && err.contains("400"), "{err}");
}

#[tokio::test]
async fn pay_invoice_then_refuses_a_void_invoice() {
    let e = empty();
    let (cus, _) = customer_with_card(&e).await;
    let inv = open_invoice(&e, &cus).await;
    let row = one(&e, &format!("SELECT status, amount_paid, paid FROM pay_invoice('{inv}')")).await;
    assert_eq!(
        (row["status"].as_str(), row["amount_paid"].as_i64(), row["paid"].as_bool()),
        (Some("paid"), Some(3000), Some(true))
    );
    let void = open_invoice(&e, &cus).await;
    post(&e, &format!("/v1/invoices/{void}/void"), json!({})).await;
    let err = error(&e, &format!("SELECT * FROM pay_invoice('{void}')")).await;
    assert!(err.contains("pay_invoice('") && err.contains("400"), "{err}");
}

#[tokio::test]
async fn void_invoice_then_refuses_a_draft() {
    let e = empty();
    let (cus, _) = customer_with_card(&e).await;
    let inv = open_invoice(&e, &cus).await;
    assert_eq!(one(&e, &format!("SELECT status FROM void_invoice('{inv}')")).await["status"], "void");
    let draft = draft_invoice(&e, &cus, json!({})).await;
    let err = error(&e, &format!("SELECT * FROM void_invoice('{draft}')")).await;
    assert!(err.contains("void_invoice('") && err.contains("400"), "{err}");
}

#[tokio::test]
async fn send_invoice_then_refuses_a_draft() {
    let e = empty();
    let (cus, _) = customer_with_card(&e).await;
    let inv = draft_invoice(&e, &cus, json!({"collection_method": "send_invoice", "days_until_due": 30})).await;
    post(&e, &format!("/v1/invoices/{inv}/finalize"), json!({})).await;
    let row = one(&e, &format!("SELECT id, status FROM send_invoice('{inv}')")).await;
    assert_eq!((row["id"].as_str(), row["status"].as_str()), (Some(inv.as_str()), Some("open")));
    let draft = draft_invoice(&e, &cus, json!({"collection_method": "send_invoice", "days_until_due": 30})).await;
    let err = error(&e, &format!("SELECT * FROM send_invoice('{draft}')")).await;
    assert!(err.contains("send_invoice('") && err.contains("400"), "{err}");
}

#[tokio::test]
async fn mark_uncollectible_invoice_then_refuses_a_draft() {
    let e = empty();
    let (cus, _) = customer_with_card(&e).await;
    let inv = open_invoice(&e, &cus).await;
    assert_eq!(
        one(&e, &format!("SELECT status FROM mark_uncollectible_invoice('{inv}')")).await["status"],
        "uncollectible"
    );
    let draft = draft_invoice(&e, &cus, json!({})).await;
    let err = error(&e, &format!("SELECT * FROM mark_uncollectible_invoice('{draft}')")).await;
    assert!(err.contains("mark_uncollectible_invoice('") && err.contains("400"), "{err}");
}

/// A customer and a one-time and a monthly price.
async fn billing_setup(e: &Engine) -> (String, String, String) {
    let (cus, _) = customer_with_card(e).await;
    let prod = id(&post(e, "/v1/products", json!({"name": "Plan"})).await);
    let one_time = id(&post(e, "/v1/prices", json!({"product": prod, "currency": "usd", "unit_amount": 1200})).await);
    let monthly = id(&post(
        e,
        "/v1/prices",
        json!({"product": prod, "currency": "usd", "unit_amount": 900, "recurring": {"interval": "month"}}),
    )
    .await);
    (cus, one_time, monthly)
}

async fn draft_quote(e: &Engine, cus: &str, price: &str) -> String {
    id(&post(e, "/v1/quotes", json!({"customer": cus, "line_items": [{"price": price, "quantity": 2}]})).await)
}

#[tokio::test]
async fn finalize_accept_and_cancel_quote_with_illegal_moves() {
    let e = empty();
    let (cus, price, _) = billing_setup(&e).await;
    let q = draft_quote(&e, &cus, &price).await;
    let err = error(&e, &format!("SELECT * FROM accept_quote('{q}')")).await;
    assert!(err.contains("accept_quote('") && err.contains("400"), "accepting a draft: {err}");
    assert_eq!(one(&e, &format!("SELECT status FROM finalize_quote('{q}')")).await["status"], "open");
    let err = error(&e, &format!("SELECT * FROM finalize_quote('{q}')")).await;
    assert!(err.contains("finalize_quote('") && err.contains("400"), "finalizing an open quote: {err}");
    let accepted = one(&e, &format!("SELECT status, invoice, amount_total FROM accept_quote('{q}')")).await;
    assert_eq!((accepted["status"].as_str(), accepted["amount_total"].as_i64()), (Some("accepted"), Some(2400)));
    let invoice = accepted["invoice"].as_str().expect("the accepted quote carries its invoice id");
    assert!(invoice.starts_with("in_"), "{invoice}");
    let err = error(&e, &format!("SELECT * FROM cancel_quote('{q}')")).await;
    assert!(err.contains("cancel_quote('") && err.contains("400"), "canceling an accepted quote: {err}");
    let q2 = draft_quote(&e, &cus, &price).await;
    assert_eq!(one(&e, &format!("SELECT status FROM cancel_quote('{q2}')")).await["status"], "canceled");
}

#[tokio::test]
async fn cancel_subscription_by_delete_then_refuses_twice() {
    let e = empty();
    let (cus, _, monthly) = billing_setup(&e).await;
    let sub = id(&post(&e, "/v1/subscriptions", json!({"customer": cus, "items": [{"price": monthly}]})).await);
    let row = one(
        &e,
        &format!("SELECT status, cancellation_details FROM cancel_subscription('{sub}', cancellation_details => named_struct('comment', 'too pricey'))"),
    )
    .await;
    assert_eq!(row["status"].as_str(), Some("canceled"));
    assert!(row["cancellation_details"].to_string().contains("too pricey"), "{row:?}");
    let last = e.client().request_log().entries().last().cloned().unwrap();
    assert_eq!((last.method.as_str(), last.path.as_str()), ("DELETE", format!("/v1/subscriptions/{sub}").as_str()));
    let err = error(&e, &format!("SELECT * FROM cancel_subscription('{sub}')")).await;
    assert!(err.contains("has already been canceled"), "{err}");
}

#[tokio::test]
async fn resume_subscription_on_demo_data_then_refuses_an_active_one() {
    let e = Engine::demo().unwrap();
    let paused = rows(&e, "SELECT id FROM subscriptions WHERE status = 'paused' LIMIT 1").await;
    let sub = paused[0]["id"].as_str().expect("the demo data has a paused subscription").to_string();
    assert_eq!(one(&e, &format!("SELECT status FROM resume_subscription('{sub}')")).await["status"], "active");
    let err = error(&e, &format!("SELECT * FROM resume_subscription('{sub}')")).await;
    assert!(err.contains("cannot be resumed because its status is active"), "{err}");
}
