//! Every fault knob: scheduled failures, rate limits (429 shaped like Stripe's),
//! latency, hung responses, truncated bodies, dropped connections after commit, the
//! random 5xx rate, and determinism with the seed.

use super::support::{Api, fresh};
use std::time::{Duration, Instant};
use stripe_sql::emulator::{Emulator, EmulatorConfig};

#[tokio::test]
async fn scheduled_failures_and_429_shape() {
    let emu = fresh();
    let api = Api::new(&emu);
    emu.fail_next(2, 500);
    for _ in 0..2 {
        let r = api.get("/v1/customers", &[]).await;
        assert_eq!((r.status, r.err("type").as_str()), (500, "api_error"));
        assert!(r.header("request-id").is_some());
    }
    assert_eq!(api.get("/v1/customers", &[]).await.status, 200);
    emu.fail_next_on(1, 503, "/v1/charges");
    assert_eq!(api.get("/v1/customers", &[]).await.status, 200, "other paths are not affected");
    assert_eq!(api.get("/v1/charges", &[]).await.status, 503);
    assert_eq!(api.get("/v1/charges", &[]).await.status, 200);
    emu.fail_next(1, 429);
    let r = api.get("/v1/customers", &[]).await;
    assert_eq!((r.status, r.err("type").as_str(), r.err("code").as_str()), (429, "rate_limit_error", "rate_limit"));
    assert!(r.header("stripe-should-retry").is_none());
    // A failed write was not executed.
    emu.fail_next(1, 500);
    assert_eq!(api.post("/v1/customers", &[]).await.status, 500);
    assert_eq!(emu.count("customers"), 0);
}

#[tokio::test]
async fn rate_limits_global_and_per_endpoint() {
    let emu = fresh();
    let api = Api::new(&emu);
    emu.set_rate_limits(0.0, 5.0);
    let mut limited = 0;
    for _ in 0..30 {
        let r = api.get("/v1/customers", &[]).await;
        if r.status == 429 {
            assert_eq!(r.err("type"), "rate_limit_error");
            limited += 1;
        }
    }
    assert!(limited >= 20, "a 5 rps budget must reject most of a 30-request burst ({limited})");
    // How the budget refills over time is `limits::tests` in the emulator's
    // crate, on synthetic instants.
    emu.set_rate_limits(3.0, 0.0);
    let statuses: Vec<u16> = futures_statuses(&api, "/v1/customers", 10).await;
    assert!(statuses.contains(&429));
    assert_eq!(api.get("/v1/products", &[]).await.status, 200, "another endpoint has its own budget");
    assert_eq!(api.get("/v1/customers/cus_x", &[]).await.status, 404, "retrieve is another endpoint");
    emu.set_rate_limits(0.0, 0.0);
    assert!(futures_statuses(&api, "/v1/customers", 20).await.iter().all(|s| *s == 200));
}

async fn futures_statuses(api: &Api, path: &str, n: usize) -> Vec<u16> {
    let mut out = vec![];
    for _ in 0..n {
        out.push(api.get(path, &[]).await.status);
    }
    out
}

#[tokio::test]
async fn latency_hang_truncate_and_drop() {
    let emu = fresh();
    let api = Api::new(&emu);
    emu.set_latency(Duration::from_millis(150), Duration::from_millis(50));
    let t = Instant::now();
    assert_eq!(api.get("/v1/customers", &[]).await.status, 200);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(150) && took < Duration::from_secs(5), "{took:?}");
    emu.set_latency(Duration::ZERO, Duration::ZERO);
    // Hang: the client times out; the next request is answered.
    emu.hang_next(1);
    let r = api.raw_get("/v1/customers").timeout(Duration::from_millis(300)).send().await;
    assert!(r.is_err_and(|e| e.is_timeout()));
    assert_eq!(api.get("/v1/customers", &[]).await.status, 200);
    // Truncated body: valid status, broken JSON.
    emu.truncate_next(1);
    let r = api.raw_get("/v1/customers").send().await.unwrap();
    let bytes = r.bytes().await.unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
    assert!(!bytes.is_empty());
    assert!(api.get("/v1/customers", &[]).await.body.is_object());
    // Drop after commit: the client sees a failure but the customer exists.
    emu.drop_next_writes(1);
    assert_eq!(api.get("/v1/customers", &[]).await.status, 200, "reads are not dropped");
    let sent = api.form("/v1/customers", &[("email", "dropped@example.com")]).bearer_auth(&api.key).send().await;
    let failed = match sent {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "the client must not get the answer");
    assert_eq!(emu.count("customers"), 1, "the write was committed");
    let list = api.get("/v1/customers", &[("email", "dropped@example.com")]).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
}

fn statuses_with(cfg: EmulatorConfig, n: usize) -> Vec<u16> {
    let emu = Emulator::start(cfg).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let api = Api::new(&emu);
        let mut out = vec![];
        for _ in 0..n {
            out.push(api.get("/v1/customers", &[]).await.status);
        }
        out
    })
}

#[test]
fn fail_rate_is_random_but_deterministic_with_the_seed() {
    let cfg = || EmulatorConfig { fail_rate: 0.5, seed: 7, ..Default::default() };
    let a = statuses_with(cfg(), 40);
    let b = statuses_with(cfg(), 40);
    assert_eq!(a, b, "same seed, same failures");
    let fails = a.iter().filter(|s| **s == 500).count();
    assert!((8..=32).contains(&fails), "about half fail: {fails}");
    let c = statuses_with(EmulatorConfig { fail_rate: 0.5, seed: 8, ..Default::default() }, 40);
    assert_ne!(a, c, "another seed, other failures");
    assert!(statuses_with(EmulatorConfig { fail_rate: 1.0, ..Default::default() }, 5).iter().all(|s| *s == 500));
}

#[test]
fn drop_after_commit_rate_drops_writes() {
    let emu = Emulator::start(EmulatorConfig { drop_after_commit_rate: 1.0, ..Default::default() }).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let api = Api::new(&emu);
        for _ in 0..3 {
            let sent = api.form("/v1/products", &[("name", "x")]).bearer_auth(&api.key).send().await;
            let failed = match sent {
                Err(_) => true,
                Ok(r) => r.bytes().await.is_err(),
            };
            assert!(failed);
        }
        assert_eq!(api.get("/v1/products", &[]).await.status, 200);
    });
    assert_eq!(emu.count("products"), 3);
}
