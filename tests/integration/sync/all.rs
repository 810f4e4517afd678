//! `stripe-sql sync --all --once`: the real binary mirrors every table that
//! can be mirrored from an account with a few of everything, skipping (and
//! naming) those the account cannot list, and every mirrored table then equals
//! a live full scan, row for row.

use std::sync::Arc;

use serde_json::json;
use stripe_sql::sync::{Syncer, Target, progress};

use super::support::*;
use crate::cli::support::command;

#[tokio::test]
async fn sync_all_mirrors_every_table_exactly() {
    let a = Account::new();
    a.emulator().set_clock(None);
    for i in 0..3 {
        let cus = a.customer(&format!("all{i}@sync.test")).await;
        let charge = a.charge(&cus, 1500 + i).await;
        a.post("/v1/refunds", json!({"charge": charge, "amount": 500})).await;
        a.invoice(&cus, 2).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = a.emulator().base_url();
    let to = dir.path().join("mirror");
    let to = to.to_str().unwrap();
    let args = ["--api-base", &base, "--api-key", a.emulator().api_key(), "sync", "--all", "--to", to, "--once"];
    let out = command(&args, home.path()).stdin(std::process::Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sync --all: {stderr}");
    // The emulator, like an account without Connect, has no application fees:
    // --all skips what the account cannot list, and says so.
    assert!(stderr.contains("application_fees: skipped, this account cannot list it"), "{stderr}");
    // Named on purpose, the same table is an error.
    let only = ["--api-base", &base, "--api-key", a.emulator().api_key(), "sync", "--tables", "application_fees"];
    let named = command(&[&only[..], &["--to", to, "--once"]].concat(), home.path()).output().unwrap();
    assert!(!named.status.success(), "{}", String::from_utf8_lossy(&named.stdout));

    // The mirror holds the tables the account could list, each a Delta table.
    let mut mirrored: Vec<String> = std::fs::read_dir(to)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("_delta_log").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    mirrored.sort();
    // A skipped table never started its backfill (no commit of it).
    let started: Vec<String> = {
        let all = open(&a, &mirrored, to).await;
        all.plans().iter().map(|p| p.name().to_string()).filter(|t| all.state(t).unwrap().step > 0).collect()
    };
    assert!(!started.iter().any(|t| t == "application_fees"), "a skipped table was synced: {started:?}");
    let sync = open(&a, &started, to).await;
    let tables = sync.plans().len();
    assert!(tables > 10, "--all mirrors every mirrorable table, got {tables}");
    for plan in sync.plans() {
        assert!(sync.state(plan.name()).unwrap().backfill.is_none(), "{} is backfilled", plan.name());
    }
    let rows = assert_exact(&a.engine, &sync).await;
    assert!(rows >= 3 * 5, "compared {rows} rows over {tables} tables");
}

async fn open(a: &Account, tables: &[String], dir: &str) -> Syncer {
    Syncer::open(Arc::clone(&a.engine), Some(tables), Target::Dir(dir.into()), a.options(), progress::quiet())
        .await
        .expect("the mirror opens")
}
