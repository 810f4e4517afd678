//! Connected accounts (`--accounts N`): the paged account list, each account's
//! own data behind `Stripe-Account`, its own rate limit, and Stripe's 403 for an
//! unknown or revoked account.

use super::support::{Api, ids};
use stripe_sql::emulator::{Emulator, EmulatorConfig};

fn platform(accounts: u32) -> Emulator {
    Emulator::start(EmulatorConfig { accounts, ..EmulatorConfig::demo() }).expect("emulator starts")
}

#[tokio::test]
async fn accounts_are_listed_in_pages_and_each_serves_its_own_data() {
    let emu = platform(25);
    let api = Api::new(&emu);
    let listed = api.list_all("/v1/accounts", &[]).await;
    assert_eq!(ids(&listed), emu.connected_accounts());
    assert_eq!(listed.len(), 25);
    let first = api.get("/v1/accounts", &[("limit", "10")]).await;
    assert_eq!(first.body["data"].as_array().map(Vec::len), Some(10));
    assert_eq!(first.body["has_more"], true);
    // Two accounts have their own customers, and neither has the platform's.
    let (a, b) = (&listed[0]["id"].as_str().unwrap().to_string(), &listed[1]["id"].as_str().unwrap().to_string());
    let ca = ids(&api.as_account(a).list_all("/v1/customers", &[]).await);
    let cb = ids(&api.as_account(b).list_all("/v1/customers", &[]).await);
    let platform_customers = ids(&api.list_all("/v1/customers", &[]).await);
    assert_eq!(ca.len(), emu.count_in(a, "customers"));
    assert!(!ca.is_empty() && !cb.is_empty());
    assert!(ca.iter().all(|id| !cb.contains(id) && !platform_customers.contains(id)), "ids are per account");
    // A write as an account lands in that account only.
    let before = (emu.count_in(a, "customers"), emu.count_in(b, "customers"), emu.count("customers"));
    let made = api.as_account(a).post("/v1/customers", &[("email", "x@example.com")]).await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(
        (emu.count_in(a, "customers"), emu.count_in(b, "customers"), emu.count("customers")),
        (before.0 + 1, before.1, before.2)
    );
}

#[tokio::test]
async fn unknown_and_revoked_accounts_answer_403_account_invalid_without_the_key() {
    let emu = platform(3);
    let api = Api::new(&emu);
    let unknown = api.as_account("acct_1Nobody").get("/v1/customers", &[]).await;
    assert_eq!((unknown.status, unknown.err("code").as_str()), (403, "account_invalid"));
    assert!(unknown.err("message").contains("acct_1Nobody"));
    assert!(!unknown.body.to_string().contains(&api.key[8..]), "the key never appears");
    let victim = emu.connected_accounts()[1].clone();
    emu.revoke_account_after(&victim, 2);
    let as_victim = api.as_account(&victim);
    assert_eq!(as_victim.get("/v1/customers", &[]).await.status, 200);
    assert_eq!(as_victim.get("/v1/charges", &[]).await.status, 200);
    let revoked = as_victim.get("/v1/customers", &[]).await;
    assert_eq!((revoked.status, revoked.err("code").as_str()), (403, "account_invalid"));
    assert_eq!(as_victim.get("/v1/customers", &[]).await.status, 403, "revoked stays revoked");
    let other = emu.connected_accounts()[0].clone();
    assert_eq!(api.as_account(&other).get("/v1/customers", &[]).await.status, 200, "others are unaffected");
    assert_eq!(api.get("/v1/customers", &[]).await.status, 200, "the platform is unaffected");
}

#[tokio::test]
async fn each_account_has_its_own_rate_limit() {
    let emu = Emulator::start(EmulatorConfig { accounts: 2, endpoint_rps: 5.0, ..EmulatorConfig::default() })
        .expect("emulator starts");
    let api = Api::new(&emu);
    let accounts = emu.connected_accounts();
    let (a, b) = (api.as_account(&accounts[0]), api.as_account(&accounts[1]));
    let mut statuses_a = vec![];
    for _ in 0..8 {
        statuses_a.push(a.get("/v1/customers", &[]).await.status);
    }
    assert!(statuses_a.contains(&429), "account a exceeded its 5/s: {statuses_a:?}");
    // Account b's budget is untouched by a's burst.
    for _ in 0..4 {
        assert_eq!(b.get("/v1/customers", &[]).await.status, 200);
    }
}
