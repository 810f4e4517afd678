//! Payment intents, payment methods, charges and refunds: each action's happy
//! path and one illegal transition (Stripe's message comes through).

use super::{customer_with_card, empty, error, get, id, one, payment_intent, post, writes};
use serde_json::json;

#[tokio::test]
async fn confirm_payment_intent_succeeds_then_refuses_a_second_confirm() {
    let e = empty();
    let (cus, pm) = customer_with_card(&e).await;
    let pi = id(&payment_intent(&e, json!({"customer": cus})).await);
    let row = one(&e, &format!("SELECT id, status, amount_received, payment_method FROM confirm_payment_intent('{pi}', payment_method => '{pm}')")).await;
    assert_eq!(
        (row["id"].as_str(), row["status"].as_str(), row["amount_received"].as_i64()),
        (Some(pi.as_str()), Some("succeeded"), Some(2000))
    );
    assert_eq!(row["payment_method"], json!(pm));
    let err = error(&e, &format!("SELECT * FROM confirm_payment_intent('{pi}')")).await;
    assert!(err.contains("You cannot confirm this PaymentIntent because it has a status of succeeded"), "{err}");
}

#[tokio::test]
async fn capture_payment_intent_partially_then_refuses_a_canceled_intent() {
    let e = empty();
    let (cus, pm) = customer_with_card(&e).await;
    let manual = json!({"customer": cus, "payment_method": pm, "capture_method": "manual", "confirm": true});
    let pi = id(&payment_intent(&e, manual.clone()).await);
    let row = one(
        &e,
        &format!("SELECT status, amount_received FROM capture_payment_intent('{pi}', amount_to_capture => 500)"),
    )
    .await;
    assert_eq!((row["status"].as_str(), row["amount_received"].as_i64()), (Some("succeeded"), Some(500)));
    let canceled = id(&payment_intent(&e, manual).await);
    post(&e, &format!("/v1/payment_intents/{canceled}/cancel"), json!({})).await;
    let err = error(&e, &format!("SELECT * FROM capture_payment_intent('{canceled}')")).await;
    assert!(err.contains("could not be captured because it has a status of canceled"), "{err}");
    assert!(err.contains("request id req_"), "the request id is reported: {err}");
}

#[tokio::test]
async fn cancel_payment_intent_with_a_reason_then_refuses_a_succeeded_intent() {
    let e = empty();
    let (cus, pm) = customer_with_card(&e).await;
    let open = id(&payment_intent(&e, json!({"customer": cus})).await);
    let row = one(&e, &format!("SELECT status, cancellation_reason FROM cancel_payment_intent('{open}', cancellation_reason => 'duplicate')")).await;
    assert_eq!((row["status"].as_str(), row["cancellation_reason"].as_str()), (Some("canceled"), Some("duplicate")));
    let done = id(&payment_intent(&e, json!({"customer": cus, "payment_method": pm, "confirm": true})).await);
    let err = error(&e, &format!("SELECT * FROM cancel_payment_intent('{done}')")).await;
    assert!(err.contains("You cannot cancel this PaymentIntent because it has a status of succeeded"), "{err}");
}

#[tokio::test]
async fn increment_authorization_raises_the_amount_then_refuses_a_succeeded_intent() {
    let e = empty();
    let (cus, pm) = customer_with_card(&e).await;
    let pi = id(&payment_intent(
        &e,
        json!({"customer": cus, "payment_method": pm, "capture_method": "manual", "confirm": true}),
    )
    .await);
    let row = one(
        &e,
        &format!(
            "SELECT amount, amount_capturable FROM increment_authorization_payment_intent('{pi}', amount => 3500)"
        ),
    )
    .await;
    assert_eq!((row["amount"].as_i64(), row["amount_capturable"].as_i64()), (Some(3500), Some(3500)));
    let before = writes(&e);
    let err = error(&e, &format!("SELECT * FROM increment_authorization_payment_intent('{pi}')")).await;
    assert!(err.contains("needs amount"), "a missing required param is refused before sending: {err}");
    assert_eq!(writes(&e), before);
    let done = id(&payment_intent(&e, json!({"customer": cus, "payment_method": pm, "confirm": true})).await);
    let err =
        error(&e, &format!("SELECT * FROM increment_authorization_payment_intent('{done}', amount => 5000)")).await;
    assert!(err.contains("could not be incremented because it has a status of succeeded"), "{err}");
}

