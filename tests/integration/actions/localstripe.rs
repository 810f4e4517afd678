//! The payment intent and payment method actions against localstripe (a
//! third-party stateful fake Stripe, started here on 127.0.0.1 and stopped
//! when the test ends). Needs `tests/peers/install.sh` to have run.

use super::{error, id, one, post, writes};
use serde_json::json;
use stripe_sql::engine::Engine;

async fn card(e: &Engine) -> String {
    let body = json!({"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}});
    id(&post(e, "/v1/payment_methods", body).await)
}

#[tokio::test]
async fn payment_intent_and_payment_method_actions_run_against_localstripe() {
    let peer = crate::peers::localstripe().await;
    let e = crate::peers::engine(&peer, 0);
    let cus = id(&post(&e, "/v1/customers", json!({"email": "peer@example.com"})).await);
    let pm = card(&e).await;

    let row = one(&e, &format!("SELECT id, customer FROM attach_payment_method('{pm}', customer => '{cus}')")).await;
    assert_eq!((row["id"].as_str(), row["customer"].as_str()), (Some(pm.as_str()), Some(cus.as_str())));

    let new_pi = |capture: &'static str| {
        let (e, cus, pm) = (&e, cus.clone(), pm.clone());
        async move {
            id(&post(e, "/v1/payment_intents", json!({"amount": 1500, "currency": "eur", "customer": cus, "payment_method": pm, "capture_method": capture})).await)
        }
    };
    let pi = new_pi("automatic").await;
    assert_eq!(one(&e, &format!("SELECT status FROM confirm_payment_intent('{pi}')")).await["status"], "succeeded");
    let err = error(&e, &format!("SELECT * FROM confirm_payment_intent('{pi}')")).await;
    assert!(err.contains("confirm_payment_intent('") && err.contains("400"), "{err}");
    let err = error(&e, &format!("SELECT * FROM cancel_payment_intent('{pi}')")).await;
    assert!(err.contains("cancel_payment_intent('") && err.contains("400"), "canceling a succeeded intent: {err}");

    let manual = new_pi("manual").await;
    assert_eq!(
        one(&e, &format!("SELECT status FROM confirm_payment_intent('{manual}')")).await["status"],
        "requires_capture"
    );
    let row =
        one(&e, &format!("SELECT id, status FROM capture_payment_intent('{manual}', amount_to_capture => 1000)")).await;
    assert_eq!((row["id"].as_str(), row["status"].as_str()), (Some(manual.as_str()), Some("succeeded")), "{row:?}");
    let sent = e.client().request_log().entries().last().cloned().unwrap();
    assert_eq!(
        (sent.path.clone(), sent.param("amount_to_capture").map(String::from)),
        (format!("/v1/payment_intents/{manual}/capture"), Some("1000".into()))
    );

    let open = new_pi("automatic").await;
    assert_eq!(one(&e, &format!("SELECT status FROM cancel_payment_intent('{open}')")).await["status"], "canceled");

    let row = one(&e, &format!("SELECT id, customer FROM detach_payment_method('{pm}')")).await;
    assert_eq!((row["id"].as_str(), row.get("customer")), (Some(pm.as_str()), None));

    let before = writes(&e);
    rows_explain(&e, &format!("EXPLAIN SELECT * FROM capture_payment_intent('{manual}')")).await;
    assert_eq!(writes(&e), before, "EXPLAIN sends nothing to localstripe either");
}

async fn rows_explain(e: &Engine, sql: &str) {
    let plan = super::rows(e, sql).await;
    assert!(format!("{plan:?}").contains("ActionExec"), "{plan:?}");
}
