//! Bad input fails with a clear message before any data call (unknown table, a
//! nested table without its parent, another account's folder, a key that
//! cannot read events), and `stripe_mirror_status()` reports each table.

use serde_json::json;

use super::support::*;
use crate::cli::support::command;

/// Runs `stripe-sql sync ARGS` against `a`'s emulator with `key`; (exit code, stderr).
fn sync_cli(a: &Account, key: &str, args: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let base = a.emulator().base_url();
    let mut all = vec!["--api-base", &base, "--api-key", key, "sync", "--once"];
    all.extend_from_slice(args);
    let out = command(&all, home.path()).stdin(std::process::Stdio::null()).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn bad_tables_fail_before_any_call() {
    let a = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().to_str().unwrap();
    let key = a.emulator().api_key();
    let (code, err) = sync_cli(&a, key, &["--tables", "customers,chargse", "--to", to]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown table chargse: did you mean charges"), "{err}");
    let (code, err) = sync_cli(&a, key, &["--tables", "invoice_lines", "--to", to]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("invoice_lines is listed per invoice: mirror its parent too (--tables invoices,invoice_lines)"),
        "{err}"
    );
    assert_eq!(a.emulator().requests_received(), 0, "no call was made");
}

#[tokio::test]
async fn another_accounts_folder_and_a_key_without_events_are_refused() {
    let a = Account::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mirror.json"), r#"{"account": "acct_someoneelse", "api_version": "2023-08-16"}"#)
        .unwrap();
    let to = dir.path().to_str().unwrap();
    let (code, err) = sync_cli(&a, a.emulator().api_key(), &["--tables", "customers", "--to", to]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds the mirror of account acct_someoneelse, not acct_"), "{err}");
    assert!(!dir.path().join("customers").exists(), "nothing was written");

    let fresh = tempfile::tempdir().unwrap();
    let to = fresh.path().join("m");
    let (code, err) = sync_cli(&a, "rk_test_noevents0000", &["--tables", "customers", "--to", to.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot follow events: the key cannot read events"), "{err}");
    assert!(!err.contains("rk_test_noevents0000"), "the key is never printed: {err}");
    assert!(!to.exists(), "nothing was written");
}

#[tokio::test]
async fn mirror_status_reports_rows_cursor_events_and_repairs() {
    let a = Account::new();
    let cus = a.customer("s@sync.test").await;
    a.charge(&cus, 500).await;
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(&["customers", "balance_transactions"], dir.path()).await;
    sync.step(false).await.unwrap();
    a.advance(10);
    a.post(&format!("/v1/customers/{cus}"), json!({"name": "S"})).await;
    sync.step(false).await.unwrap();
    sync.reconcile().await.unwrap();

    a.engine.set_mirror_root(dir.path().to_path_buf());
    let sql = "SELECT table_name, rows, phase, last_event IS NOT NULL AS has_event, cursor, last_repairs, \
               reconciled_at IS NOT NULL AS reconciled, last_error FROM stripe_mirror_status() ORDER BY table_name";
    let rows = rows_text(&a.engine.sql(sql).await.unwrap());
    let bt_cursor = "2024-01-01T00:00:00Z".to_string();
    assert_eq!(
        rows,
        vec![
            vec!["balance_transactions", "1", "follow", "false", &bt_cursor, "0", "true", "NULL"],
            vec!["customers", "1", "follow", "true", "2024-01-01T00:00:10Z", "0", "true", "NULL"],
        ]
    );
    // Lag is since the last complete step (wall clock, just now), not since
    // the last event (the emulator's 2024 clock): both tables are fresh.
    let lag = "SELECT table_name, lag_seconds BETWEEN 0 AND 30 FROM stripe_mirror_status() ORDER BY table_name";
    let fresh = rows_text(&a.engine.sql(lag).await.unwrap());
    assert_eq!(fresh, vec![vec!["balance_transactions", "true"], vec!["customers", "true"]]);
    // A table that never completed a step has no lag yet.
    let mut other = a.syncer(&["charges"], dir.path()).await;
    other.stop_flag().store(true, std::sync::atomic::Ordering::Relaxed);
    other.step(false).await.unwrap();
    let none = "SELECT lag_seconds IS NULL FROM stripe_mirror_status() WHERE table_name = 'charges'";
    assert_eq!(rows_text(&a.engine.sql(none).await.unwrap()), vec![vec!["true"]]);
}
