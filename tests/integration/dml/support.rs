//! Helpers for the DML tests.

use datafusion::arrow::array::{Array, StringArray, UInt64Array};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::stripe::LogEntry;

/// An engine over an empty emulator.
pub fn empty() -> Engine {
    Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("emulator starts")
}

/// Runs `sql` and returns the DML count.
pub async fn count(engine: &Engine, sql: &str) -> u64 {
    let batches = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let column = batches[0].column(0).as_any().downcast_ref::<UInt64Array>().expect("count column");
    column.value(0)
}

/// Runs `sql`, expecting an error; returns its message.
pub async fn error(engine: &Engine, sql: &str) -> String {
    match engine.sql(sql).await {
        Ok(b) => panic!("{sql} succeeded: {b:?}"),
        Err(e) => e.to_string(),
    }
}

/// Every cell of `sql`'s result as text, row by row.
pub async fn rows(engine: &Engine, sql: &str) -> Vec<Vec<String>> {
    let batches = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    text(&batches)
}

/// Batches as text rows.
pub fn text(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in batches {
        let formatters: Vec<_> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap()).collect();
        for r in 0..b.num_rows() {
            out.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

/// The first column of `sql`'s result as strings.
pub async fn strings(engine: &Engine, sql: &str) -> Vec<String> {
    let batches = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    for b in &batches {
        let c = b.column(0).as_any().downcast_ref::<StringArray>().expect("text column");
        out.extend((0..c.len()).map(|i| c.value(i).to_string()));
    }
    out
}

/// Log entries that write (POST or DELETE).
pub fn writes(engine: &Engine) -> Vec<LogEntry> {
    engine.client().request_log().entries().into_iter().filter(|e| e.method != "GET").collect()
}

/// Number of requests logged so far.
pub fn logged(engine: &Engine) -> usize {
    engine.client().request_log().len()
}
