//! Join key pushdown at Stripe's speed (issue 19): 50,000 charges of 5,000
//! customers served by the emulator with 300 ms per response and 25 requests/s
//! per endpoint (the client's limiter set to the same). The charges of one
//! customer found by email,
//! `SELECT c.id FROM charges c JOIN customers cu ON c.customer = cu.id WHERE cu.email = …`,
//! run pushed (the customers list gives one key: one `charges?customer=` list)
//! and not pushed (`SET stripe.join_pushdown = false`: a full charges scan),
//! in the same run; prints the calls and wall time of each, then lets
//! criterion time the pushed query.
//!
//! Run with `cargo bench --profile perf --bench join`. Measured 2026-12-05:
//! pushed 2 calls 0.68 s, not pushed 511 calls 22.03 s, criterion 669 ms for
//! the pushed query (`--profile dev`: 2 calls 0.74 s, 511 calls 22.11 s; the
//! query waits on the network).

#[path = "support/charges.rs"]
mod charges;

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;

const CHARGES: usize = 50_000;
/// `support/charges.rs` gives charge `n` the customer `cus_{n % 5000}`.
const CUSTOMERS: usize = 5_000;
const LATENCY: Duration = Duration::from_millis(300);
const ENDPOINT_RPS: f64 = 25.0;
const QUERY: &str = "SELECT c.id, c.amount FROM charges c JOIN customers cu ON c.customer = cu.id \
                     WHERE cu.email = 'customer42@example.com'";

/// Rows, calls and seconds of one run of `sql`.
async fn run(engine: &Engine, sql: &str) -> (usize, u64, f64) {
    let mark = engine.client().request_log().len() as u64;
    let started = Instant::now();
    let batches = engine.sql(sql).await.expect("query");
    let secs = started.elapsed().as_secs_f64();
    let calls = engine.client().request_log().len() as u64 - mark;
    (batches.iter().map(|b| b.num_rows()).sum(), calls, secs)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let config = EmulatorConfig { latency: LATENCY, endpoint_rps: ENDPOINT_RPS, ..EmulatorConfig::default() };
    let engine = Engine::with_emulator(config, |c| {
        c.endpoint_rps = ENDPOINT_RPS;
        c.max_rps = ENDPOINT_RPS;
    })
    .expect("engine");
    let emulator = engine.emulator().expect("emulator");
    emulator.insert_objects("charges", (0..CHARGES).map(|n| charges::charge(n, 40)));
    emulator.insert_objects(
        "customers",
        (0..CUSTOMERS).map(|k| {
            json!({"id": format!("cus_{k:08}"), "object": "customer", "created": charges::NEWEST - k as i64,
                   "email": format!("customer{k}@example.com"), "livemode": false, "metadata": {}})
        }),
    );

    let (pushed_rows, pushed_calls, pushed_secs) = rt.block_on(run(&engine, QUERY));
    rt.block_on(engine.sql("SET stripe.join_pushdown = false")).expect("set");
    let (plain_rows, plain_calls, plain_secs) = rt.block_on(run(&engine, QUERY));
    rt.block_on(engine.sql("SET stripe.join_pushdown = true")).expect("set");
    assert_eq!(pushed_rows, plain_rows, "pushed and unpushed joins return the same rows");
    println!(
        "join charges-customers by email, {CHARGES} charges, {} ms latency, {ENDPOINT_RPS} req/s per endpoint:",
        LATENCY.as_millis()
    );
    println!("  pushed:     {pushed_rows} rows, {pushed_calls} calls, {pushed_secs:.2} s");
    println!("  not pushed: {plain_rows} rows, {plain_calls} calls, {plain_secs:.2} s");
    println!(
        "  pushed makes {:.0}x fewer calls and is {:.1}x faster",
        plain_calls as f64 / pushed_calls.max(1) as f64,
        plain_secs / pushed_secs.max(f64::EPSILON)
    );

    let mut group = c.benchmark_group("join");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("charges-customers by email, pushed", |b| b.iter(|| rt.block_on(run(&engine, QUERY))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
