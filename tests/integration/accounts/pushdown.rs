//! `account = …` and `IN (…)` decide which accounts are called; the tables are
//! unchanged while `stripe.accounts` is off (and `stripe_columns()` says so).

use super::{number, platform, rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_filters_call_only_those_accounts() {
    let engine = platform(10);
    let emu = engine.emulator().expect("emulator");
    let connected = emu.connected_accounts();
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    let chosen = &connected[3];
    let n = number(&engine, &format!("SELECT count(*) FROM customers WHERE account = '{chosen}'")).await;
    assert_eq!(n as usize, emu.count_in(chosen, "customers"));
    let called: Vec<(&String, u64)> =
        connected.iter().map(|a| (a, emu.requests_as(a))).filter(|(_, n)| *n > 0).collect();
    assert_eq!(called, vec![(chosen, emu.requests_as(chosen))], "only the chosen account was called");
    let paths = rows(&engine, "SELECT path FROM stripe_last_requests()").await;
    assert!(!paths.iter().any(|p| p[0] == "/v1/accounts"), "no listing for a named account: {paths:?}");
    // IN: exactly those two.
    let two = [&connected[1], &connected[7]];
    let sql = format!(
        "SELECT account, count(*) FROM customers WHERE account IN ('{}', '{}') GROUP BY account ORDER BY account",
        two[0], two[1]
    );
    let got = rows(&engine, &sql).await;
    assert_eq!(got.len(), 2);
    let untouched: Vec<&String> =
        connected.iter().filter(|a| !two.contains(a) && *a != chosen).filter(|a| emu.requests_as(a) > 0).collect();
    assert!(untouched.is_empty(), "called without being named: {untouched:?}");
    // A list setting bounds the accounts as well.
    engine.sql(&format!("SET stripe.accounts = '{},{}'", connected[0], connected[9])).await.expect("set");
    let listed = rows(&engine, "SELECT DISTINCT account FROM customers ORDER BY account").await;
    assert_eq!(listed, vec![vec![connected[0].clone()], vec![connected[9].clone()]]);
    let plan = rows(&engine, &format!("EXPLAIN SELECT id FROM customers WHERE account = '{}'", connected[0])).await;
    assert!(format!("{plan:?}").contains(&format!("accounts=[{}]", connected[0])), "{plan:?}");
}

#[tokio::test]
async fn the_tables_are_unchanged_while_the_setting_is_off() {
    let engine = platform(2);
    let before =
        rows(&engine, "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'").await;
    assert!(!before.iter().any(|c| c[0] == "account"));
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    let on = rows(&engine, "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'").await;
    assert_eq!(on.len(), before.len() + 1);
    assert_eq!(on.last().map(|c| c[0].as_str()), Some("account"));
    // stripe_columns() lists what the table has: the account column, which
    // chooses the accounts called and is INSERT's target (stripe_account where
    // the table has an `account` of its own).
    let listed =
        rows(&engine, "SELECT column_name, data_type, filter, on_insert FROM stripe_columns('customers')").await;
    assert_eq!(listed.len(), on.len(), "{listed:?}");
    assert_eq!(listed.last().map(|r| r.join(" ")).as_deref(), Some("account text accounts true"), "{listed:?}");
    let own = rows(&engine, "SELECT column_name FROM stripe_columns('customer_sources')").await;
    assert_eq!(own.last().map(|r| r[0].as_str()), Some("stripe_account"), "{own:?}");
    engine.sql("SET stripe.accounts = ''").await.expect("unset");
    let after =
        rows(&engine, "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'").await;
    assert_eq!(after, before);
    let unlisted = rows(&engine, "SELECT column_name FROM stripe_columns('customers')").await;
    assert_eq!(unlisted.len(), before.len(), "no account column while the setting is off: {unlisted:?}");
    assert!(engine.sql("SET stripe.accounts = 'acct_1,cus_2'").await.is_ok(), "SET itself takes any text");
    let err = engine.sql("SELECT count(*) FROM customers").await.expect_err("a malformed setting is refused");
    assert!(err.to_string().contains("cus_2"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_with_its_own_account_column_gets_stripe_account() {
    let engine = platform(3);
    let emu = engine.emulator().expect("emulator");
    let chosen = emu.connected_accounts()[1].clone();
    let customer = rows(&engine, "SELECT id FROM customers LIMIT 1").await[0][0].clone();
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    // customer_sources has an `account` of its own (a bank account's); the
    // added column is `stripe_account`, and it still routes the scan.
    let columns: Vec<String> =
        rows(&engine, "DESCRIBE customer_sources").await.into_iter().map(|r| r[0].clone()).collect();
    assert!(
        columns.iter().any(|c| c == "account") && columns.last().map(String::as_str) == Some("stripe_account"),
        "{columns:?}"
    );
    let sql =
        format!("SELECT count(*) FROM customer_sources WHERE customer = '{customer}' AND stripe_account = '{chosen}'");
    number(&engine, &sql).await;
    let called: Vec<String> = emu.connected_accounts().into_iter().filter(|a| emu.requests_as(a) > 0).collect();
    assert_eq!(called, vec![chosen], "only the named account was called");
}
