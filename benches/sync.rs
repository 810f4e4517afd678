//! `stripe-sql sync` speed. Backfill: 50,000 charges served by the emulator
//! with 300 ms per response and 25 requests/s per endpoint (strict sliding
//! window; the client's limiter at the same 25/s), mirrored into a Delta
//! table chunk by chunk; prints objects/s and the ratio to the 2,500
//! objects/s rate-limit bound (target >= 90 %), twice, with where the time
//! went (chunk commits, send gaps, 429s and when they were sent), and a plain
//! scan of the same rows. Events: 20,000
//! `customer.updated` events applied to a mirror of 20,000 customers (list,
//! decode, one Delta merge per step); prints events/s and events per CPU
//! second (target >= 5,000 per core). Criterion then times the pure event
//! decision on 1,000 events.
//!
//! CPU time is read from `/proc/self/stat` and `/proc/self/task/*/stat` (the
//! getrusage figures), the in-process emulator's threads counted apart.
//!
//! The backfill is timed to its final commit, and also as the whole first
//! sync step (which then polls events once). `SYNC_BENCH_TAIL=1` also prints
//! the backfill's last list requests (bounds, cursor, send time).
//!
//! Run with `cargo bench --profile perf --bench sync` (optimized; the figures
//! that count). `--profile test` reuses the test build, for debug figures.

#[path = "support/charges.rs"]
mod charges;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use stripe_sql::emulator::{EmulatorConfig, RateWindow};
use stripe_sql::engine::Engine;
use stripe_sql::mirror::state::EventCursor;
use stripe_sql::sync::events::{self, Event};
use stripe_sql::sync::{SyncOptions, Syncer, Target, progress};

const CHARGES: usize = 50_000;
const LATENCY: Duration = Duration::from_millis(300);
const ENDPOINT_RPS: f64 = 25.0;
const BOUND: f64 = ENDPOINT_RPS * 100.0;
const CUSTOMERS: usize = 20_000;
const NOW: i64 = 1_780_000_000;

