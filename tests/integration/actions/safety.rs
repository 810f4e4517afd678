//! The safety rules: planning never sends (EXPLAIN, a planned DataFrame that
//! is never collected), arguments must be constants (LATERAL column
//! references, bind parameters, correlated subqueries are errors), and a
//! live key refuses actions unless writes are allowed.

use super::{customer_with_card, empty, error, id, payment_intent, rows, writes};
use serde_json::json;
use stripe_sql::engine::Engine;

async fn capturable(e: &Engine) -> String {
    let (cus, pm) = customer_with_card(e).await;
    id(&payment_intent(e, json!({"customer": cus, "payment_method": pm, "capture_method": "manual", "confirm": true}))
        .await)
}

async fn status(e: &Engine, pi: &str) -> String {
    rows(e, &format!("SELECT status FROM payment_intents WHERE id = '{pi}'")).await[0]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn explain_sends_nothing_but_explain_analyze_runs() {
    let e = empty();
    let pi = capturable(&e).await;
    let before = writes(&e);
    for sql in [
        format!("EXPLAIN SELECT * FROM capture_payment_intent('{pi}', amount_to_capture => 100)"),
        format!("EXPLAIN VERBOSE SELECT * FROM capture_payment_intent('{pi}')"),
        "EXPLAIN SELECT * FROM cancel_payment_intent((SELECT id FROM payment_intents))".to_string(),
    ] {
        let plan = rows(&e, &sql).await;
        let text = format!("{plan:?}");
        assert!(text.contains("ActionExec"), "{sql}: {text}");
    }
    assert_eq!(writes(&e), before, "EXPLAIN sent a write");
    assert_eq!(status(&e, &pi).await, "requires_capture");
    rows(&e, &format!("EXPLAIN ANALYZE SELECT * FROM capture_payment_intent('{pi}')")).await;
    assert_eq!(writes(&e), before + 1, "EXPLAIN ANALYZE executes the plan, so it acts");
}

#[tokio::test]
async fn a_planned_but_unexecuted_statement_sends_nothing() {
    let e = empty();
    let pi = capturable(&e).await;
    let before = writes(&e);
    let df =
        e.dataframe(&format!("SELECT * FROM capture_payment_intent('{pi}', amount_to_capture => 100)")).await.unwrap();
    let _physical = df.clone().create_physical_plan().await.unwrap();
    let _logical =
        e.context().state().create_logical_plan(&format!("SELECT * FROM cancel_payment_intent('{pi}')")).await.unwrap();
    assert_eq!(writes(&e), before);
    assert_eq!(status(&e, &pi).await, "requires_capture");
    drop(df);
    assert_eq!(writes(&e), before);
}

#[tokio::test]
async fn lateral_column_references_are_refused_and_never_sent() {
    let e = empty();
    let pi = capturable(&e).await;
    let before = writes(&e);
    for sql in [
        "SELECT * FROM payment_intents p, LATERAL capture_payment_intent(p.id)",
        "SELECT * FROM payment_intents p CROSS JOIN LATERAL cancel_payment_intent(p.id)",
        "SELECT * FROM payment_intents p JOIN LATERAL cancel_payment_intent(p.id) ON true",
        "SELECT * FROM payment_intents p CROSS JOIN LATERAL (SELECT * FROM cancel_payment_intent(p.id))",
    ] {
        let err = error(&e, sql).await;
        assert!(err.contains("column reference") && err.contains("(SELECT id FROM"), "{sql}: {err}");
    }
    // Inside a named argument DataFusion itself rejects the column (it types named_struct first).
    let err = error(
        &e,
        "SELECT * FROM payment_intents p, LATERAL capture_payment_intent('pi_1', amount_to_capture => p.amount)",
    )
    .await;
    assert!(err.contains("p.amount"), "{err}");
    let err = error(&e, "SELECT * FROM payment_intents p, LATERAL cancel_payment_intent((SELECT id FROM payment_intents q WHERE q.id = p.id))").await;
    assert!(err.contains("cancel_payment_intent"), "a correlated id subquery is refused: {err}");
    assert_eq!(writes(&e), before);
    assert_eq!(status(&e, &pi).await, "requires_capture");
}

#[tokio::test]
async fn bind_parameters_are_refused_and_never_sent() {
    let e = empty();
    let pi = capturable(&e).await;
    let before = writes(&e);
    let err = error(&e, "PREPARE cap(VARCHAR) AS SELECT * FROM capture_payment_intent($1)").await;
    assert!(err.contains("$1 is a bind parameter"), "{err}");
    let err = error(&e, &format!("SELECT * FROM capture_payment_intent('{pi}', amount_to_capture => $1)")).await;
    assert!(err.contains("$1 is a bind parameter"), "{err}");
    assert_eq!(writes(&e), before);
    assert_eq!(status(&e, &pi).await, "requires_capture");
}

#[tokio::test]
async fn live_keys_refuse_actions_unless_writes_are_allowed() {
    let key = stripe_sql::stripe::ApiKey::parse("sk_live_actionstest1").unwrap();
    let mut config = stripe_sql::stripe::ClientConfig::new(key);
    // Nothing listens here: the test proves the refusal happens before any request.
    config.api_base = "http://127.0.0.1:9".into();
    config.max_retries = 0;
    let e = Engine::new(stripe_sql::stripe::Client::new(config).unwrap()).unwrap();
    let err = error(&e, "SELECT * FROM capture_payment_intent('pi_1')").await;
    assert!(err.contains("live stripe account") && err.contains("--allow-live-writes"), "{err}");
    assert!(!err.contains("actionstest1"), "the key never appears in errors");
    assert!(e.client().request_log().entries().is_empty());
    assert!(
        e.sql("SET stripe.allow_live_writes = true").await.is_err(),
        "a SQL statement cannot lift the live-key guard"
    );
    e.set_allow_live_writes(true);
    let err = error(&e, "SELECT * FROM capture_payment_intent('pi_1')").await;
    assert!(err.contains("could not reach stripe"), "with writes allowed the call is attempted: {err}");
}

#[tokio::test]
async fn plans_proven_empty_never_execute_the_action() {
    let e = empty();
    let pi = capturable(&e).await;
    let before = writes(&e);
    for sql in [
        format!("SELECT * FROM capture_payment_intent('{pi}') WHERE false"),
        format!("SELECT * FROM capture_payment_intent('{pi}') LIMIT 0"),
    ] {
        assert!(rows(&e, &sql).await.is_empty(), "{sql}");
    }
    assert_eq!(writes(&e), before);
    assert_eq!(status(&e, &pi).await, "requires_capture");
    let n = rows(&e, &format!("SELECT count(*) AS n FROM capture_payment_intent('{pi}') LIMIT 1")).await;
    assert_eq!(n[0]["n"], 1, "an aggregate over the action still runs it once");
    assert_eq!((writes(&e), status(&e, &pi).await.as_str()), (before + 1, "succeeded"));
}
