//! Emulator throughput: list requests per second against the demo account (scale 5,
//! about 10,000 charges), sequential and with 8 concurrent clients, plus criterion
//! timings of single list pages (first page, deep cursor, filtered).

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::{Duration, Instant};
use stripe_sql::emulator::{Emulator, EmulatorConfig};

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().pool_max_idle_per_host(16).build().expect("client")
}

async fn list(c: &reqwest::Client, url: &str, key: &str) -> usize {
    let r = c.get(url).bearer_auth(key).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200);
    r.bytes().await.expect("body").len()
}

fn throughput(rt: &tokio::runtime::Runtime, emu: &Emulator, concurrency: usize, total: usize) -> f64 {
    let url = format!("{}/v1/charges?limit=100", emu.base_url());
    let key = emu.api_key().to_string();
    rt.block_on(async {
        let c = client();
        let started = Instant::now();
        let mut tasks = vec![];
        for _ in 0..concurrency {
            let (c, url, key) = (c.clone(), url.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..total / concurrency {
                    list(&c, &url, &key).await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        total as f64 / started.elapsed().as_secs_f64()
    })
}

fn bench(c: &mut Criterion) {
    let emu = Emulator::start(EmulatorConfig { scale: 5, ..EmulatorConfig::demo() }).expect("emulator");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let seq = throughput(&rt, &emu, 1, 1000);
    let par = throughput(&rt, &emu, 8, 2000);
    println!(
        "emulator: {} charges; list requests/second (limit=100): sequential {seq:.0}/s, 8 concurrent {par:.0}/s",
        emu.count("charges")
    );
    let http = client();
    let key = emu.api_key().to_string();
    let base = emu.base_url();
    let deep = rt.block_on(async {
        let r = http
            .get(format!("{base}/v1/charges?limit=100&created[lt]=1780000000"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        v["data"][99]["id"].as_str().unwrap().to_string()
    });
    let mut g = c.benchmark_group("emulator_list");
    g.measurement_time(Duration::from_secs(5)).sample_size(30);
    for (name, url) in [
        ("first_page_100", format!("{base}/v1/charges?limit=100")),
        ("deep_cursor_100", format!("{base}/v1/charges?limit=100&starting_after={deep}")),
        ("created_range_10", format!("{base}/v1/charges?created[gte]=1770000000&created[lt]=1775000000")),
        ("filtered_customer_10", format!("{base}/v1/payment_intents?customer=cus_none")),
    ] {
        g.bench_function(name, |b| b.to_async(&rt).iter(|| list(&http, &url, &key)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