/// CPU seconds (user + system) from the `utime`/`stime` fields of a
/// `/proc/.../stat` line (the same figures as getrusage).
fn stat_cpu(stat: &str) -> f64 {
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds this process has used: (all threads, the in-process emulator's
/// threads). The emulator serves on its own named runtime, so the difference
/// is what the sync itself cost.
fn cpu_seconds() -> (f64, f64) {
    let total = stat_cpu(&std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat"));
    let mut emulator = 0.0;
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let name = stat.split('(').nth(1).and_then(|r| r.split(')').next()).unwrap_or("");
        if name.starts_with("emulator-worker") || name.starts_with("stripe-emulator") {
            emulator += stat_cpu(&stat);
        }
    }
    (total, emulator)
}

/// CPU seconds used since `before` (from [`cpu_seconds`]): (all, sync only).
fn cpu_since(before: (f64, f64)) -> (f64, f64) {
    let now = cpu_seconds();
    (now.0 - before.0, (now.0 - before.0) - (now.1 - before.1))
}

/// Wall-clock seconds modulo 1,000 (to line up the lines printed).
fn clock() -> f64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    t.as_secs_f64() % 1_000.0
}

/// The most requests the client sent within any one second, by its own send times.
fn busiest_second(log: &[stripe_sql::stripe::LogEntry]) -> usize {
    let mut sent: Vec<_> = log.iter().map(|e| e.sent_at).collect();
    sent.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..sent.len() {
        while sent[end].duration_since(sent[start]).unwrap_or_default() >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

/// The `n` longest pauses between consecutive sends: (clock at the pause's
/// start, seconds).
fn longest_pauses(log: &[stripe_sql::stripe::LogEntry], n: usize) -> Vec<(f64, f64)> {
    let mut sent: Vec<_> = log.iter().map(|e| e.sent_at).collect();
    sent.sort();
    let at =
        |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64() % 1_000.0;
    let mut pauses: Vec<(f64, f64)> =
        sent.windows(2).map(|w| (at(w[0]), w[1].duration_since(w[0]).unwrap_or_default().as_secs_f64())).collect();
    pauses.sort_by(|a, b| b.1.total_cmp(&a.1));
    pauses.truncate(n);
    pauses
}

/// Time lost between sends: the sum over consecutive sends of the gap beyond
/// the `1/rps` the budget allows (a stalled pipeline shows here).
fn idle_seconds(log: &[stripe_sql::stripe::LogEntry], rps: f64) -> f64 {
    let mut sent: Vec<_> = log.iter().map(|e| e.sent_at).collect();
    sent.sort();
    let allowed = 1.0 / rps;
    sent.windows(2).map(|w| (w[1].duration_since(w[0]).unwrap_or_default().as_secs_f64() - allowed).max(0.0)).sum()
}

fn options(now: i64) -> SyncOptions {
    SyncOptions { reconcile_every: None, now: Arc::new(move || now), ..SyncOptions::default() }
}

async fn open(engine: &Arc<Engine>, table: &str, dir: &std::path::Path, opts: SyncOptions) -> Syncer {
    let tables = [table.to_string()];
    // Each committed backfill chunk, timed: where the backfill's time goes.
    let observer: progress::Observer = Arc::new(move |p: &progress::Progress| {
        if let progress::Progress::Backfill { fetched, done, .. } = p {
            if *done {
                *BACKFILL_DONE.lock().expect("lock") = Some(Instant::now());
            }
            let done = if *done { ", done" } else { "" };
            println!("sync:   chunk committed at clock {:.2}: {fetched} objects{done}", clock());
        }
    });
    Syncer::open(Arc::clone(engine), Some(&tables), Target::Dir(dir.into()), opts, observer).await.expect("open")
}

/// When the last backfill's final chunk was committed.
static BACKFILL_DONE: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);

/// One backfill of the emulator's charges into a fresh folder (the first sync
/// step: the backfill, then a first events poll); prints where its time went
/// and returns (seconds to the backfill's final commit, seconds of the whole
/// step, backfill requests, 429 answers).
fn backfill_once(rt: &tokio::runtime::Runtime, engine: &Arc<Engine>, run: usize) -> (f64, f64, usize, usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    rt.block_on(async {
        let opts = options(charges::NEWEST + 60);
        let mut sync = open(engine, "charges", dir.path(), opts).await;
        let mark = engine.client().request_log().len() as u64;
        let cpu = cpu_seconds();
        let started = Instant::now();
        sync.step(false).await.expect("backfill");
        let step_secs = started.elapsed().as_secs_f64();
        let done = BACKFILL_DONE.lock().expect("lock").take().expect("the backfill reported its end");
        let secs = done.duration_since(started).as_secs_f64();
        let (all, own) = cpu_since(cpu);
        println!(
            "sync: [run {run}] the backfill used {own:.1} CPU s of its own ({all:.1} with the in-process emulator's) in {secs:.1} s"
        );
        let log: Vec<_> =
            engine.client().request_log().since(mark).into_iter().filter(|e| e.path == "/v1/charges").collect();
        assert_eq!(sync.state("charges").expect("state").rows, CHARGES as u64);
        let at = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64() % 1_000.0
        };
        let first = log.iter().map(|e| e.sent_at).min().expect("requests");
        println!("sync:   first backfill request at clock {:.2}", at(first));
        let rejected: Vec<String> =
            log.iter().filter(|e| e.status == Some(429)).map(|e| format!("{:.2} {}", at(e.sent_at), e.path)).collect();
        println!(
            "sync:   requests: most sent by the client in any one second {} (budget {ENDPOINT_RPS}); \
             send time lost beyond the budget's spacing {:.1} s; 429 sent at clock {rejected:?}",
            busiest_second(&log),
            idle_seconds(&log, ENDPOINT_RPS)
        );
        let pauses: Vec<String> = longest_pauses(&log, 6).iter().map(|(c, s)| format!("{s:.2} s at {c:.2}")).collect();
        let last = log.iter().map(|e| e.sent_at).max().expect("requests");
        println!(
            "sync:   longest pauses between sends: {}; last request sent at clock {:.2}, backfill done at clock {:.2}",
            pauses.join(", "),
            at(last),
            clock()
        );
        if std::env::var("SYNC_BENCH_TAIL").is_ok() {
            let mut tail: Vec<_> = log.iter().collect();
            tail.sort_by_key(|e| e.sent_at);
            for e in &tail[tail.len().saturating_sub(24)..] {
                println!("sync:   tail {:.3} +{:.3} {} gte={:?} lte={:?} after={:?}", at(e.sent_at), e.duration.as_secs_f64(), e.path, e.param("created[gte]"), e.param("created[lte]"), e.param("starting_after"));
            }
        }
        (secs, step_secs, log.len(), rejected.len())
    })
}

fn backfill(rt: &tokio::runtime::Runtime) {
    let config = EmulatorConfig {
        latency: LATENCY,
        endpoint_rps: ENDPOINT_RPS,
        rate_window: RateWindow::Sliding,
        ..EmulatorConfig::default()
    };
    let engine = Arc::new(
        Engine::with_emulator(config, |c| {
            c.endpoint_rps = ENDPOINT_RPS;
            c.max_rps = ENDPOINT_RPS;
        })
        .expect("engine"),
    );
    let emulator = engine.emulator().expect("emulator");
    emulator.insert_objects("charges", (0..CHARGES).map(|n| charges::charge(n, 40)));
    let mut runs = Vec::new();
    for run in [1, 2] {
        runs.push((run, backfill_once(rt, &engine, run)));
        // A full second apart: the next run starts with the whole budget.
        std::thread::sleep(Duration::from_secs(2));
    }
    // The same rows by a plain scan (no Delta), in the same run: what the
    // machine allows before the mirror's own work.
    let scan_secs = rt.block_on(async {
        engine.sql("SET stripe.max_concurrency = 24").await.expect("set");
        let started = Instant::now();
        let batches = engine.sql("SELECT * FROM charges").await.expect("scan");
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), CHARGES);
        started.elapsed().as_secs_f64()
    });
    println!(
        "sync: plain SELECT * over the same {CHARGES} charges (max_concurrency 24, one query): {:.0} objects/s in {scan_secs:.1} s; {:.1}% of the bound",
        CHARGES as f64 / scan_secs,
        100.0 * CHARGES as f64 / scan_secs / BOUND
    );
    for (run, (secs, step_secs, requests, rejected)) in runs {
        let rate = CHARGES as f64 / secs;
        println!(
            "sync: backfill of {CHARGES} charges into Delta, {} ms latency, {ENDPOINT_RPS} requests/s per endpoint (sliding window), \
             run {run}: {rate:.0} objects/s in {secs:.2} s to its final commit ({requests} list requests, {rejected} answered 429); \
             {:.1}% of the {BOUND:.0} objects/s bound (target >= 90%); backfill / plain scan = {:.1}%; \
             the whole first step (with its first events poll) {step_secs:.2} s, {:.1}% of the bound",
            LATENCY.as_millis(),
            100.0 * rate / BOUND,
            100.0 * scan_secs / secs,
            100.0 * CHARGES as f64 / step_secs / BOUND
        );
    }
}

