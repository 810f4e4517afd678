//! Flight SQL answers from the mirror: `stripe-sql serve --mirror DIR
//! --flight-sql` reads a mirrored table from Delta with no API call and says
//! so in EXPLAIN, while `SET stripe.source = 'live'` on the same connection
//! reads Stripe (and sees what the mirror does not hold yet).

use serde_json::{Value, json};

use super::support::mirrored;
use crate::serve::support::{python_with, start_over};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_sql_reads_the_mirror_and_live_on_request() {
    let (account, dir, charges) = mirrored(&["charges", "customers"]).await;
    // Created after the sync: only a live read sees it.
    let late = account.customer("late@example.com").await;
    account.charge(&late, 999).await;

    let base = account.emulator().base_url();
    let mirror = dir.path().to_str().unwrap();
    let args = [
        "--api-base",
        base.as_str(),
        "--api-key",
        account.emulator().api_key(),
        "--mirror",
        mirror,
        "--flight-sql",
        "127.0.0.1:0",
    ];
    let (server, _) = start_over(&args, &[], true);
    let cases = json!([
        {"name": "source_mirror", "sql": "SET stripe.source = 'mirror'"},
        {"name": "mirror_count", "sql": "select count(*) as n from charges"},
        {"name": "mirror_calls", "sql": "select count(*) as n from stripe_last_requests()"},
        {"name": "explain", "sql": "explain select count(*) from charges"},
        {"name": "source_live", "sql": "SET stripe.source = 'live'"},
        {"name": "live_count", "sql": "select count(*) as n from charges"},
        {"name": "live_calls", "sql": "select count(*) as n from stripe_last_requests()"},
    ]);
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("cases.json");
    std::fs::write(&file, cases.to_string()).unwrap();
    let uri = format!("grpc://127.0.0.1:{}", server.addr.port());
    let out =
        python_with("adbc_driver_flightsql.dbapi", "arrow_python.py", &["flight_errors", &uri, file.to_str().unwrap()])
            .ok();
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    assert!(v["errors"].as_object().unwrap().values().all(Value::is_null), "{v}");
    let n = |name: &str| v["rows"][name][0]["n"].as_i64().unwrap_or_else(|| panic!("{name}: {v}"));
    assert_eq!(n("mirror_count"), charges.len() as i64, "the mirror's charges: {v}");
    assert_eq!(n("mirror_calls"), 0, "a mirror read calls no API: {v}");
    let plan = v["rows"]["explain"].to_string();
    assert!(plan.contains("MirrorScanExec"), "EXPLAIN names the mirror: {plan}");
    assert_eq!(n("live_count"), charges.len() as i64 + 1, "live sees the charge made after the sync: {v}");
    assert!(n("live_calls") > 0, "a live read calls Stripe: {v}");
}
