//! Queries answered from the mirror. A Delta mirror of 1,000,000 charges is
//! written directly through the mirror store (`TableStore::append`) from
//! emulator-shaped charges (`support/charges.rs`, decoded by the engine's own
//! decoder, in batches of 100,000; `_raw` left NULL to keep the disk small)
//! rather than synced through HTTP, which would take ~7 min at the rate limit.
//! The charges are varied like a real account's: spread over 24 months, ~85 %
//! succeeded, ~10 % failed, ~5 % pending, some refunded.
//! Prints the time of `SELECT status, count(*), sum(amount) ... GROUP BY 1`
//! and of a month-by-month revenue query over the mirror (target < 1 s each),
//! the peak memory of the aggregate (target < 300 MB), measured in a child
//! process (this bench re-run with `MIRROR_READ_CHILD=DIR`) that only opens the
//! mirror and runs the aggregate: its peak RSS (VmHWM) and the growth over its
//! RSS before the query; and the same queries live against the emulator at 25
//! requests/s on 5,000 charges, scaled linearly to 50,000 and 1,000,000 (one
//! page of 100 per call), as the ratio. Criterion then times both mirror queries.
//!
//! Run with `cargo bench --profile perf --bench mirror_read` (optimized).

#[path = "support/charges.rs"]
mod charges;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use datafusion::arrow::array::new_null_array;
use datafusion::arrow::record_batch::RecordBatch;
use stripe_sql::catalog::ArrowSchema;
use stripe_sql::decode::Decoder;
use stripe_sql::emulator::{EmulatorConfig, RateWindow};
use stripe_sql::engine::Engine;
use stripe_sql::mirror::location::{self, Marker};
use stripe_sql::mirror::store::TableStore;
use stripe_sql::mirror::{fresh, state::TableState};

const ROWS: usize = 1_000_000;
const BATCH: usize = 100_000;
const LIVE_ROWS: usize = 5_000;
const RPS: f64 = 25.0;
const AGG: &str = "SELECT status, count(*), sum(amount) FROM charges GROUP BY 1";
const MONTHS: &str = "SELECT date_trunc('month', created) AS month, sum(amount) - sum(amount_refunded) AS revenue \
                      FROM charges WHERE status = 'succeeded' GROUP BY 1 ORDER BY 1";

