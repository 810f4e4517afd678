//! `stripe-sql sync --all --once`: the real binary mirrors every table that
//! can be mirrored from an account with a few of everything, and every one of
//! them then equals a live full scan, row for row.

use std::sync::Arc;

use serde_json::json;
use stripe_sql::sync::{Syncer, Target, progress};

use super::support::*;
use crate::cli::support::command;

#[tokio::test]
#[ignore = "fails today: sync --all stops at the first table the emulator does not serve \
            (GET /v1/application_fees answers 404); the emulator must list every mirrorable table \
            (empty is fine) or sync must say which tables it skipped"]
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
    assert!(out.status.success(), "sync --all: {}", String::from_utf8_lossy(&out.stderr));

    let sync = Syncer::open(Arc::clone(&a.engine), None, Target::Dir(to.into()), a.options(), progress::quiet())
        .await
        .expect("the mirror opens");
    let tables = sync.plans().len();
    assert!(tables > 10, "--all mirrors every mirrorable table, got {tables}");
    for plan in sync.plans() {
        assert!(sync.state(plan.name()).unwrap().backfill.is_none(), "{} is backfilled", plan.name());
    }
    let rows = assert_exact(&a.engine, &sync).await;
    assert!(rows >= 3 * 5, "compared {rows} rows over {tables} tables");
}
