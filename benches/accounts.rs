//! Connect fan-out at scale: `SELECT count(*) FROM charges` under
//! `stripe.accounts = 'all'` over 10, 50 and 200 emulated connected accounts,
//! each holding `PER_ACCOUNT` charges and limited to 25 requests/s per endpoint
//! (a strict sliding window) with 300 ms latency per response. Prints objects/s
//! the process's peak RSS and CPU use (user + system seconds over wall
//! seconds: cores busy) during each count (the emulator runs in this process:
//! its stored charges are part of the RSS after start-up, the peak above it is
//! the engine's, and its request handling is part of the CPU).
//! Run with `cargo bench --profile dev --bench accounts` (debug-build figures).
//! `ACCOUNTS_BENCH_SIZES=10,50` picks the sizes, `ACCOUNTS_BENCH_CONCURRENCY`
//! the accounts read at a time (`stripe.account_concurrency`, default 32;
//! the bench sets 8 unless told).
//!
//! Measured on the 2-core build machine (debug build, 2026-12-05, load ~7 from
//! other builds): at 8 accounts at a time, 10 accounts 1,930 objects/s (0.16
//! cores busy, peak 266 MiB over 224 after start-up), 50 accounts 2,950 (0.24,
//! 852 over 782), 200 accounts 3,336 (0.27, 3,053 over 2,778): the accounts'
//! own round trips x 8 bound it, not the machine. 200 accounts at 64 at a time
//! (`ACCOUNTS_BENCH_CONCURRENCY=64`): 10,494 objects/s, 0.80 cores; at 200 at
//! a time: 6,245 objects/s, 0.48 cores (cause not isolated). The knee is about
//! 64 accounts in flight, ~10,000 objects/s per process.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::arrow::array::{Array, Int64Array};

#[path = "support/charges.rs"]
mod charges;
use stripe_sql::emulator::{EmulatorConfig, RateWindow};
use stripe_sql::engine::Engine;

const PER_ACCOUNT: usize = 1_000;

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s, Linux's `USER_HZ`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The command name (field 2) may hold spaces: count fields after its `)`.
    let rest = stat.rsplit_once(')').map_or(stat.as_str(), |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).expect("utime/stime in /proc/self/stat");
    // `rest` starts at field 3 (state): utime is field 14, stime 15.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn engine(accounts: u32) -> Engine {
    let config = EmulatorConfig {
        accounts,
        endpoint_rps: 25.0,
        rate_window: RateWindow::Sliding,
        latency: Duration::from_millis(300),
        ..EmulatorConfig::default()
    };
    let engine = Engine::with_emulator(config, |c| {
        // Each account's own budget is the per-endpoint 25/s; no overall cap.
        c.max_rps = 0.0;
        c.endpoint_rps = 25.0;
    })
    .expect("emulator starts");
    let emu = engine.emulator().expect("emulator");
    for account in emu.connected_accounts() {
        emu.insert_objects_in(&account, "charges", (0..PER_ACCOUNT).map(|n| charges::charge(n, 60)));
    }
    engine
}

fn bench(_c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let sizes: Vec<u32> = std::env::var("ACCOUNTS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 50, 200]);
    let concurrency = std::env::var("ACCOUNTS_BENCH_CONCURRENCY").ok().and_then(|n| n.parse().ok()).unwrap_or(8u64);
    for accounts in sizes {
        let engine = engine(accounts);
        rt.block_on(async {
            engine.sql("SET stripe.accounts = 'all'").await.expect("set");
            engine.sql(&format!("SET stripe.account_concurrency = {concurrency}")).await.expect("set");
        });
        let rss_start = status_kb("VmRSS:");
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let started = Instant::now();
        let cpu_before = cpu_seconds();
        let counted = rt.block_on(async {
            let batches = engine.sql("SELECT count(*) FROM charges").await.expect("count");
            batches[0].column(0).as_any().downcast_ref::<Int64Array>().expect("i64").value(0) as usize
        });
        let secs = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        let peak = status_kb("VmHWM:");
        assert_eq!(counted, accounts as usize * PER_ACCOUNT, "every account's charges");
        assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
        println!(
            "accounts: {accounts} accounts x {PER_ACCOUNT} charges, {concurrency} accounts at a time: {counted} objects in {secs:.1} s = {:.0} objects/s; CPU {cpu:.1} s = {:.2} cores busy of {}; RSS after start-up {} MiB, peak during count(*) {} MiB{}",
            counted as f64 / secs,
            cpu / secs,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            rss_start / 1024,
            peak / 1024,
            if reset { "" } else { " (VmHWM not reset: peak covers the whole process)" }
        );
        drop(engine);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
