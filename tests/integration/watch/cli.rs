//! The real binary: `stripe-sql watch` prints new rows as NDJSON exactly once,
//! stops on SIGTERM saving its state, resumes from it, refuses what it cannot
//! watch, and keeps to `--max-calls-per-minute`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use stripe_sql::emulator::{Emulator, EmulatorConfig};
use stripe_sql::engine::Engine;
use stripe_sql::stripe::{ApiKey, Client, ClientConfig};

use super::support::{T0, emails, insert_customers};
use crate::cli::support::command;

/// An emulator with a frozen clock, and an engine that writes to it.
fn emulator() -> (Emulator, Engine) {
    let emulator = Emulator::start(EmulatorConfig::default()).expect("emulator starts");
    emulator.set_clock(Some(T0));
    let mut cfg = ClientConfig::new(ApiKey::parse(emulator.api_key()).unwrap());
    cfg.api_base = emulator.base_url();
    cfg.max_rps = 0.0;
    cfg.endpoint_rps = 0.0;
    let engine = Engine::new(Client::new(cfg).unwrap()).unwrap();
    (emulator, engine)
}

/// A running `stripe-sql watch` whose stdout lines arrive on a channel.
struct Watch {
    child: Child,
    lines: Receiver<String>,
    _home: tempfile::TempDir,
}

impl Watch {
    fn start(emulator: &Emulator, args: &[&str]) -> Watch {
        Watch::start_flags_first(emulator, false, args)
    }

    /// `start`, with the global flags before `watch` when `flags_first`.
    fn start_flags_first(emulator: &Emulator, flags_first: bool, args: &[&str]) -> Watch {
        let home = tempfile::tempdir().unwrap();
        let base = emulator.base_url();
        let flags = ["--api-base", &base, "--api-key", emulator.api_key(), "--format", "ndjson"];
        let mut all = if flags_first { flags.to_vec() } else { vec![] };
        all.push("watch");
        if !flags_first {
            all.extend_from_slice(&flags);
        }
        all.extend_from_slice(args);
        let mut child = command(&all, home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start stripe-sql watch");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines, _home: home }
    }

    /// The next `n` lines (panics after 20 s).
    fn take(&self, n: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        (0..n)
            .map(|i| {
                let wait = deadline.saturating_duration_since(Instant::now());
                let line = self.lines.recv_timeout(wait).unwrap_or_else(|_| panic!("line {i} of {n} did not come"));
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
            })
            .collect()
    }

    /// Waits (up to 20 s) until the watch has polled `polls` more times: the
    /// emulator counts its calls, so "nothing more was printed" is asserted
    /// after a known number of polls, not after a guessed time.
    fn polls(&self, emulator: &Emulator, polls: u64) {
        let target = emulator.requests_received() + polls;
        let deadline = Instant::now() + Duration::from_secs(20);
        while emulator.requests_received() < target {
            assert!(Instant::now() < deadline, "the watch did not poll {polls} more times");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and returns the exit code and whatever else was printed.
    fn stop(mut self) -> (i32, Vec<String>, String) {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("watch did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        let rest: Vec<String> = self.lines.try_iter().collect();
        (status.code().unwrap_or(-1), rest, stderr)
    }
}

fn field(rows: &[serde_json::Value], name: &str) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r[name].as_str().unwrap_or("?").to_string()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn prints_new_rows_once_stops_on_sigterm_and_resumes_from_state() {
    let (emulator, engine) = emulator();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    insert_customers(&engine, &emails("old", 2)).await;
    emulator.set_clock(Some(T0 + 1));
    let args =
        ["SELECT email FROM customers", "--interval", "200ms", "--since", "2024-01-01T00:00:01Z", "--state", state_arg];
    let watch = Watch::start(&emulator, &args);
    insert_customers(&engine, &emails("a", 3)).await;
    assert_eq!(field(&watch.take(3), "email"), emails("a", 3));
    insert_customers(&engine, &emails("b", 2)).await;
    assert_eq!(field(&watch.take(2), "email"), emails("b", 2));
    watch.polls(&emulator, 2);
    let (code, rest, stderr) = watch.stop();
    assert_eq!((code, rest), (0, Vec::<String>::new()), "stderr: {stderr}");
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!((saved["table"].as_str(), saved["rows"]["second"].as_i64()), (Some("customers"), Some(T0 + 1)));

    // While stopped: one more in the same second, one later. The restart prints just those.
    insert_customers(&engine, &emails("gap", 1)).await;
    emulator.set_clock(Some(T0 + 2));
    insert_customers(&engine, &emails("later", 1)).await;
    let watch = Watch::start(&emulator, &args);
    assert_eq!(field(&watch.take(2), "email"), [emails("gap", 1), emails("later", 1)].concat());
    watch.polls(&emulator, 2);
    let (code, rest, _) = watch.stop();
    assert_eq!((code, rest), (0, Vec::<String>::new()), "nothing printed twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn global_flags_before_the_subcommand_work_as_after_it() {
    let (emulator, engine) = emulator();
    let since = T0.to_string();
    let watch =
        Watch::start_flags_first(&emulator, true, &["--new", "customers", "--interval", "200ms", "--since", &since]);
    insert_customers(&engine, &emails("first", 2)).await;
    assert_eq!(field(&watch.take(2), "email"), emails("first", 2));
    let (code, _, stderr) = watch.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_are_printed_with_their_kind() {
    let (emulator, engine) = emulator();
    let watch = Watch::start(
        &emulator,
        &["--new", "customers", "--changes", "--interval", "200ms", "--since", &T0.to_string()],
    );
    insert_customers(&engine, &emails("k", 1)).await;
    let created = watch.take(1);
    assert_eq!((created[0]["change"].as_str(), created[0]["email"].as_str()), (Some("created"), Some("k0@watch.test")));
    let id = created[0]["id"].as_str().unwrap().to_string();
    engine.sql(&format!("DELETE FROM customers WHERE id = '{id}'")).await.unwrap();
    let deleted = watch.take(1);
    assert_eq!((deleted[0]["change"].as_str(), deleted[0]["id"].as_str()), (Some("deleted"), Some(id.as_str())));
    let (code, _, stderr) = watch.stop();
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn refuses_an_unwatchable_query_with_the_reason() {
    let (emulator, _engine) = emulator();
    let watch = Watch::start(&emulator, &["SELECT currency, count(*) FROM charges GROUP BY currency"]);
    let out = watch.child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot watch this query") && stderr.contains("GROUP BY"), "{stderr}");
    assert_eq!(emulator.requests_received(), 0);
}

#[test]
fn keeps_to_max_calls_per_minute() {
    let (emulator, _engine) = emulator();
    // 60 calls a minute is one call every ~1.05 s, however short the interval.
    // The budget is per real minute, so this test is about real time; it only
    // bounds the gaps from below, which a loaded machine can only widen.
    let watch = Watch::start(&emulator, &["--new", "charges", "--interval", "50ms", "--max-calls-per-minute", "60"]);
    watch.polls(&emulator, 1);
    let first = Instant::now();
    watch.polls(&emulator, 2);
    let two_gaps = first.elapsed();
    let (code, _, stderr) = watch.stop();
    assert_eq!(code, 0, "{stderr}");
    // Each poll is seen within ~10 ms of the call; at a 50 ms interval without
    // the budget, two more calls would take ~0.1 s.
    assert!(
        two_gaps >= Duration::from_millis(1900),
        "two more calls {two_gaps:?} after the first, with a budget of 60 a minute"
    );
}
