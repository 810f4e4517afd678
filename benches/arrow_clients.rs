//! Bulk reads into a pyarrow Table through the three client paths of
//! `serve` (issue 22): the same 50,000 charges (the emulator's demo data at
//! scale 25) through Flight SQL (ADBC Flight SQL driver: Arrow record
//! batches), the Postgres port's binary COPY (ADBC PostgreSQL driver) and
//! psycopg row fetches, in one run. Each client first copies the rows into a
//! table of its own session (one Stripe scan each, untimed), so the figures
//! compare the wire paths, not the emulator. Prints rows/s of each, then
//! lets criterion time a whole Flight SQL pull of 5,000 charges (Python
//! start, session copy and read).
//!
//! Needs tests/peers/install.sh (pyarrow, the ADBC drivers, psycopg). Run
//! with `cargo bench --bench arrow_clients` (or `--profile perf`). Measured
//! 2026-12-05 with `--profile dev`: Flight SQL 534,571 rows/s (0.094 s),
//! binary COPY 91,073 rows/s (0.549 s), psycopg 36,289 rows/s (1.378 s);
//! criterion 2.47 s for a whole Flight SQL pull of 5,000 charges (mostly the
//! Python start and the session's copy from the emulator).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql_app::server::flight::{FlightOptions, FlightServer};
use stripe_sql_app::server::{Server, ServerOptions, shared_runtime};

const ROWS: usize = 50_000;
const SOURCE: &str = "SELECT id, amount, currency, customer, created, status, description, paid, metadata \
                      FROM charges ORDER BY id LIMIT 50000";

fn python() -> PathBuf {
    let peers = std::env::var_os("STRIPE_SQL_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs::home_dir().expect("home").join(".cache/stripe-sql-peers"));
    let python = peers.join("venv/bin/python");
    assert!(python.is_file(), "{} is missing: run tests/peers/install.sh", python.display());
    python
}

/// Runs the pull script on `source` (`rows` rows) with `methods`: seconds per method.
fn pull(pg: SocketAddr, flight: SocketAddr, source: &str, rows: usize, methods: &str) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/support/arrow_pull.py");
    let out = Command::new(python())
        .arg(script)
        .args([
            pg.port().to_string(),
            flight.port().to_string(),
            source.to_owned(),
            rows.to_string(),
            methods.to_owned(),
        ])
        .output()
        .expect("run arrow_pull.py");
    assert!(out.status.success(), "arrow_pull.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("arrow_pull.py prints JSON")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let config = EmulatorConfig { scale: 25, ..EmulatorConfig::demo() };
    let engine = Engine::with_emulator(config, |_| {}).expect("engine");
    let (pg, flight) = rt.block_on(async {
        let pg = Server::bind("127.0.0.1:0".parse().unwrap(), engine.client().clone(), ServerOptions::default())
            .await
            .expect("bind the Postgres port");
        let runtime = shared_runtime(ServerOptions::default().memory_limit).expect("runtime env");
        let flight = FlightServer::bind(
            "127.0.0.1:0".parse().unwrap(),
            engine.client().clone(),
            runtime,
            FlightOptions::default(),
        )
        .await
        .expect("bind Flight SQL");
        let addrs = (pg.local_addr().unwrap(), flight.local_addr().unwrap());
        tokio::spawn(pg.run());
        tokio::spawn(flight.run());
        addrs
    });

    let figures = pull(pg, flight, SOURCE, ROWS, "flight,adbc_pg,psycopg");
    println!("{ROWS} charges (emulator demo data at scale 25) into a pyarrow Table, one run:");
    for (name, label) in [
        ("flight", "Flight SQL (ADBC)      "),
        ("adbc_pg", "binary COPY (ADBC pg)  "),
        ("psycopg", "psycopg row fetches    "),
    ] {
        let secs = figures[name]["seconds"].as_f64().expect("seconds");
        println!("  {label} {:>10.0} rows/s  ({secs:.3} s)", ROWS as f64 / secs);
    }

    let mut group = c.benchmark_group("arrow_clients");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let small =
        "SELECT id, amount, currency, customer, created, status, description, paid, metadata FROM charges LIMIT 5000";
    group.bench_function("Flight SQL pull of 5,000 charges", |b| b.iter(|| pull(pg, flight, small, 5000, "flight")));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
