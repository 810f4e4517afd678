//! Helpers: an emulator account with a few customers and charges, mirrored
//! by one sync step into a temporary folder the engine then reads from.

use datafusion::arrow::record_batch::RecordBatch;
use stripe_sql::engine::Engine;

pub use crate::sync::support::{Account, rows_text};

/// An account with 2 customers and 5 charges, `tables` mirrored into a
/// temporary folder by one sync step, and the engine reading from it.
pub async fn mirrored(tables: &[&str]) -> (Account, tempfile::TempDir, Vec<String>) {
    let account = Account::new();
    let a = account.customer("a@example.com").await;
    let b = account.customer("b@example.com").await;
    let mut charges = Vec::new();
    for (i, amount) in [1000, 2000, 3000, 4000, 5000].into_iter().enumerate() {
        account.advance(60);
        charges.push(account.charge(if i % 2 == 0 { &a } else { &b }, amount).await);
    }
    account.advance(60);
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut syncer = account.syncer(tables, dir.path()).await;
    syncer.step(false).await.expect("sync step");
    account.engine.set_mirror(dir.path().to_path_buf());
    (account, dir, charges)
}

/// Runs `sql`, panicking with the statement on error.
pub async fn sql(engine: &Engine, sql: &str) -> Vec<RecordBatch> {
    engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The rows of `sql`, sorted, as text.
pub async fn rows(engine: &Engine, q: &str) -> Vec<Vec<String>> {
    rows_text(&sql(engine, q).await)
}

/// The text of `EXPLAIN sql`.
pub async fn explain(engine: &Engine, q: &str) -> String {
    rows(engine, &format!("EXPLAIN {q}")).await.into_iter().flatten().collect::<Vec<_>>().join("\n")
}

/// The calls the last statement made, as `METHOD path`.
pub async fn last_calls(engine: &Engine) -> Vec<String> {
    rows(engine, "SELECT method, path FROM stripe_last_requests()").await.into_iter().map(|r| r.join(" ")).collect()
}
