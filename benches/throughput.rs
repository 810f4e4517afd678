//! Scan throughput at Stripe's speed: 50,000 charges served by the emulator
//! with 300 ms per response and 25 requests/s per endpoint, enforced as a
//! strict sliding window (`--rate-window sliding`: more than 25 requests in any
//! one second get 429, as a proxy enforcing Stripe's limit would); the
//! client's own limiter is set to the same 25/s. Prints
//! objects/s of `SELECT count(*) FROM charges` (fetching only) and of
//! `SELECT * FROM charges` (fetching and decoding every column), split into
//! `created` ranges (default `stripe.max_concurrency`), the ratio to the
//! 2,500 objects/s rate-limit bound,
//! and its ratio to the sequential cursor walk (`stripe.max_concurrency = 1`)
//! measured in the same run over a prefix of 20 pages (the whole sequential
//! walk, 500 pages at 300 ms, would take 150 s).
//!
//! Run with `cargo bench --profile dev --bench throughput` (a release build
//! takes ~18 minutes on the build machine; the figures are then debug-build
//! figures, which matter little here: the scan waits on the network).

#[path = "support/charges.rs"]
mod charges;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use stripe_sql::emulator::{EmulatorConfig, RateWindow};
use stripe_sql::engine::Engine;
use stripe_sql::settings::StripeOptions;

const CHARGES: usize = 50_000;
const LATENCY: Duration = Duration::from_millis(300);
const ENDPOINT_RPS: f64 = 25.0;
const BOUND: f64 = ENDPOINT_RPS * 100.0;
const SEQUENTIAL_PAGES: usize = 20;
const WIDE: usize = 24;

async fn rows(engine: &Engine, sql: &str) -> usize {
    let mut stream = engine.dataframe(sql).await.expect("plan").execute_stream().await.expect("execute");
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch.expect("batch").num_rows();
    }
    rows
}

/// The longest time between two consecutive sends once the scan has split
/// (after its first three calls: first page, account, continuation). At 25
/// requests/s sends are ~41 ms apart; a pause of a round trip means every
/// worker waited for a page before it had a range to fetch.
fn longest_pause(log: &[stripe_sql::stripe::LogEntry]) -> Duration {
    let mut sent: Vec<_> = log.iter().map(|e| e.sent_at).collect();
    sent.sort();
    sent.windows(2).skip(3).filter_map(|w| w[1].duration_since(w[0]).ok()).max().unwrap_or_default()
}

fn bench(_criterion: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let config = EmulatorConfig {
        latency: LATENCY,
        endpoint_rps: ENDPOINT_RPS,
        rate_window: RateWindow::Sliding,
        ..EmulatorConfig::default()
    };
    let engine = Engine::with_emulator(config, |c| {
        c.endpoint_rps = ENDPOINT_RPS;
        c.max_rps = ENDPOINT_RPS;
    })
    .expect("engine");
    engine.emulator().expect("emulator").insert_objects("charges", (0..CHARGES).map(|n| charges::charge(n, 40)));

    let concurrency = StripeOptions::default().max_concurrency;
    // count(*) decodes no column: the figure of the fetching alone.
    let (counted, count_secs, count_requests, count_rejected, count_pause) = rt.block_on(async {
        let mark = engine.client().request_log().len() as u64;
        let started = Instant::now();
        let batches = engine.sql("SELECT count(*) FROM charges").await.expect("count");
        let secs = started.elapsed().as_secs_f64();
        let column = batches[0].column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().expect("i64");
        let log = engine.client().request_log().since(mark);
        let pause = longest_pause(&log);
        (column.value(0) as usize, secs, log.len(), log.iter().filter(|e| e.status == Some(429)).count(), pause)
    });
    assert_eq!(counted, CHARGES);
    let count_rate = counted as f64 / count_secs;
    println!(
        "throughput: count(*) over {CHARGES} charges, {} ms latency, {ENDPOINT_RPS} requests/s per endpoint (sliding window), max_concurrency {concurrency}: \
         {count_rate:.0} objects/s in {count_secs:.1} s ({count_requests} requests, {count_rejected} answered 429); \
         {:.1}% of the {BOUND:.0} objects/s bound; longest pause between two sends after the first split {:.0} ms",
        LATENCY.as_millis(),
        100.0 * count_rate / BOUND,
        count_pause.as_secs_f64() * 1000.0
    );

    let (parallel_rows, parallel_secs, requests, rejected) = rt.block_on(async {
        let mark = engine.client().request_log().len() as u64;
        let started = Instant::now();
        let rows = rows(&engine, "SELECT * FROM charges").await;
        let secs = started.elapsed().as_secs_f64();
        let log = engine.client().request_log().since(mark);
        let rejected = log.iter().filter(|e| e.status == Some(429)).count();
        (rows, secs, log.len(), rejected)
    });
    assert_eq!(parallel_rows, CHARGES);

    let (sequential_rows, sequential_secs) = rt.block_on(async {
        engine.sql("SET stripe.max_concurrency = 1").await.expect("set");
        let started = Instant::now();
        let rows = rows(&engine, &format!("SELECT * FROM charges LIMIT {}", SEQUENTIAL_PAGES * 100)).await;
        (rows, started.elapsed().as_secs_f64())
    });
    assert_eq!(sequential_rows, SEQUENTIAL_PAGES * 100);

    let parallel_rate = parallel_rows as f64 / parallel_secs;
    let sequential_rate = sequential_rows as f64 / sequential_secs;
    println!(
        "throughput: SELECT * over {CHARGES} charges, {} ms latency, {ENDPOINT_RPS} requests/s per endpoint (sliding window), max_concurrency {concurrency}: \
         {parallel_rate:.0} objects/s in {parallel_secs:.1} s ({requests} requests, {rejected} answered 429); \
         {:.1}% of the {BOUND:.0} objects/s bound",
        LATENCY.as_millis(),
        100.0 * parallel_rate / BOUND
    );
    println!(
        "throughput: sequential cursor walk (max_concurrency 1, SELECT *) over the first {SEQUENTIAL_PAGES} pages: {sequential_rate:.0} objects/s \
         ({sequential_secs:.1} s); split scan / sequential = {:.1}x for count(*), {:.1}x for SELECT *",
        count_rate / sequential_rate,
        parallel_rate / sequential_rate
    );

    // More requests in flight make up for CPU time per page (a debug build on a
    // busy machine): the limiter still holds the rate at 25/s.
    let (wide, wide_secs, wide_rejected) = rt.block_on(async {
        engine.sql(&format!("SET stripe.max_concurrency = {WIDE}")).await.expect("set");
        let mark = engine.client().request_log().len() as u64;
        let started = Instant::now();
        let rows = rows(&engine, "SELECT count(*) FROM charges").await;
        assert_eq!(rows, 1);
        let secs = started.elapsed().as_secs_f64();
        let rejected = engine.client().request_log().since(mark).iter().filter(|e| e.status == Some(429)).count();
        (CHARGES as f64 / secs, secs, rejected)
    });
    println!(
        "throughput: count(*) with max_concurrency {WIDE}: {wide:.0} objects/s in {wide_secs:.1} s ({wide_rejected} answered 429); \
         {:.1}% of the bound, {:.1}x sequential",
        100.0 * wide / BOUND,
        wide / sequential_rate
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
