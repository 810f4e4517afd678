//! Read-path throughput and memory: a full scan of 100,000 charges through the
//! engine against a sequential page walk with the raw client (same run, same
//! server), and the peak RSS of `SELECT count(*)` over those rows compared to
//! the RSS after start-up.
//!
//! The charges come from a small in-process list server that builds each page
//! on demand (ids `ch_00000000`…, newest first), so the process's memory is the
//! engine's, not a 100,000-object emulator's (the demo emulator at that scale
//! takes minutes and gigabytes to build in a debug build).
//! The server honours `created[gte]`/`created[lte]`, so `count(*)` runs as the
//! engine runs it by default: split into `created` ranges (max_concurrency).
//! Run with `cargo bench --profile dev --bench scan` (a release build takes
//! ~18 minutes on the build machine; these are then debug-build figures).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use serde_json::{Value, json};

#[path = "support/charges.rs"]
mod charges;
use stripe_sql::engine::Engine;
use stripe_sql::stripe;

const ROWS: usize = 100_000;
const SMALL_ROWS: usize = 2_000;

/// Seconds between consecutive pairs of charges.
const SPACING: i64 = 60;

/// `GET /v1/charges?limit=&starting_after=&created[gte]=&created[lte]=` over
/// `rows` generated charges (newest first), so the engine can split the scan
/// into `created` ranges as it does against Stripe.
async fn list(State(rows): State<usize>, Query(q): Query<Vec<(String, String)>>) -> axum::Json<Value> {
    let param = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(10usize).clamp(1, 100);
    let mut start =
        param("starting_after").and_then(|id| id.strip_prefix("ch_")?.parse::<usize>().ok()).map_or(0, |n| n + 1);
    let mut end = rows;
    if let Some(hi) = param("created[lte]").and_then(|v| v.parse::<i64>().ok()) {
        // created(n) <= hi  <=>  n / 2 >= ceil((NEWEST - hi) / SPACING)
        let pairs = (charges::NEWEST - hi).max(0);
        start = start.max(2 * ((pairs + SPACING - 1) / SPACING) as usize);
    }
    if let Some(lo) = param("created[gte]").and_then(|v| v.parse::<i64>().ok()) {
        // created(n) >= lo  <=>  n / 2 <= floor((NEWEST - lo) / SPACING)
        let pairs = charges::NEWEST - lo;
        end = if pairs < 0 { 0 } else { end.min(2 * (pairs / SPACING) as usize + 2) };
    }
    let stop = (start + limit).min(end);
    let data: Vec<Value> = (start..stop.max(start)).map(|n| charges::charge(n, SPACING)).collect();
    axum::Json(json!({"object": "list", "url": "/v1/charges", "has_more": stop < end, "data": data}))
}

/// Starts a list server over `rows` charges on 127.0.0.1 and returns its base URL.
async fn serve(rows: usize) -> String {
    let app = axum::Router::new().route("/v1/charges", get(list)).with_state(rows);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    base
}

fn engine_for(base: &str) -> Engine {
    let key = stripe::ApiKey::parse("sk_test_benchscan0000000000").expect("test key");
    let mut config = stripe::ClientConfig::new(key);
    config.api_base = base.to_string();
    config.max_rps = 0.0;
    config.endpoint_rps = 0.0;
    Engine::new(stripe::Client::new(config).expect("client")).expect("engine")
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

async fn engine_scan(engine: &Engine, sql: &str) -> usize {
    let mut stream = engine.dataframe(sql).await.expect("plan").execute_stream().await.expect("execute");
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch.expect("batch").num_rows();
    }
    rows
}

async fn raw_walk(client: &stripe::Client) -> usize {
    let mut pages = client.list("/v1/charges", json!({"limit": 100}));
    let mut rows = 0;
    while let Some(page) = pages.next().await {
        rows += page.expect("page").data.len();
    }
    rows
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (engine, small) = rt.block_on(async {
        let big = engine_for(&serve(ROWS).await);
        let small = engine_for(&serve(SMALL_ROWS).await);
        // Warm up: plan once so start-up allocations are in the baseline.
        engine_scan(&big, "SELECT id FROM charges LIMIT 10").await;
        (Arc::new(big), Arc::new(small))
    });

    // Memory first, before anything else grows the heap.
    let rss_start = status_kb("VmRSS:");
    // Resets VmHWM to the current RSS (Linux >= 4.0), so the peak is this query's.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    let counted = rt.block_on(async {
        let batches = engine.sql("SELECT count(*) FROM charges").await.expect("count");
        let column = batches[0].column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().expect("i64");
        column.value(0) as usize
    });
    let count_secs = started.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM:");
    assert_eq!(counted, ROWS);
    println!(
        "scan: count(*) over {counted} charges in {count_secs:.1} s; RSS after start-up {} MiB, peak during count(*) {} MiB (ratio {:.2}{})",
        rss_start / 1024,
        peak / 1024,
        peak as f64 / rss_start as f64,
        if reset { "" } else { "; VmHWM not reset: peak covers the whole process" }
    );

    let (engine_rows, engine_secs) = rt.block_on(async {
        let t = Instant::now();
        (engine_scan(&engine, "SELECT * FROM charges").await, t.elapsed().as_secs_f64())
    });
    let (raw_rows, raw_secs) = rt.block_on(async {
        let t = Instant::now();
        (raw_walk(engine.client()).await, t.elapsed().as_secs_f64())
    });
    assert_eq!((engine_rows, raw_rows), (ROWS, ROWS));
    let (engine_rate, raw_rate) = (engine_rows as f64 / engine_secs, raw_rows as f64 / raw_secs);
    println!(
        "scan: SELECT * through the engine {engine_rate:.0} rows/s ({engine_secs:.1} s); raw client page walk {raw_rate:.0} rows/s ({raw_secs:.1} s); engine/raw {:.2}",
        engine_rate / raw_rate
    );
    println!("scan: peak RSS of the whole run so far {} MiB", status_kb("VmHWM:") / 1024);

    let mut group = c.benchmark_group("scan_2000_charges");
    group.sample_size(10);
    group.bench_function("engine SELECT *", |b| {
        b.to_async(&rt).iter(|| {
            let small = Arc::clone(&small);
            async move { assert_eq!(engine_scan(&small, "SELECT * FROM charges").await, SMALL_ROWS) }
        })
    });
    group.bench_function("raw client page walk", |b| {
        b.to_async(&rt).iter(|| {
            let small = Arc::clone(&small);
            async move { assert_eq!(raw_walk(small.client()).await, SMALL_ROWS) }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
