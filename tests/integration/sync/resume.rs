//! Crashes: a backfill stopped between two commits continues from the ranges
//! not yet committed (in process, and with the real binary killed by SIGKILL),
//! and the finished mirror is exact, with no row fetched twice into it.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stripe_sql::sync::{Progress, Syncer, Target};

use super::support::*;
use crate::cli::support::command;

/// `n` charges, one every `spacing` seconds back from `newest`.
fn charges(n: usize, newest: i64, spacing: i64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"id": format!("ch_sync{i:06}"), "object": "charge", "created": newest - i as i64 * spacing,
                   "amount": 100 + i, "currency": "usd", "captured": true, "metadata": {"n": i.to_string()},
                   "livemode": false, "status": "succeeded"})
        })
        .collect()
}

#[tokio::test]
async fn a_backfill_stopped_between_commits_resumes_below_the_last_commit() {
    let a = Account::new();
    a.emulator().insert_objects("charges", charges(60, T0 - 10, 50));
    let dir = tempfile::tempdir().unwrap();
    let stop: Arc<OnceLock<Arc<AtomicBool>>> = Arc::default();
    let flag = Arc::clone(&stop);
    let observer = Arc::new(move |p: &Progress| {
        if let Progress::Backfill { fetched, .. } = p
            && *fetched >= 15
            && let Some(f) = flag.get()
        {
            f.store(true, Ordering::Relaxed);
        }
    });
    let names = vec!["charges".to_string()];
    let open = |observer| {
        Syncer::open(Arc::clone(&a.engine), Some(&names), Target::Dir(dir.path().into()), a.options(), observer)
    };
    let mut first = open(observer).await.unwrap();
    let _ = stop.set(first.stop_flag());
    first.step(false).await.unwrap();
    let stopped = first.state("charges").unwrap().backfill.clone().expect("stopped mid-backfill");
    assert!(stopped.fetched >= 15 && stopped.fetched < 60, "{stopped:?}");
    drop(first);

    let mut second = open(stripe_sql::sync::progress::quiet()).await.unwrap();
    assert_eq!(
        second.state("charges").unwrap().backfill.as_ref(),
        Some(&stopped),
        "the committed progress is read back"
    );
    let log_start = a.engine.client().request_log().len();
    second.step(false).await.unwrap();
    // Every request of the resumed backfill lies within a range the stopped
    // one had left (a cursor inside its own range), so nothing committed is
    // listed again.
    let left = stopped.remaining.clone().expect("the ranges left are committed");
    assert!(!left.is_empty(), "{stopped:?}");
    let asked: Vec<(i64, i64, Option<String>)> = a.engine.client().request_log().entries()[log_start..]
        .iter()
        .filter(|e| e.path == "/v1/charges")
        .map(|e| {
            let bound = |k: &str, none: i64| e.param(k).map_or(none, |v| v.parse::<i64>().unwrap());
            (
                bound("created[gte]", i64::MIN),
                bound("created[lte]", i64::MAX),
                e.param("starting_after").map(String::from),
            )
        })
        .collect();
    assert!(!asked.is_empty());
    for (lo, hi, _) in &asked {
        assert!(
            left.iter().any(|s| s.lo <= *lo && *hi <= s.hi),
            "the resumed backfill asked [{lo}, {hi}] outside what was left: {left:?}"
        );
    }
    assert_eq!(second.state("charges").unwrap().rows, 60);
    assert_exact(&a.engine, &second).await;
}

#[tokio::test]
async fn the_binary_killed_between_commits_resumes_and_ends_exact() {
    let a = Account::new();
    a.emulator().set_clock(None);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // 2,000 charges over 20 days, committed 100 at a time.
    a.emulator().insert_objects("charges", charges(2_000, now - 60, 864));
    a.emulator().set_latency(Duration::from_millis(20), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = a.emulator().base_url();
    let to = dir.path().join("mirror");
    let to = to.to_str().unwrap();
    let args = [
        "--api-base",
        &base,
        "--api-key",
        a.emulator().api_key(),
        "--format",
        "ndjson",
        "sync",
        "--tables",
        "charges",
        "--to",
        to,
        "--once",
        "--commit-rows",
        "100",
    ];
    let mut child =
        command(&args, home.path()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().expect("a progress line").unwrap()).unwrap();
    assert_eq!((first["event"].as_str(), first["done"].as_bool()), (Some("backfill"), Some(false)), "{first}");
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = first["objects"].as_u64().unwrap();

    let started = Instant::now();
    let out = command(&args, home.path()).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let backfill: Vec<&Value> = events.iter().filter(|e| e["event"] == "backfill").collect();
    assert!(backfill[0]["objects"].as_u64().unwrap() > killed_at, "resumed, not restarted: {events:?}");
    let last = backfill.last().unwrap();
    assert_eq!((last["objects"].as_u64(), last["done"].as_bool()), (Some(2_000), Some(true)), "{events:?}");
    assert!(started.elapsed() < Duration::from_secs(120));

    let sync = Syncer::open(
        Arc::clone(&a.engine),
        Some(&["charges".to_string()]),
        Target::Dir(to.into()),
        a.options(),
        stripe_sql::sync::progress::quiet(),
    )
    .await
    .unwrap();
    assert_eq!(assert_exact(&a.engine, &sync).await, 2_000);
}

#[tokio::test]
async fn sigterm_stops_at_a_commit_and_the_status_reads_back() {
    let a = Account::new();
    a.emulator().set_clock(None);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    a.emulator().insert_objects("charges", charges(300, now - 60, 600));
    let home = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let base = a.emulator().base_url();
    let root_arg = root.path().to_str().unwrap();
    let key = a.emulator().api_key();
    let args = [
        "--api-base",
        &base,
        "--api-key",
        key,
        "--mirror",
        root_arg,
        "--format",
        "ndjson",
        "sync",
        "--tables",
        "charges",
        "--interval",
        "1s",
    ];
    let mut child =
        command(&args, home.path()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line: Value = serde_json::from_str(&lines.next().expect("progress until backfilled").unwrap()).unwrap();
        if line["done"] == true {
            break;
        }
    }
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "sync did not stop within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "a clean stop");

    let sql = "SELECT table_name, rows, phase FROM stripe_mirror_status()";
    let out = command(
        &["--api-base", &base, "--api-key", key, "--mirror", root_arg, "--format", "csv", "-c", sql],
        home.path(),
    )
    .stdin(Stdio::null())
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), "table_name,rows,phase\ncharges,300,follow", "{}", String::from_utf8_lossy(&out.stderr));
}
