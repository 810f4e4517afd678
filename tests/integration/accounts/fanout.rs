//! Reading across accounts: a cross-account aggregate equals the sum of the
//! per-account queries (50 accounts), and an account failing mid-scan.

use super::{number, platform, rows};
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_account_aggregate_equals_the_sum_of_per_account_queries() {
    let engine = platform(50);
    let emu = engine.emulator().expect("emulator");
    let connected = emu.connected_accounts();
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    let per: BTreeMap<String, (i64, i64)> =
        rows(&engine, "SELECT account, count(*), coalesce(sum(amount), 0) FROM charges GROUP BY account")
            .await
            .into_iter()
            .map(|r| (r[0].clone(), (r[1].parse().unwrap(), r[2].parse().unwrap())))
            .collect();
    assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
    assert_eq!(per.len(), 51, "the platform and its 50 connected accounts: {:?}", per.keys());
    let total = number(&engine, "SELECT count(*) FROM charges").await;
    let mut summed = 0;
    for account in &connected {
        let sql = format!("SELECT count(*), coalesce(sum(amount), 0) FROM charges WHERE account = '{account}'");
        let one = &rows(&engine, &sql).await[0];
        let (count, amount): (i64, i64) = (one[0].parse().unwrap(), one[1].parse().unwrap());
        assert_eq!(count as usize, emu.count_in(account, "charges"), "{account}");
        assert_eq!(per[account], (count, amount), "{account}");
        summed += count;
    }
    // The platform's own rows carry its id.
    let own: Vec<&String> = per.keys().filter(|k| !connected.contains(k)).collect();
    assert_eq!(own.len(), 1);
    assert_eq!(per[own[0]].0 as usize, emu.count("charges"));
    assert_eq!(total, summed + emu.count("charges") as i64);
    // Off again: the tables are the one account's, without the column.
    engine.sql("SET stripe.accounts = ''").await.expect("unset");
    assert_eq!(number(&engine, "SELECT count(*) FROM charges").await as usize, emu.count("charges"));
    assert!(engine.sql("SELECT account FROM charges").await.is_err(), "no account column when off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_fails_mid_scan_is_reported_and_the_others_are_whole() {
    let engine = platform(4);
    let emu = engine.emulator().expect("emulator");
    let connected = emu.connected_accounts();
    let victim = connected[2].clone();
    let objects = emu.count_in(&victim, "balance_transactions");
    assert!(objects > 200, "the victim needs several pages ({objects})");
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    engine.sql("SET stripe.max_concurrency = 1").await.expect("set");
    // Its first requests are answered, then its access is revoked.
    emu.revoke_account_after(&victim, 2);
    let per: BTreeMap<String, usize> =
        rows(&engine, "SELECT account, count(*) FROM balance_transactions GROUP BY account")
            .await
            .into_iter()
            .map(|r| (r[0].clone(), r[1].parse().unwrap()))
            .collect();
    for account in connected.iter().filter(|a| **a != victim) {
        assert_eq!(per[account], emu.count_in(account, "balance_transactions"), "{account} is whole");
    }
    assert!(per.get(&victim).copied().unwrap_or(0) < objects, "the victim's rows stop where it failed");
    let warnings = engine.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&victim), "{warnings:?}");
    let refused = rows(&engine, "SELECT status, error FROM stripe_last_requests() WHERE status = 403").await;
    assert!(!refused.is_empty(), "the 403 is in stripe_last_requests()");
    assert!(refused.iter().all(|r| r[1].contains(&victim)), "{refused:?}");
    assert!(!format!("{refused:?}{warnings:?}").contains("emulator0000"), "the key never appears");
    // Under 'fail' the same failure fails the query.
    engine.sql("SET stripe.account_errors = 'fail'").await.expect("set");
    let err = engine.sql("SELECT count(*) FROM balance_transactions").await.expect_err("the query fails");
    assert!(err.to_string().contains(&victim), "{err}");
}
