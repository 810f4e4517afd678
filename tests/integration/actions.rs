//! Actions as table functions, against the in-process emulator:
//! every listed action's happy path and one illegal transition, named and
//! JSON arguments, the bulk forms, and the safety rules (nothing is sent
//! while planning, under EXPLAIN, for LATERAL column references or bind
//! parameters).

mod billing;
mod forms;
mod localstripe;
mod payments;
mod safety;

use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Map, Value, json};
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;

/// An engine over a fresh, empty emulator.
pub fn empty() -> Engine {
    Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("engine over an empty emulator")
}

/// Result rows as JSON objects (column name → value).
pub fn json_rows(batches: &[RecordBatch]) -> Vec<Map<String, Value>> {
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    for b in batches {
        writer.write(b).expect("batch to json");
    }
    writer.finish().expect("json finish");
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return vec![];
    }
    serde_json::from_slice::<Vec<Map<String, Value>>>(&bytes).expect("json rows")
}

/// Runs `sql` and returns its rows as JSON objects.
pub async fn rows(engine: &Engine, sql: &str) -> Vec<Map<String, Value>> {
    match engine.sql(sql).await {
        Ok(b) => json_rows(&b),
        Err(e) => panic!("{sql}\nfailed: {e}"),
    }
}

/// Runs `sql`, which must return exactly one row, and returns it.
pub async fn one(engine: &Engine, sql: &str) -> Map<String, Value> {
    let mut r = rows(engine, sql).await;
    assert_eq!(r.len(), 1, "{sql} returned {r:?}");
    r.remove(0)
}

/// Runs `sql`, which must fail, and returns the error text.
pub async fn error(engine: &Engine, sql: &str) -> String {
    match engine.sql(sql).await {
        Ok(b) => panic!("{sql}\nshould fail, returned {:?}", json_rows(&b)),
        Err(e) => e.to_string(),
    }
}

/// Creates an object directly through the client (test setup, not under test).
pub async fn post(engine: &Engine, path: &str, body: Value) -> Value {
    engine.client().post(path, &body).await.unwrap_or_else(|e| panic!("setup POST {path} failed: {e}"))
}

/// Reads an object directly through the client.
pub async fn get(engine: &Engine, path: &str) -> Value {
    engine.client().get(path, &json!({})).await.unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
}

/// Number of write requests (POST/DELETE) in the request log so far.
pub fn writes(engine: &Engine) -> usize {
    engine.client().request_log().entries().iter().filter(|e| e.method != "GET").count()
}

/// The id field of a JSON object.
pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

/// A customer with a default card attached; returns (customer, payment method).
pub async fn customer_with_card(engine: &Engine) -> (String, String) {
    let cus = id(&post(engine, "/v1/customers", json!({"email": "actions@example.com"})).await);
    let pm = id(&post(engine, "/v1/payment_methods/pm_card_visa/attach", json!({"customer": cus})).await);
    post(engine, &format!("/v1/customers/{cus}"), json!({"invoice_settings": {"default_payment_method": pm}})).await;
    (cus, pm)
}

/// A payment intent for 2000 usd created with `extra` params.
pub async fn payment_intent(engine: &Engine, extra: Value) -> Value {
    let mut body = json!({"amount": 2000, "currency": "usd"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    post(engine, "/v1/payment_intents", body).await
}
