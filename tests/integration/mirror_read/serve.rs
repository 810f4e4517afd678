//! Freshness through the real `stripe-sql serve --mirror DIR --sync-interval`
//! binary, read by psycopg (tests/clients/pg_fresh.py): charges created and a
//! customer updated in the emulator reach `auto` queries within one sync
//! interval plus the step's own time, and four connections polling while the sync commits see the burst
//! either not at all or whole. The burst's events are held by the emulator and
//! released together, so one sync step (one Delta commit) applies all of them:
//! a reader seeing part of the burst would have read half a step.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::serve::support::{command, python_with};
use crate::sync::support::Account;

const BURST: usize = 12;
const INTERVAL_S: u64 = 1;

/// Runs the binary with the emulator's address and key, then `args`.
fn cli(account: &Account, home: &std::path::Path, args: &[&str]) -> std::process::Command {
    let base = account.emulator().base_url();
    let mut all = vec!["--api-base", base.as_str(), "--api-key", account.emulator().api_key()];
    all.extend_from_slice(args);
    command(&all, home)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_the_mirror_fresh_for_several_readers_and_no_reader_sees_half_a_step() {
    let account = Account::new();
    account.emulator().set_clock(None);
    let customer = account.customer("fresh@example.com").await;
    account.charge(&customer, 1000).await;
    let home = tempfile::tempdir().unwrap();
    let mirror = tempfile::tempdir().unwrap();
    let dir = mirror.path().to_str().unwrap();
    let out = cli(&account, home.path(), &["--mirror", dir, "sync", "--tables", "charges,customers", "--once"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "sync --once: {}", String::from_utf8_lossy(&out.stderr));

    let interval = format!("{INTERVAL_S}s");
    let args = ["--mirror", dir, "serve", "--listen", "127.0.0.1:0", "--sync-interval", interval.as_str()];
    let mut server = cli(&account, home.path(), &args).stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let line = lines.next().expect("a line").unwrap();
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    let port = line.split("listening on 127.0.0.1:").nth(1).and_then(|r| r.split_whitespace().next());
    let port = port.unwrap_or_else(|| panic!("unexpected line: {line}")).to_string();

    let ready = home.path().join("readers-ready");
    let readers = {
        let (port, ready, customer) = (port.clone(), ready.to_str().unwrap().to_string(), customer.clone());
        std::thread::spawn(move || {
            let want = BURST.to_string();
            python_with("psycopg", "pg_fresh.py", &[&port, &ready, &want, "60", &customer, "Fresh Name"]).ok().stdout
        })
    };
    let waited = Instant::now();
    while !ready.exists() {
        assert!(waited.elapsed() < Duration::from_secs(60), "the readers never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The burst: its events become listable together.
    account.emulator().hold_next_events(10_000);
    for _ in 0..BURST {
        let body = json!({"amount": 777, "currency": "usd", "customer": customer, "source": "tok_visa"});
        account.post("/v1/charges", body).await;
    }
    account.post(&format!("/v1/customers/{customer}"), json!({"name": "Fresh Name"})).await;
    account.emulator().hold_next_events(0);
    let released_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    assert!(account.emulator().release_events() >= BURST, "the burst's events were held");
    let report: Value = serde_json::from_str(readers.join().unwrap().trim()).unwrap();
    let _ = server.kill();
    let _ = server.wait();

    assert!(report["explain"].as_str().unwrap().contains("MirrorScanExec"), "auto reads the mirror: {report}");
    let first = report["first_want_at"].as_f64().unwrap_or_else(|| panic!("the burst never became visible: {report}"));
    let seen_after = first - released_at;
    println!("freshness through serve: the burst was visible {seen_after:.2} s after its events were released");
    // One interval until the next step starts, plus that step (events list,
    // merge, commit) on a loaded machine.
    assert!(seen_after < INTERVAL_S as f64 + 5.0, "visible after {seen_after:.2} s: {report}");
    for reader in report["seen"].as_array().unwrap() {
        let counts: Vec<u64> = reader.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert!(
            counts.iter().all(|&n| n == 0 || n == BURST as u64) && counts.last() == Some(&(BURST as u64)),
            "a reader saw part of one sync step: {counts:?} ({report})"
        );
    }
    let renamed = report["name_at"].as_f64().unwrap_or_else(|| panic!("the update never became visible: {report}"));
    assert!(renamed - released_at < INTERVAL_S as f64 + 5.0, "update visible after {:.2} s", renamed - released_at);
    assert!(report["queries"].as_u64().unwrap() > 4 * 3, "the readers polled while the sync ran: {report}");
}
