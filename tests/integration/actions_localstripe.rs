//! The payment intent and payment method actions against localstripe (a
//! third-party stateful fake Stripe, started here on 127.0.0.1 and stopped
//! when the test ends). Needs `tests/peers/install.sh` to have run.

use super::{error, id, one, post, writes};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use stripe_sql::engine::Engine;

/// A running localstripe; killed on drop.
struct LocalStripe {
    child: Child,
    base: String,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start() -> LocalStripe {
    let peers = std::env::var("STRIPE_SQL_PEERS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/stripe-sql-peers",
            std::env::var("HOME").unwrap_or_else(|_| "/root".into())
        )
    });
    let python = format!("{peers}/venv/bin/python");
    assert!(
        std::path::Path::new(&python).exists(),
        "localstripe is not installed ({python} missing): run tests/peers/install.sh"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        "from aiohttp import web; from localstripe import server, resources; \
         resources.Store.dump_to_disk=lambda self: None; \
         web.run_app(server.app, host='127.0.0.1', port={port}, access_log=None, print=None)"
    );
    let child = Command::new(&python)
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start localstripe");
    let peer = LocalStripe {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "localstripe did not start on {}",
            peer.base
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peer
}

fn engine(peer: &LocalStripe) -> Engine {
    let key = stripe_sql::stripe::ApiKey::parse("sk_test_actionspeer").unwrap();
    let mut config = stripe_sql::stripe::ClientConfig::new(key);
    config.api_base = peer.base.clone();
    config.max_rps = 0.0;
    config.endpoint_rps = 0.0;
    config.max_retries = 0;
    Engine::new(stripe_sql::stripe::Client::new(config).unwrap()).unwrap()
}

async fn card(e: &Engine) -> String {
    let body = json!({"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}});
    id(&post(e, "/v1/payment_methods", body).await)
}

#[tokio::test]
async fn payment_intent_and_payment_method_actions_run_against_localstripe() {
    let peer = start().await;
    let e = engine(&peer);
    let cus = id(&post(&e, "/v1/customers", json!({"email": "peer@example.com"})).await);
    let pm = card(&e).await;

    let row = one(
        &e,
        &format!("SELECT id, customer FROM attach_payment_method('{pm}', customer => '{cus}')"),
    )
    .await;
    assert_eq!(
        (row["id"].as_str(), row["customer"].as_str()),
        (Some(pm.as_str()), Some(cus.as_str()))
    );

    let new_pi = |capture: &'static str| {
        let (e, cus, pm) = (&e, cus.clone(), pm.clone());
        async move {
            id(&post(e, "/v1/payment_intents", json!({"amount": 1500, "currency": "eur", "customer": cus, "payment_method": pm, "capture_method": capture})).await)
        }
    };
    let pi = new_pi("automatic").await;
    assert_eq!(
        one(
            &e,
            &format!("SELECT status FROM confirm_payment_intent('{pi}')")
        )
        .await["status"],
        "succeeded"
    );
    let err = error(&e, &format!("SELECT * FROM confirm_payment_intent('{pi}')")).await;
    assert!(
        err.contains("confirm_payment_intent('") && err.contains("400"),
        "{err}"
    );
    let err = error(&e, &format!("SELECT * FROM cancel_payment_intent('{pi}')")).await;
    assert!(
        err.contains("cancel_payment_intent('") && err.contains("400"),
        "canceling a succeeded intent: {err}"
    );

    let manual = new_pi("manual").await;
    assert_eq!(
        one(
            &e,
            &format!("SELECT status FROM confirm_payment_intent('{manual}')")
        )
        .await["status"],
        "requires_capture"
    );
    let row = one(
        &e,
        &format!(
            "SELECT id, status FROM capture_payment_intent('{manual}', amount_to_capture => 1000)"
        ),
    )
    .await;
    assert_eq!(
        (row["id"].as_str(), row["status"].as_str()),
        (Some(manual.as_str()), Some("succeeded")),
        "{row:?}"
    );
    let sent = e.client().request_log().entries().last().cloned().unwrap();
    assert_eq!(
        (
            sent.path.clone(),
            sent.param("amount_to_capture").map(String::from)
        ),
        (
            format!("/v1/payment_intents/{manual}/capture"),
            Some("1000".into())
        )
    );

    let open = new_pi("automatic").await;
    assert_eq!(
        one(
            &e,
            &format!("SELECT status FROM cancel_payment_intent('{open}')")
        )
        .await["status"],
        "canceled"
    );

    let row = one(
        &e,
        &format!("SELECT id, customer FROM detach_payment_method('{pm}')"),
    )
    .await;
    assert_eq!(
        (row["id"].as_str(), row.get("customer")),
        (Some(pm.as_str()), None)
    );

    let before = writes(&e);
    rows_explain(
        &e,
        &format!("EXPLAIN SELECT * FROM capture_payment_intent('{manual}')"),
    )
    .await;
    assert_eq!(
        writes(&e),
        before,
        "EXPLAIN sends nothing to localstripe either"
    );
}

async fn rows_explain(e: &Engine, sql: &str) {
    let plan = super::rows(e, sql).await;
    assert!(format!("{plan:?}").contains("ActionExec"), "{plan:?}");
}
