//! JSON → Arrow decoding on one core: pages of charges and customers from the
//! demo emulator, decoded into all of the table's columns (`_raw` included).
//! Prints objects/s and MB/s (of response JSON) for:
//!
//! - the scan's path: response bytes → object spans → RecordBatch
//!   (`RawPage::parse` + `Decoder::decode_raw`), on the compact JSON the
//!   emulator sends and on the pretty-printed JSON Stripe sends;
//! - the value path writes and actions use: parsed `serde_json::Value`s →
//!   RecordBatch (`Decoder::decode`), and parsing the bytes into values first.
//!
//! Run with `cargo bench --profile perf --bench decode` (optimized; the first
//! build takes ~25 minutes here) or `--profile dev` (debug figures are several
//! times lower; the bench says which profile it ran in).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt;
use serde_json::{Value, json};
use stripe_sql::catalog;
use stripe_sql::decode::Decoder;
use stripe_sql::engine::Engine;
use stripe_sql::stripe::RawPage;

/// Up to `pages` pages of 100 objects of `path`, as values.
async fn pages(engine: &Engine, path: &str, pages: usize) -> Vec<Vec<Value>> {
    let mut stream = engine.client().list(path, json!({"limit": 100}));
    let mut out = Vec::new();
    while let Some(page) = stream.next().await {
        out.push(page.expect("page").data);
        if out.len() == pages {
            break;
        }
    }
    out
}

/// A list response body holding `objects`.
fn body(objects: &[Value], pretty: bool) -> Vec<u8> {
    let envelope = json!({"object": "list", "data": objects, "has_more": true, "url": "/v1/x"});
    if pretty { serde_json::to_vec_pretty(&envelope) } else { serde_json::to_vec(&envelope) }.expect("json")
}

/// Runs `f` over every page until `at_least` has passed; returns (objects, bytes, seconds).
fn measure(bodies: &[Vec<u8>], at_least: Duration, mut f: impl FnMut(usize, &[u8]) -> usize) -> (usize, usize, f64) {
    let started = Instant::now();
    let (mut objects, mut bytes) = (0, 0);
    while started.elapsed() < at_least {
        for (i, body) in bodies.iter().enumerate() {
            objects += f(i, body);
            bytes += body.len();
        }
    }
    (objects, bytes, started.elapsed().as_secs_f64())
}

fn report(table: &str, what: &str, (objects, bytes, secs): (usize, usize, f64)) -> f64 {
    let rate = objects as f64 / secs;
    println!(
        "decode: {table} {what}: {rate:.0} objects/s, {:.1} MB/s per core ({objects} objects in {secs:.1} s)",
        bytes as f64 / secs / 1e6
    );
    rate
}

fn bench(c: &mut Criterion) {
    let profile = if cfg!(debug_assertions) { "debug build" } else { "optimized build" };
    println!("decode: figures from a {profile}, one thread");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let engine = Engine::demo().expect("demo engine");
    let window = Duration::from_secs(3);
    for (table, path, n) in [("charges", "/v1/charges", 10), ("customers", "/v1/customers", 2)] {
        let parsed = rt.block_on(pages(&engine, path, n));
        let def = catalog::builtin().table(table).expect("table");
        let decoder = Decoder::new(def, None);
        let compact: Vec<Vec<u8>> = parsed.iter().map(|p| body(p, false)).collect();
        let pretty: Vec<Vec<u8>> = parsed.iter().map(|p| body(p, true)).collect();
        let text_path = |_: usize, body: &[u8]| {
            let page = RawPage::parse(body).expect("page");
            decoder.decode_raw(&page.objects, &[]).expect("decode").num_rows()
        };
        let scan =
            report(table, "bytes -> RecordBatch, compact JSON (the scan's path)", measure(&compact, window, text_path));
        report(table, "bytes -> RecordBatch, pretty JSON as Stripe sends it", measure(&pretty, window, text_path));
        report(
            table,
            "values -> RecordBatch (writes and actions)",
            measure(&compact, window, |i, _| decoder.decode(&parsed[i]).expect("decode").num_rows()),
        );
        let old = report(
            table,
            "bytes -> values -> RecordBatch (the old scan path)",
            measure(&compact, window, |_, body| {
                let value: Value = serde_json::from_slice(body).expect("json");
                decoder.decode(value["data"].as_array().expect("data")).expect("decode").num_rows()
            }),
        );
        println!(
            "decode: {table}: bytes -> RecordBatch is {:.2}x faster than through values (compact JSON)",
            scan / old
        );

        let mut group = c.benchmark_group(format!("decode_{table}"));
        group.sample_size(10);
        group.bench_function("one page of 100 from bytes, all columns", |b| b.iter(|| text_path(0, &compact[0])));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