fn customer(n: usize, name: &str) -> Value {
    json!({"id": format!("cus_{n:08}"), "object": "customer", "created": NOW - 100_000 + n as i64, "email": format!("c{n}@example.com"),
           "name": name, "metadata": {"n": n.to_string()}, "livemode": false, "balance": 0, "currency": "usd",
           "address": {"city": "Paris", "country": "FR"}, "preferred_locales": ["fr"]})
}

fn apply_events(rt: &tokio::runtime::Runtime) {
    let engine = Arc::new(Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("engine"));
    let emulator = engine.emulator().expect("emulator");
    emulator.set_clock(Some(NOW));
    emulator.insert_objects("customers", (0..CUSTOMERS).map(|n| customer(n, "before")));
    let dir = tempfile::tempdir().expect("tempdir");
    rt.block_on(async {
        let mut sync = open(&engine, "customers", dir.path(), options(NOW + 100)).await;
        sync.step(false).await.expect("backfill");
        let api_version = stripe_sql::catalog::builtin().api_version.clone();
        emulator.insert_objects(
            "events",
            (0..CUSTOMERS).map(|n| {
                json!({"id": format!("evt_{n:08}"), "object": "event", "api_version": api_version, "created": NOW + 10 + (n / 100) as i64,
                       "type": "customer.updated", "data": {"object": customer(n, "after")}, "livemode": false})
            }),
        );
        let cpu = cpu_seconds();
        let started = Instant::now();
        sync.step(false).await.expect("apply");
        let secs = started.elapsed().as_secs_f64();
        let (all, own) = cpu_since(cpu);
        let applied = sync.state("customers").expect("state").events.last_event.clone();
        assert_eq!(applied.as_deref(), Some("evt_00019999"));
        println!(
            "sync: applied {CUSTOMERS} customer.updated events (list + decode + one Delta merge) in {secs:.2} s: {:.0} events/s; \
             {:.0} events per CPU second of the sync's own ({own:.2} CPU s; target >= 5,000), \
             {:.0} counting the in-process emulator's serving too ({all:.2} CPU s)",
            CUSTOMERS as f64 / secs,
            CUSTOMERS as f64 / own.max(1e-2),
            CUSTOMERS as f64 / all.max(1e-2)
        );
    });
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    backfill(&rt);
    apply_events(&rt);
    let list: Vec<Event> = (0..1_000)
        .map(|n| Event {
            id: format!("evt_{n}"),
            created: NOW + n as i64 / 10,
            kind: "customer.updated".into(),
            api_version: Some("2023-08-16".into()),
            object: customer(n % 700, "x"),
        })
        .collect();
    let cursor = EventCursor { cursor: NOW, ..Default::default() };
    c.bench_function("events::pending + changes over 1,000 events", |b| {
        b.iter(|| {
            let pending = events::pending(std::hint::black_box(&list), "customer", &cursor, 120);
            events::changes(&pending, &cursor, "2023-08-16")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
