//! JSON → Arrow decoding on one core: pages of charges and customers from the
//! demo emulator, decoded into all of the table's columns. Prints objects/s
//! and MB/s (of response JSON) for the decoder alone and for parsing the
//! response bytes plus decoding (what the scan does per page).
//!
//! Run with `cargo bench --profile dev --bench decode` (a release build takes
//! ~18 minutes on the build machine). Debug-build figures are several times
//! below release ones; the bench says which profile it ran in.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use serde_json::{Value, json};
use stripe_sql::catalog;
use stripe_sql::engine::Engine;
use stripe_sql::provider::decode::Decoder;

/// Up to `pages` raw pages of 100 objects of `path`, as response bytes.
async fn pages(engine: &Engine, path: &str, pages: usize) -> Vec<Vec<u8>> {
    let mut stream = engine.client().list(path, json!({"limit": 100}));
    let mut out = Vec::new();
    while let Some(page) = stream.next().await {
        let page = page.expect("page");
        out.push(serde_json::to_vec(&json!({"object": "list", "data": page.data, "has_more": page.has_more})).expect("json"));
        if out.len() == pages {
            break;
        }
    }
    out
}

/// Runs `f` over every page until `at_least` has passed; returns (objects, bytes, seconds).
fn measure(bodies: &[Vec<u8>], at_least: Duration, mut f: impl FnMut(&[u8]) -> usize) -> (usize, usize, f64) {
    let started = Instant::now();
    let (mut objects, mut bytes) = (0, 0);
    while started.elapsed() < at_least {
        for body in bodies {
            objects += f(body);
            bytes += body.len();
        }
    }
    (objects, bytes, started.elapsed().as_secs_f64())
}

fn report(table: &str, what: &str, (objects, bytes, secs): (usize, usize, f64)) {
    println!(
        "decode: {table} {what}: {:.0} objects/s, {:.1} MB/s per core ({objects} objects in {secs:.1} s)",
        objects as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}

fn bench(c: &mut Criterion) {
    let profile = if cfg!(debug_assertions) { "debug build" } else { "optimized build" };
    println!("decode: figures from a {profile}, one thread");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let engine = Engine::demo().expect("demo engine");
    for (table, path, n) in [("charges", "/v1/charges", 10), ("customers", "/v1/customers", 2)] {
        let bodies = rt.block_on(pages(&engine, path, n));
        let def = catalog::builtin().table(table).expect("table");
        let decoder = Decoder::new(def, None);
        let parsed: Vec<Vec<Value>> = bodies
            .iter()
            .map(|b| serde_json::from_slice::<Value>(b).expect("json")["data"].as_array().expect("data").clone())
            .collect();
        let mut page = 0;
        let decode_only = measure(&bodies, Duration::from_secs(3), |_| {
            let objects = &parsed[page % parsed.len()];
            page += 1;
            decoder.decode(objects).expect("decode").num_rows()
        });
        report(table, "decode (parsed objects -> RecordBatch)", decode_only);
        let parse_and_decode = measure(&bodies, Duration::from_secs(3), |body| {
            let value: Value = serde_json::from_slice(body).expect("json");
            let objects = value["data"].as_array().expect("data");
            decoder.decode(objects).expect("decode").num_rows()
        });
        report(table, "parse + decode (response bytes -> RecordBatch)", parse_and_decode);

        let mut group = c.benchmark_group(format!("decode_{table}"));
        group.sample_size(10);
        group.bench_function("one page of 100, all columns", |b| b.iter(|| decoder.decode(&parsed[0]).expect("decode")));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
