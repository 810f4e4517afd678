//! Memory of a long-running `stripe-sql serve --demo` under connection churn
//! and busy sessions, the way a BI tool's connection pool uses it: resident
//! memory after a warm-up, after 1,000 short connections (20 at a time, one
//! `SELECT 1` each) and after 60 s of 8 busy connections; the growth after
//! the warm-up (target: < 50 MiB, zero errors) and the mean connect time
//! (connect, startup, first `SELECT 1`).
//!
//! Then the same for `watch`: 10,000 polls of a changes watch over the
//! in-process emulator, its clock advanced one second and a customer created
//! and updated every 10 polls; this process's resident memory after 1,000
//! and after 10,000 polls.
//!
//! With `SOAK_BASELINE_BIN=/path/to/an/older/stripe-sql` the same soak also
//! runs against that binary in the same run, so before and after are
//! compared on one machine state. `SOAK_BUSY_SECS` shortens the busy phase;
//! `SOAK_BIN` names the binary to soak instead of this build's.
//!
//! Run with `cargo bench --profile perf --bench soak` (or `--profile dev`:
//! memory growth does not depend on the optimisation level).

#[path = "support/soak.rs"]
mod soak;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::watch::{WatchOptions, Watcher};

use criterion::{Criterion, criterion_group, criterion_main};

const CONNECTIONS: usize = 1_000;
const PARALLEL: usize = 20;
const BUSY_CONNECTIONS: usize = 8;
const WARMUP: usize = 50;

fn run(label: &str, bin: &Path, busy: Duration) -> soak::SoakFigures {
    let server = soak::Server::start(bin, &[]);
    let f = soak::soak(&server, WARMUP, CONNECTIONS, PARALLEL, BUSY_CONNECTIONS, soak::Busy::For(busy));
    println!(
        "soak[{label}]: RSS warm {:.1} MiB -> after {} connections {:.1} MiB -> after {} busy queries on {BUSY_CONNECTIONS} connections over {} s {:.1} MiB; \
         growth {:.1} MiB, {} errors; connect + first SELECT 1: {:.2} ms",
        f.warm_mib,
        f.connections,
        f.after_churn_mib,
        f.busy_queries,
        busy.as_secs(),
        f.after_busy_mib,
        f.growth_mib(),
        f.errors,
        f.connect_ms
    );
    f
}

fn bench(_c: &mut Criterion) {
    let busy = Duration::from_secs(std::env::var("SOAK_BUSY_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60));
    let bin = std::env::var_os("SOAK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_stripe-sql")));
    let now = run("this build", &bin, busy);
    if let Some(old) = std::env::var_os("SOAK_BASELINE_BIN") {
        let before = run("baseline", Path::new(&old), busy);
        println!(
            "soak: growth {:.1} MiB (baseline {:.1} MiB); connect {:.2} ms (baseline {:.2} ms, {:.1}x)",
            now.growth_mib(),
            before.growth_mib(),
            now.connect_ms,
            before.connect_ms,
            before.connect_ms / now.connect_ms
        );
    }
    let verdict = if now.growth_mib() < 50.0 && now.errors == 0 { "met" } else { "NOT met" };
    println!("soak: target (growth < 50 MiB after warm-up, 0 errors) {verdict}");
    watch_soak();
}

/// 10,000 polls of a watch on the emulator's clock; RSS after 1,000 and 10,000.
fn watch_soak() {
    const T0: i64 = 1_704_067_200;
    const POLLS: usize = 10_000;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let engine = Arc::new(Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("emulator"));
        let emulator = engine.emulator().expect("in-process emulator");
        emulator.set_clock(Some(T0));
        let opts = WatchOptions { changes: true, since: Some(T0), settle: 10, ..Default::default() };
        let mut watcher = Watcher::new(Arc::clone(&engine), "SELECT id, email FROM customers", opts).await.expect("watch");
        let started = Instant::now();
        let (mut at_1000, mut rows) = (0.0, 0);
        for poll in 0..POLLS {
            if poll % 10 == 0 {
                emulator.set_clock(Some(T0 + (poll / 10) as i64));
                let email = format!("w{poll}@soak.test");
                engine.sql(&format!("INSERT INTO customers (email) VALUES ('{email}')")).await.expect("insert");
                engine.sql(&format!("UPDATE customers SET name = 'n' WHERE email = '{email}'")).await.expect("update");
            }
            rows += watcher.poll_and_commit().await.expect("poll").rows;
            if poll + 1 == 1_000 {
                at_1000 = soak::rss_mib(std::process::id());
            }
        }
        let at_end = soak::rss_mib(std::process::id());
        println!(
            "soak[watch]: RSS after 1,000 polls {at_1000:.1} MiB, after {POLLS} polls {at_end:.1} MiB (growth {:.1} MiB over 9,000 polls              that created and updated 900 customers); {rows} rows reported in {:.1} s; request log keeps {} of {} entries",
            at_end - at_1000,
            started.elapsed().as_secs_f64(),
            engine.client().request_log().kept(),
            engine.client().request_log().len()
        );
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
