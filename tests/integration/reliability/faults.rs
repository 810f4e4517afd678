//! Fault injection through SQL against the emulator. Reads under 429 storms, 5xx
//! bursts, latency spikes, hung and stalled responses, truncated JSON and dropped
//! connections either return exactly the clean run's rows or fail with a clear
//! error. Writes under the same faults are never duplicated and never lost
//! silently: every object on the emulator afterwards is one the statement reported
//! as written, once.

use std::collections::BTreeMap;
use std::time::Duration;

use stripe_sql::emulator::{Emulator, EmulatorConfig};
use stripe_sql::engine::Engine;

use super::json_rows;

fn engine(seed: u64) -> Engine {
    Engine::with_emulator(EmulatorConfig { seed, ..EmulatorConfig::demo() }, |c| {
        c.max_retries = 3;
        c.retry_base_delay = Duration::from_millis(10);
        c.retry_max_delay = Duration::from_millis(40);
        c.request_timeout = Duration::from_millis(800);
        c.max_rps = 0.0;
        c.endpoint_rps = 0.0;
    })
    .unwrap()
}

const READS: &[&str] = &[
    "SELECT id, email, name FROM customers ORDER BY id",
    "SELECT id, amount, status FROM charges WHERE status = 'succeeded' ORDER BY id",
    "SELECT count(*) AS n, sum(amount_due) AS due FROM invoices",
    "SELECT id, status FROM subscriptions WHERE status = 'active' ORDER BY id LIMIT 7",
    "SELECT c.id, count(p.id) AS n FROM customers c JOIN payment_intents p ON p.customer = c.id GROUP BY c.id ORDER BY c.id LIMIT 5",
];

/// A clear error names what failed: a status, a timeout, the connection or the body.
fn is_clear(err: &str) -> bool {
    let e = err.to_lowercase();
    ["429", "500", "502", "503", "timed out", "could not reach", "unreadable", "rate limit", "connection"]
        .iter()
        .any(|k| e.contains(k))
}

/// Failed attempts in the log (the faults the client actually met).
fn failed_attempts(e: &Engine) -> usize {
    e.client()
        .request_log()
        .entries()
        .iter()
        .filter(|x| x.error.is_some() || x.status.is_none_or(|s| s == 429 || s >= 500))
        .count()
}

async fn run_reads(e: &Engine) -> Vec<Result<String, String>> {
    let mut out = vec![];
    for sql in READS {
        out.push(match e.sql(sql).await {
            Ok(b) => Ok(serde_json::to_string(&json_rows(&b)).unwrap()),
            Err(err) => Err(err.to_string()),
        });
    }
    out
}

type Inject = fn(&Emulator);

fn scenarios() -> Vec<(&'static str, Inject)> {
    vec![
        ("429 storm", |m| m.fail_next(6, 429)),
        ("5xx burst", |m| {
            m.fail_next(2, 500);
            m.fail_next(2, 502);
            m.fail_next(1, 503);
        }),
        ("latency spike", |m| m.set_latency(Duration::from_millis(30), Duration::from_millis(120))),
        ("truncated json", |m| m.truncate_next(3)),
        ("hung request", |m| m.hang_next(1)),
        ("stall mid-response", |m| m.stall_next(1)),
        ("dropped connections", |m| m.drop_next_before(3)),
        ("random 5xx", |m| m.set_fail_rates(0.3, 0.0)),
        ("rate limit", |m| m.set_rate_limits(0.0, 15.0)),
    ]
}

