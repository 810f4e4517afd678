//! The client-side limiter under concurrency, measured with the server's own timestamps.

use super::server::{Reply, TestServer};
use serde_json::json;
use std::time::{Duration, Instant};

/// The largest number of requests inside any one-second window starting at a request.
fn max_per_second(mut times: Vec<Instant>) -> usize {
    times.sort();
    (0..times.len())
        .map(|i| times[i..].iter().take_while(|t| **t - times[i] < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}

fn span(times: &[Instant]) -> Duration {
    let first = times.iter().min().unwrap();
    let last = times.iter().max().unwrap();
    *last - *first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_rate_holds_under_8_concurrent_callers() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({"object": "balance"}))).await;
    let client = server.client(|c| {
        c.max_rps = 20.0;
        c.endpoint_rps = 20.0;
    });
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..5 {
                    client.get("/v1/balance", &json!({})).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let times: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 40);
    let peak = max_per_second(times.clone());
    assert!(peak <= 21, "{peak} requests in one second with a budget of 20/s");
    // 40 requests at 20/s need at least ~1.95 s between the first and the last.
    assert!(span(&times) >= Duration::from_millis(1750), "all 40 requests within {:?}", span(&times));
    assert_eq!(client.request_log().len(), 40, "clones share the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_endpoint_has_its_own_budget_with_ids_collapsed() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let client = server.client(|c| {
        c.max_rps = 100.0;
        c.endpoint_rps = 5.0;
    });
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client.get(&format!("/v1/charges/ch_{i}X"), &json!({})).await.unwrap();
                client.get("/v1/customers", &json!({})).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let seen = server.requests();
    for prefix in ["/v1/charges/", "/v1/customers"] {
        let times: Vec<Instant> = seen.iter().filter(|r| r.path.starts_with(prefix)).map(|r| r.at).collect();
        assert_eq!(times.len(), 8, "{prefix}");
        let peak = max_per_second(times.clone());
        assert!(peak <= 6, "{peak} requests to {prefix} in one second with a budget of 5/s");
        assert!(span(&times) >= Duration::from_millis(1250), "{prefix}: 8 requests within {:?}", span(&times));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_rate_holds_across_different_endpoints() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let client = server.client(|c| {
        c.max_rps = 10.0;
        c.endpoint_rps = 25.0;
    });
    let paths = ["/v1/customers", "/v1/charges", "/v1/invoices", "/v1/products"];
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            let path = paths[i % paths.len()];
            tokio::spawn(async move {
                for _ in 0..2 {
                    client.get(path, &json!({})).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let times: Vec<Instant> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 16);
    let peak = max_per_second(times.clone());
    assert!(peak <= 11, "{peak} requests in one second with a global budget of 10/s");
    assert!(span(&times) >= Duration::from_millis(1350), "16 requests within {:?}", span(&times));
}
