//! `stripe-sql sync` speed. Backfill: 50,000 charges served by the emulator
//! with 300 ms per response and 25 requests/s per endpoint (strict sliding
//! window; the client's limiter at the same 25/s), mirrored into a Delta
//! table window by window; prints objects/s and the ratio to the 2,500
//! objects/s rate-limit bound (target >= 90 %). Events: 20,000
//! `customer.updated` events applied to a mirror of 20,000 customers (list,
//! decode, one Delta merge per step); prints events/s and events per CPU
//! second (target >= 5,000 per core). Criterion then times the pure event
//! decision on 1,000 events.
//!
//! Run with `cargo bench --profile test --bench sync` (reuses the test build;
//! `--profile perf` for optimized figures).

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

/// CPU seconds (user + system) this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn options(now: i64) -> SyncOptions {
    SyncOptions { reconcile_every: None, now: Arc::new(move || now), ..SyncOptions::default() }
}

async fn open(engine: &Arc<Engine>, table: &str, dir: &std::path::Path, opts: SyncOptions) -> Syncer {
    let tables = [table.to_string()];
    Syncer::open(Arc::clone(engine), Some(&tables), Target::Dir(dir.into()), opts, progress::quiet())
        .await
        .expect("open")
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
    let dir = tempfile::tempdir().expect("tempdir");
    let (secs, requests, rejected) = rt.block_on(async {
        let mut sync = open(&engine, "charges", dir.path(), options(charges::NEWEST + 60)).await;
        let mark = engine.client().request_log().len() as u64;
        let cpu = cpu_seconds();
        let started = Instant::now();
        sync.step(false).await.expect("backfill");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "sync: the backfill used {:.1} CPU s in {secs:.1} s (2 cores, the emulator's included)",
            cpu_seconds() - cpu
        );
        let log = engine.client().request_log().since(mark);
        assert_eq!(sync.state("charges").expect("state").rows, CHARGES as u64);
        (secs, log.len(), log.iter().filter(|e| e.status == Some(429)).count())
    });
    let rate = CHARGES as f64 / secs;
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
    println!(
        "sync: backfill of {CHARGES} charges into Delta, {} ms latency, {ENDPOINT_RPS} requests/s per endpoint (sliding window): \
         {rate:.0} objects/s in {secs:.1} s ({requests} requests, {rejected} answered 429); {:.1}% of the {BOUND:.0} objects/s bound",
        LATENCY.as_millis(),
        100.0 * rate / BOUND
    );
    println!("sync: backfill / plain scan = {:.1}%", 100.0 * scan_secs / secs);
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
        let cpu = cpu_seconds() - cpu;
        let applied = sync.state("customers").expect("state").events.last_event.clone();
        assert_eq!(applied.as_deref(), Some("evt_00019999"));
        println!(
            "sync: applied {CUSTOMERS} customer.updated events (list + decode + one Delta merge) in {secs:.2} s: {:.0} events/s, \
             {:.0} events per CPU second ({cpu:.2} CPU s, the emulator's included)",
            CUSTOMERS as f64 / secs,
            CUSTOMERS as f64 / cpu.max(1e-3)
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
