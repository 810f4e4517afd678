//! Helpers: an engine over an empty emulator with a frozen clock, inserting
//! customers, and reading a poll's columns as text.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::stripe::ClientConfig;

/// A second the tests freeze the emulator's clock at (2024-01-01T00:00:00Z).
pub const T0: i64 = 1_704_067_200;

/// An engine over an empty emulator whose clock is frozen at `T0`.
pub fn engine() -> Arc<Engine> {
    engine_with(|_| {})
}

/// `engine` with the client adjusted by `tune`.
pub fn engine_with(tune: impl FnOnce(&mut ClientConfig)) -> Arc<Engine> {
    let engine = Engine::with_emulator(EmulatorConfig::default(), tune).expect("emulator starts");
    set_clock(&engine, T0);
    Arc::new(engine)
}

/// Freezes the emulator's clock at `second`.
pub fn set_clock(engine: &Engine, second: i64) {
    engine.emulator().expect("in-process emulator").set_clock(Some(second));
}

/// Creates one customer per email (one statement).
pub async fn insert_customers(engine: &Engine, emails: &[String]) {
    if emails.is_empty() {
        return;
    }
    let values: Vec<String> = emails.iter().map(|e| format!("('{e}')")).collect();
    let sql = format!("INSERT INTO customers (email) VALUES {}", values.join(", "));
    engine.sql(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `prefix0@watch.test` … `prefix{n-1}@watch.test`.
pub fn emails(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}@watch.test")).collect()
}

/// The values of column `name` across `batches`, as text (NULL as "NULL").
pub fn column(batches: &[RecordBatch], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let col = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name} in {:?}", b.schema()));
        let text = cast(col, &DataType::Utf8).expect("cast to text");
        let text = text.as_any().downcast_ref::<StringArray>().expect("strings");
        for i in 0..text.len() {
            out.push(if text.is_valid(i) { text.value(i).to_string() } else { "NULL".to_string() });
        }
    }
    out
}

/// The sorted set of `values`, asserting none repeats.
pub fn distinct_sorted(values: &[String]) -> Vec<String> {
    let mut v = values.to_vec();
    v.sort();
    let before = v.len();
    v.dedup();
    assert_eq!(v.len(), before, "a value was emitted twice: {values:?}");
    v
}

/// The id of the customer with `email`.
pub async fn customer_id(engine: &Engine, email: &str) -> String {
    let batches = engine.sql(&format!("SELECT id FROM customers WHERE email = '{email}'")).await.expect("lookup");
    column(&batches, "id").pop().unwrap_or_else(|| panic!("no customer {email}"))
}