fn calm(m: &Emulator) {
    m.set_latency(Duration::ZERO, Duration::ZERO);
    m.set_fail_rates(0.0, 0.0);
    m.set_rate_limits(0.0, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_under_faults_are_exact_or_fail_clearly() {
    let e = engine(7);
    let clean = run_reads(&e).await;
    assert!(clean.iter().all(Result::is_ok), "the clean run must succeed: {clean:?}");
    let (mut exact, mut failed) = (0, 0);
    for (name, inject) in scenarios() {
        inject(e.emulator().unwrap());
        let got = run_reads(&e).await;
        calm(e.emulator().unwrap());
        for ((sql, want), got) in READS.iter().zip(&clean).zip(got) {
            match got {
                Ok(rows) => {
                    assert_eq!(&rows, want.as_ref().unwrap(), "{name}: {sql} returned different rows");
                    exact += 1;
                }
                Err(err) => {
                    assert!(is_clear(&err), "{name}: {sql} failed without a clear reason: {err}");
                    failed += 1;
                }
            }
        }
    }
    let faults = failed_attempts(&e);
    eprintln!(
        "fault injection (reads): {faults} failed attempts injected, {exact} exact answers, {failed} clear failures"
    );
    assert!(faults >= 20, "the scenarios must actually inject faults ({faults})");
    assert!(exact >= 30, "retries should absorb most faults ({exact} exact)");
    super::conformance_suite::assert_conforms(&e);
}

/// Emails of the rows a scenario inserts.
fn emails(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("w-{tag}-{i}@example.com")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_under_faults_are_never_duplicated_or_lost_silently() {
    let e = engine(11);
    let emu = e.emulator().unwrap();
    let mut write_scenarios: Vec<(&str, Inject, usize)> = vec![
        ("drop after commit", |m| m.drop_next_writes(2), 4),
        ("drop before handling", |m| m.drop_next_before(2), 4),
        ("5xx before commit", |m| m.fail_next_on(2, 500, "/v1/customers"), 4),
        ("429 storm", |m| m.fail_next_on(5, 429, "/v1/customers"), 4),
        ("stall after commit", |m| m.stall_next(1), 3),
        ("truncated answer", |m| m.truncate_next(1), 3),
        ("hung request", |m| m.hang_next(1), 3),
        ("random 5xx and drops", |m| m.set_fail_rates(0.25, 0.25), 20),
    ];
    let (mut checked, mut reported_failed, mut unsure) = (0, 0, 0);
    let before_total = emu.count("customers");
    let mut inserted_total = 0;
    for (i, (name, inject, n)) in write_scenarios.drain(..).enumerate() {
        let tag = format!("s{i}");
        let values: Vec<String> = emails(&tag, n).iter().map(|m| format!("('{m}')")).collect();
        inject(emu);
        let result = e.sql(&format!("INSERT INTO customers (email) VALUES {}", values.join(", "))).await;
        calm(emu);
        // What really exists now, read without faults.
        let found = e.sql(&format!("SELECT id, email FROM customers WHERE email LIKE 'w-{tag}-%'")).await.unwrap();
        let mut by_email: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in json_rows(&found) {
            by_email.entry(r["email"].as_str().unwrap().into()).or_default().push(r["id"].as_str().unwrap().into());
        }
        for (email, ids) in &by_email {
            assert_eq!(ids.len(), 1, "{name}: {email} was created {} times", ids.len());
        }
        inserted_total += by_email.len();
        checked += n;
        match result {
            Ok(_) => assert_eq!(by_email.len(), n, "{name}: the statement succeeded, so all {n} rows exist"),
            Err(err) => {
                let err = err.to_string();
                reported_failed += 1;
                for (email, ids) in &by_email {
                    // Either reported written, or its row is reported as possibly applied.
                    let row: usize =
                        email.split('-').nth(2).unwrap().split('@').next().unwrap().parse::<usize>().unwrap() + 1;
                    let flagged = err.contains(&format!("row {row}: no answer, so this write may have been applied"));
                    assert!(
                        err.contains(&ids[0]) || flagged,
                        "{name}: {} exists but the error reports it neither written nor possibly applied: {err}",
                        ids[0]
                    );
                    unsure += usize::from(flagged);
                }
            }
        }
    }
    assert_eq!(emu.count("customers"), before_total + inserted_total, "no other object appeared");
    super::conformance_suite::assert_conforms(&e);
    eprintln!(
        "fault injection (writes): {checked} rows checked in 8 scenarios, {reported_failed} statements failed with a report ({unsure} rows flagged as possibly applied), {} failed attempts",
        failed_attempts(&e)
    );
}

#[tokio::test]
async fn a_truncated_answer_is_retried_and_a_lost_answer_is_never_reported_as_not_written() {
    let e = Engine::with_emulator(EmulatorConfig::default(), |c| {
        c.retry_base_delay = Duration::from_millis(5);
        c.retry_max_delay = Duration::from_millis(20);
    })
    .unwrap();
    let emu = e.emulator().unwrap();
    // The first answer is cut off after the write committed: the retry (same key)
    // gets the replayed answer, and there is one customer.
    emu.truncate_next(1);
    e.sql("INSERT INTO customers (email) VALUES ('t@example.com')").await.unwrap();
    assert_eq!(emu.count("customers"), 1);
    let posts: Vec<_> = e.client().request_log().entries().into_iter().filter(|x| x.method == "POST").collect();
    assert_eq!(posts.iter().map(|p| p.attempt).collect::<Vec<_>>(), [1, 2]);

    // Three 500s, then the fourth attempt commits but its connection drops: the row is
    // reported as possibly applied (it was), never as plainly failed.
    emu.drop_next_writes(1);
    emu.fail_next_on(3, 500, "/v1/customers");
    let err = e.sql("INSERT INTO customers (email) VALUES ('lost@example.com')").await.unwrap_err().to_string();
    assert_eq!(emu.count("customers"), 2, "the last attempt was committed");
    assert!(err.contains("row 1: no answer, so this write may have been applied"), "{err}");

    // The first attempt's connection drops (nothing committed), the retries get 500s:
    // the last status alone would claim "not written"; the error says it may have been.
    emu.drop_next_before(1);
    emu.fail_next_on(3, 500, "/v1/customers");
    let err = e.sql("INSERT INTO customers (email) VALUES ('unsure@example.com')").await.unwrap_err().to_string();
    assert!(err.contains("row 1: no answer, so this write may have been applied"), "{err}");
    assert!(err.contains("an earlier attempt got no answer") && err.contains("500"), "{err}");
    assert_eq!(emu.count("customers"), 2);
}