#[tokio::test]
async fn attach_and_detach_payment_method() {
    let e = empty();
    let cus = id(&post(&e, "/v1/customers", json!({})).await);
    let other = id(&post(&e, "/v1/customers", json!({})).await);
    let card = json!({"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}});
    let pm = id(&post(&e, "/v1/payment_methods", card).await);
    let err = error(&e, &format!("SELECT * FROM detach_payment_method('{pm}')")).await;
    assert!(err.contains("detach_payment_method('") && err.contains("400"), "detaching an unattached method: {err}");
    let row = one(&e, &format!("SELECT id, customer FROM attach_payment_method('{pm}', customer => '{cus}')")).await;
    assert_eq!((row["id"].as_str(), row["customer"].as_str()), (Some(pm.as_str()), Some(cus.as_str())));
    let err = error(&e, &format!("SELECT * FROM attach_payment_method('{pm}', customer => '{other}')")).await;
    assert!(err.contains("attach_payment_method('") && err.contains("400"), "attaching to a second customer: {err}");
    let row = one(&e, &format!("SELECT id, customer FROM detach_payment_method('{pm}')")).await;
    assert_eq!((row["id"].as_str(), row.get("customer")), (Some(pm.as_str()), None), "customer is NULL after detach");
    assert!(get(&e, &format!("/v1/payment_methods/{pm}")).await["customer"].is_null());
}

#[tokio::test]
async fn capture_charge_then_refuses_a_second_capture() {
    let e = empty();
    let ch = id(&post(
        &e,
        "/v1/charges",
        json!({"amount": 5000, "currency": "usd", "source": "tok_visa", "capture": false}),
    )
    .await);
    let row = one(&e, &format!("SELECT captured, amount_captured FROM capture_charge('{ch}')")).await;
    assert_eq!((row["captured"].as_bool(), row["amount_captured"].as_i64()), (Some(true), Some(5000)));
    let err = error(&e, &format!("SELECT * FROM capture_charge('{ch}')")).await;
    assert!(err.contains("charge_already_captured"), "{err}");
}

#[tokio::test]
async fn refund_charge_returns_the_refund_then_refuses_too_much() {
    let e = empty();
    let ch = id(&post(&e, "/v1/charges", json!({"amount": 5000, "currency": "usd", "source": "tok_visa"})).await);
    let row = one(&e, &format!("SELECT id, object, amount, charge, status FROM refund_charge('{ch}', amount => 2000, reason => 'requested_by_customer')")).await;
    assert!(row["id"].as_str().unwrap().starts_with("re_"), "{row:?}");
    assert_eq!(
        (row["object"].as_str(), row["amount"].as_i64(), row["charge"].as_str()),
        (Some("refund"), Some(2000), Some(ch.as_str()))
    );
    assert_eq!(get(&e, &format!("/v1/charges/{ch}")).await["amount_refunded"], 2000);
    let err = error(&e, &format!("SELECT * FROM refund_charge('{ch}', amount => 3001)")).await;
    assert!(err.contains("refund_charge('") && err.contains("amount"), "{err}");
}

#[tokio::test]
async fn refund_payment_intent_then_refuses_an_intent_without_a_charge() {
    let e = empty();
    let (cus, pm) = customer_with_card(&e).await;
    let paid = id(&payment_intent(&e, json!({"customer": cus, "payment_method": pm, "confirm": true})).await);
    let row = one(&e, &format!("SELECT object, amount, payment_intent FROM refund_payment_intent('{paid}')")).await;
    assert_eq!(
        (row["object"].as_str(), row["amount"].as_i64(), row["payment_intent"].as_str()),
        (Some("refund"), Some(2000), Some(paid.as_str()))
    );
    let unpaid = id(&payment_intent(&e, json!({"customer": cus})).await);
    let err = error(&e, &format!("SELECT * FROM refund_payment_intent('{unpaid}')")).await;
    assert!(err.contains("does not have a successful charge to refund"), "{err}");
}

#[tokio::test]
async fn cancel_refund_then_refuses_a_succeeded_refund() {
    let e = empty();
    let ch = id(&post(&e, "/v1/charges", json!({"amount": 700, "currency": "usd", "source": "tok_mastercard"})).await);
    let pending = id(&post(&e, "/v1/refunds", json!({"charge": ch, "instructions_email": "a@example.com"})).await);
    let row = one(&e, &format!("SELECT id, status FROM cancel_refund('{pending}')")).await;
    assert_eq!(row["status"].as_str(), Some("canceled"));
    let ch2 = id(&post(&e, "/v1/charges", json!({"amount": 700, "currency": "usd", "source": "tok_visa"})).await);
    let done = id(&post(&e, "/v1/refunds", json!({"charge": ch2})).await);
    let err = error(&e, &format!("SELECT * FROM cancel_refund('{done}')")).await;
    assert!(err.contains("cancel_refund('") && err.contains("400"), "{err}");
}
