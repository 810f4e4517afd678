//! Shape of the demo data: sizes, every status present, consistent side effects.

use super::support::{Api, demo};
use std::collections::HashSet;
use stripe_sql::emulator::{Emulator, EmulatorConfig};

async fn statuses(api: &Api, path: &str, q: &[(&str, &str)]) -> HashSet<String> {
    api.list_all(path, q).await.iter().map(|v| v["status"].as_str().unwrap_or("").to_string()).collect()
}

fn has_all(got: &HashSet<String>, want: &[&str], what: &str) {
    for w in want {
        assert!(got.contains(*w), "demo {what} lack status {w}: {got:?}");
    }
}

#[tokio::test]
async fn demo_data_has_every_status() {
    let emu = demo();
    let api = Api::new(emu);
    assert_eq!(emu.count("customers"), 200);
    assert!((1800..=2100).contains(&emu.count("charges")), "{}", emu.count("charges"));
    has_all(
        &statuses(&api, "/v1/payment_intents", &[]).await,
        &[
            "requires_payment_method",
            "requires_confirmation",
            "requires_capture",
            "requires_action",
            "processing",
            "canceled",
            "succeeded",
        ],
        "payment intents",
    );
    has_all(
        &statuses(&api, "/v1/subscriptions", &[("status", "all")]).await,
        &["active", "trialing", "canceled", "past_due", "unpaid", "incomplete", "incomplete_expired", "paused"],
        "subscriptions",
    );
    has_all(
        &statuses(&api, "/v1/invoices", &[]).await,
        &["draft", "open", "paid", "void", "uncollectible"],
        "invoices",
    );
    has_all(&statuses(&api, "/v1/quotes", &[]).await, &["draft", "open", "accepted", "canceled"], "quotes");
    has_all(&statuses(&api, "/v1/charges", &[]).await, &["succeeded", "failed"], "charges");
    has_all(&statuses(&api, "/v1/refunds", &[]).await, &["succeeded", "requires_action"], "refunds");
    has_all(&statuses(&api, "/v1/disputes", &[]).await, &["needs_response", "won", "lost"], "disputes");
    has_all(
        &statuses(&api, "/v1/payouts", &[]).await,
        &["paid", "in_transit", "pending", "canceled", "failed"],
        "payouts",
    );
    let customers = api.list_all("/v1/customers", &[]).await;
    assert!(
        customers
            .iter()
            .all(|c| c["email"].as_str().is_some_and(|e| e.contains('@')) && c["metadata"]["plan"].is_string())
    );
    let countries: HashSet<&str> = customers.iter().filter_map(|c| c["address"]["country"].as_str()).collect();
    assert!(countries.len() >= 5);
    // 18 months of charges before the reference time.
    let charges = api.list_all("/v1/charges", &[]).await;
    let newest = charges.first().unwrap()["created"].as_i64().unwrap();
    let oldest = charges.last().unwrap()["created"].as_i64().unwrap();
    assert!(newest <= stripe_sql::emulator::demo::REFERENCE_NOW);
    assert!(newest - oldest > 500 * 86_400, "charges span about 18 months");
    // Every captured charge has its balance transaction; refunded charges are consistent.
    let txns: HashSet<String> = api
        .list_all("/v1/balance_transactions", &[("type", "charge")])
        .await
        .iter()
        .map(|t| t["source"].as_str().unwrap().to_string())
        .collect();
    for c in charges.iter().filter(|c| c["captured"] == true) {
        assert!(txns.contains(c["id"].as_str().unwrap()), "captured charge without balance transaction");
    }
    assert!(charges.iter().any(|c| c["refunded"] == true) && charges.iter().any(|c| c["disputed"] == true));
    let prices = api.list_all("/v1/prices", &[]).await;
    assert!(prices.iter().any(|p| p["type"] == "one_time") && prices.iter().any(|p| p["type"] == "recurring"));
    assert!(emu.count("coupons") >= 5 && emu.count("events") > 50 && emu.count("invoiceitems") > 0);
}

#[test]
fn demo_data_is_deterministic_and_scales() {
    let a = Emulator::start(EmulatorConfig::demo()).unwrap();
    let b = Emulator::start(EmulatorConfig::demo()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (x, y) = (Api::new(&a), Api::new(&b));
        let p = [("limit", "100")];
        assert_eq!(x.get("/v1/charges", &p).await.body, y.get("/v1/charges", &p).await.body);
        assert_eq!(x.get("/v1/subscriptions", &p).await.body, y.get("/v1/subscriptions", &p).await.body);
    });
    let started = std::time::Instant::now();
    let big = Emulator::start(EmulatorConfig { scale: 3, ..EmulatorConfig::demo() }).unwrap();
    assert_eq!(big.count("customers"), 600);
    assert!(big.count("charges") > 5_000);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

/// 50,000+ objects: generation time and list-page latency stay small (run explicitly:
/// `cargo test --test integration emulator::demo::large -- --ignored`).
#[test]
#[ignore = "builds a 50,000-charge account; slow in debug builds"]
fn large_demo_account_lists_fast() {
    let started = std::time::Instant::now();
    let emu = Emulator::start(EmulatorConfig { scale: 25, ..EmulatorConfig::demo() }).unwrap();
    let built = started.elapsed();
    assert!(emu.count("charges") > 45_000);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let per_page = rt.block_on(async {
        let api = Api::new(&emu);
        let t = std::time::Instant::now();
        let mut after: Option<String> = None;
        for _ in 0..50 {
            let mut q = vec![("limit", "100")];
            if let Some(a) = &after {
                q.push(("starting_after", a.as_str()));
            }
            let r = api.get("/v1/charges", &q).await;
            after = r.body["data"][99]["id"].as_str().map(String::from);
        }
        t.elapsed() / 50
    });
    println!(
        "scale 25: {} charges, {} events; built in {built:?}; {per_page:?} per 100-object page",
        emu.count("charges"),
        emu.count("events")
    );
    assert!(per_page < std::time::Duration::from_millis(200), "{per_page:?}");
}