/// A line of `/proc/self/status` (`VmHWM`: peak RSS, `VmRSS`: RSS) in MB.
fn status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1));
    kb.and_then(|k| k.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

/// Charge `n` of a realistic account: spread over 24 months (pairs 126 s
/// apart), mostly succeeded, some failed or pending, some refunded.
fn varied_charge(n: usize) -> serde_json::Value {
    let mut c = charges::charge(n, 126);
    let roll = (n.wrapping_mul(2_654_435_761) >> 7) % 100;
    let (status, paid) = match roll {
        0..=84 => ("succeeded", true),
        85..=94 => ("failed", false),
        _ => ("pending", false),
    };
    c["status"] = status.into();
    c["paid"] = paid.into();
    c["captured"] = paid.into();
    if !paid {
        c["amount_captured"] = 0.into();
        c["failure_code"] = if status == "failed" { "card_declined".into() } else { serde_json::Value::Null };
    } else if roll.is_multiple_of(17) {
        c["amount_refunded"] = c["amount"].clone();
        c["refunded"] = true.into();
    }
    c
}

/// The child process: opens the mirror in `dir`, runs the aggregate once and
/// prints its RSS before and its peak RSS after, in MB.
fn child(dir: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let engine = Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("engine");
    engine.set_mirror(dir.into());
    let before = status_mb("VmRSS:");
    let (_, groups) = rt.block_on(timed(&engine, AGG));
    assert_eq!(groups, 3);
    println!("{before:.1} {:.1}", status_mb("VmHWM:"));
}

/// Runs the aggregate in a child process over `dir`: (RSS before, peak RSS) in MB.
fn child_memory(dir: &std::path::Path) -> (f64, f64) {
    let exe = std::env::current_exe().expect("bench executable");
    let out = std::process::Command::new(exe).env("MIRROR_READ_CHILD", dir).output().expect("child runs");
    assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    let mut figures = line.split_whitespace().map(|f| f.parse::<f64>().expect("MB figure"));
    (figures.next().expect("before"), figures.next().expect("peak"))
}

async fn write_mirror(dir: &std::path::Path) {
    let marker = Marker::single("acct_bench", stripe_sql::catalog::builtin().api_version.clone());
    location::claim(dir, &marker).expect("claim");
    let def = stripe_sql::catalog::builtin().table("charges").expect("charges").clone();
    let def = Arc::new(def);
    let schema = def.arrow_schema();
    let mut store = TableStore::open(dir, "charges", schema.clone()).await.expect("store");
    let raw = schema.index_of("_raw").ok();
    for (step, start) in (0..ROWS).step_by(BATCH).enumerate() {
        let objects: Vec<_> = (start..start + BATCH).map(varied_charge).collect();
        let batch = Decoder::new(&def, None).decode(&objects).expect("decode");
        let batch = match raw {
            Some(i) => {
                let mut cols = batch.columns().to_vec();
                cols[i] = new_null_array(cols[i].data_type(), batch.num_rows());
                RecordBatch::try_new(batch.schema(), cols).expect("batch")
            }
            None => batch,
        };
        let state = TableState { step: step as i64 + 1, rows: (start + BATCH) as u64, ..TableState::default() };
        store.append(vec![batch], &state, false).await.expect("append");
    }
    fresh::record(dir, &["charges"], fresh::now());
}

async fn timed(engine: &Engine, sql: &str) -> (f64, usize) {
    let started = Instant::now();
    let batches = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    (started.elapsed().as_secs_f64(), batches.iter().map(|b| b.num_rows()).sum())
}

fn live_seconds(rt: &tokio::runtime::Runtime) -> (f64, f64) {
    let config = EmulatorConfig { endpoint_rps: RPS, rate_window: RateWindow::Sliding, ..EmulatorConfig::default() };
    let engine = Engine::with_emulator(config, |c| {
        c.endpoint_rps = RPS;
        c.max_rps = RPS;
    })
    .expect("engine");
    engine
        .emulator()
        .expect("emulator")
        .insert_objects("charges", (0..LIVE_ROWS).map(|n| varied_charge(n * (ROWS / LIVE_ROWS))));
    rt.block_on(async { (timed(&engine, AGG).await.0, timed(&engine, MONTHS).await.0) })
}

fn mirror_read(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("engine");
    let started = Instant::now();
    rt.block_on(write_mirror(dir.path()));
    println!("mirror_read: wrote {ROWS} charges into Delta in {:.1} s", started.elapsed().as_secs_f64());
    engine.set_mirror(dir.path().to_path_buf());
    let (before, peak) = child_memory(dir.path());
    println!(
        "mirror_read: memory of the 1,000,000-row aggregate (a child process that only runs it): peak RSS {peak:.0} MB, \
         {:.0} MB over its RSS before the query ({before:.0} MB); target < 300 MB",
        peak - before
    );
    let (agg, months) = rt.block_on(async {
        // Warm the file system cache and the Delta log once, as a dashboard's second view would.
        timed(&engine, AGG).await;
        (timed(&engine, AGG).await, timed(&engine, MONTHS).await)
    });
    println!("mirror_read: {AGG}: {:.3} s over {ROWS} mirrored charges ({} groups; target < 1 s)", agg.0, agg.1);
    println!(
        "mirror_read: month-by-month revenue: {:.3} s over {ROWS} mirrored charges ({} months; target < 1 s)",
        months.0, months.1
    );
    let (live_agg, live_months) = live_seconds(&rt);
    for (name, mirror, live) in [("aggregate", agg.0, live_agg), ("monthly revenue", months.0, live_months)] {
        let at_50k = live * 50_000.0 / LIVE_ROWS as f64;
        let at_1m = live * ROWS as f64 / LIVE_ROWS as f64;
        println!(
            "mirror_read: {name} live at {RPS} requests/s: {live:.1} s on {LIVE_ROWS} charges -> {at_50k:.0} s on 50,000 and {at_1m:.0} s on 1,000,000 (scaled); \
             mirror on 1,000,000 is {:.0}x faster than live on 50,000 and {:.0}x than live on 1,000,000",
            at_50k / mirror,
            at_1m / mirror
        );
    }
    let mut group = c.benchmark_group("mirror_read");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.bench_function("status aggregate, 1M charges", |b| b.to_async(&rt).iter(|| timed(&engine, AGG)));
    group.bench_function("monthly revenue, 1M charges", |b| b.to_async(&rt).iter(|| timed(&engine, MONTHS)));
    group.finish();
}

criterion_group!(benches, mirror_read);

fn main() {
    if let Ok(dir) = std::env::var("MIRROR_READ_CHILD") {
        child(&dir);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
