//! Reliability: third-party peer conformance through SQL, request
//! conformance against the OpenAPI spec, fault injection and hostile input
//! (the planner's bounded fuzzing is a unit test of the engine's pushdown).

mod conformance;
mod conformance_suite;
mod faults;
mod hostile;
mod peer_localstripe;
mod peer_stateful_mock;
use crate::peers;

use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Map, Value};
use stripe_sql::engine::Engine;

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
    serde_json::from_slice(&bytes).expect("json rows")
}

/// Runs `sql`, panicking with the statement and the error when it fails.
pub async fn rows(engine: &Engine, sql: &str) -> Vec<Map<String, Value>> {
    match engine.sql(sql).await {
        Ok(b) => json_rows(&b),
        Err(e) => panic!("{sql}\nfailed: {e}"),
    }
}

/// The single row of `sql`.
pub async fn one(engine: &Engine, sql: &str) -> Map<String, Value> {
    let mut r = rows(engine, sql).await;
    assert_eq!(r.len(), 1, "{sql} returned {r:?}");
    r.remove(0)
}

/// The error `sql` fails with (panics when it succeeds).
pub async fn error(engine: &Engine, sql: &str) -> String {
    match engine.sql(sql).await {
        Ok(b) => panic!("{sql}\nshould have failed, returned {:?}", json_rows(&b)),
        Err(e) => e.to_string(),
    }
}

/// A string field of a row.
pub fn s(row: &Map<String, Value>, k: &str) -> String {
    row.get(k).and_then(Value::as_str).unwrap_or_default().to_string()
}
