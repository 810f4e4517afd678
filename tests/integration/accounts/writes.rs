//! Writes and actions across accounts: each row's call goes to the row's
//! account (INSERT: the `account` column; UPDATE/DELETE: the account each
//! target row came from; actions: `account => …` or the id subquery's
//! `account` column), and lands in that account's data only.

use super::{platform, rows};

/// Objects of `resource` in the platform and in each connected account.
fn counts(engine: &stripe_sql::engine::Engine, resource: &str) -> Vec<usize> {
    let emu = engine.emulator().expect("emulator");
    let mut out = vec![emu.count(resource)];
    out.extend(emu.connected_accounts().iter().map(|a| emu.count_in(a, resource)));
    out
}

async fn error(engine: &stripe_sql::engine::Engine, sql: &str) -> String {
    engine.sql(sql).await.map(|_| ()).expect_err(sql).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_update_and_delete_go_to_the_rows_account_only() {
    let engine = platform(3);
    let connected = engine.emulator().expect("emulator").connected_accounts();
    let (b, c) = (&connected[1], &connected[2]);
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    // Reads right after a write: the list endpoints, not eventually consistent search.
    engine.sql("SET stripe.use_search = false").await.expect("set");
    let before = counts(&engine, "customers");

    let insert = format!(
        "INSERT INTO customers (account, email) VALUES ('{b}', 'one@connect.test'), ('{c}', 'two@connect.test')"
    );
    engine.sql(&insert).await.expect("insert");
    let mut expected = before.clone();
    expected[2] += 1;
    expected[3] += 1;
    assert_eq!(counts(&engine, "customers"), expected, "one new customer in each named account, none elsewhere");
    let found =
        rows(&engine, "SELECT account, email FROM customers WHERE email LIKE '%@connect.test' ORDER BY email").await;
    assert_eq!(found, vec![vec![b.clone(), "one@connect.test".into()], vec![c.clone(), "two@connect.test".into()]]);

    // One UPDATE touching rows of two accounts: each call goes to its row's
    // account (sent to another account, the emulator answers 404).
    engine.sql("UPDATE customers SET description = 'vip' WHERE email LIKE '%@connect.test'").await.expect("update");
    let updated =
        rows(&engine, "SELECT account, description FROM customers WHERE email LIKE '%@connect.test' ORDER BY account")
            .await;
    assert_eq!(updated, vec![vec![b.clone(), "vip".into()], vec![c.clone(), "vip".into()]]);
    let journal = rows(&engine, "SELECT account, outcome FROM stripe_last_write() ORDER BY account").await;
    assert_eq!(journal, vec![vec![b.clone(), "written".into()], vec![c.clone(), "written".into()]]);
    let err = error(&engine, &format!("UPDATE customers SET account = '{b}' WHERE email = 'two@connect.test'")).await;
    assert!(err.contains("account column cannot be changed"), "{err}");

    // Dry run: the planned calls name their account; nothing is deleted.
    engine.sql("SET stripe.dry_run = true").await.expect("set");
    engine.sql("DELETE FROM customers WHERE email = 'two@connect.test'").await.expect("dry run");
    let planned = rows(&engine, "SELECT account, outcome, method FROM stripe_last_write()").await;
    assert_eq!(planned, vec![vec![c.clone(), "planned".into(), "DELETE".into()]]);
    assert_eq!(counts(&engine, "customers"), expected);
    engine.sql("SET stripe.dry_run = false").await.expect("set");

    engine.sql("DELETE FROM customers WHERE email = 'two@connect.test'").await.expect("delete");
    expected[3] -= 1;
    assert_eq!(counts(&engine, "customers"), expected, "deleted in its own account only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insert_needs_one_of_the_selected_accounts() {
    let engine = platform(3);
    let connected = engine.emulator().expect("emulator").connected_accounts();
    let (a, b, c) = (&connected[0], &connected[1], &connected[2]);
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    let before = counts(&engine, "customers");
    let err = error(&engine, "INSERT INTO customers (email) VALUES ('x@connect.test')").await;
    assert!(err.contains("no account") && err.contains("(account, …)"), "{err}");
    let err = error(&engine, "INSERT INTO customers (account, email) VALUES ('acct_1Nobody', 'x@connect.test')").await;
    assert!(err.contains("acct_1Nobody") && err.contains("not one of the accounts"), "{err}");
    let err = error(&engine, "INSERT INTO customers (account, email) VALUES ('cus_1', 'x@connect.test')").await;
    assert!(err.contains("not an account id"), "{err}");

    engine.sql(&format!("SET stripe.accounts = '{a},{b}'")).await.expect("set");
    let err = error(&engine, &format!("INSERT INTO customers (account, email) VALUES ('{c}', 'x@connect.test')")).await;
    assert!(err.contains(c.as_str()) && err.contains(a.as_str()) && err.contains(b.as_str()), "{err}");
    let err = error(&engine, "INSERT INTO customers (email) VALUES ('x@connect.test')").await;
    assert!(err.contains("selects 2 accounts"), "{err}");
    assert_eq!(counts(&engine, "customers"), before, "nothing was sent");

    // One selected account: rows without an account go there.
    engine.sql(&format!("SET stripe.accounts = '{c}'")).await.expect("set");
    engine.sql("INSERT INTO customers (email) VALUES ('x@connect.test')").await.expect("insert");
    let mut expected = before;
    expected[3] += 1;
    assert_eq!(counts(&engine, "customers"), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_act_as_the_named_account_or_the_rows_account() {
    let engine = platform(2);
    let connected = engine.emulator().expect("emulator").connected_accounts();
    let (a, b) = (&connected[0], &connected[1]);
    engine.sql("SET stripe.accounts = 'all'").await.expect("set");
    engine.sql("SET stripe.use_search = false").await.expect("set");
    for account in [a, b] {
        let sql = format!(
            "INSERT INTO payment_intents (account, amount, currency, description) VALUES ('{account}', 500, 'usd', 'connect-action')"
        );
        engine.sql(&sql).await.expect("insert");
    }
    let made =
        rows(&engine, "SELECT account, id FROM payment_intents WHERE description = 'connect-action' ORDER BY account")
            .await;
    assert_eq!(made.len(), 2, "{made:?}");
    let (pi_a, pi_b) = (&made[0][1], &made[1][1]);

    let err = error(&engine, &format!("SELECT id FROM cancel_payment_intent('{pi_a}')")).await;
    assert!(err.contains("account => 'acct_…'"), "{err}");
    // Sent as another account, the object does not exist there.
    let err = error(&engine, &format!("SELECT id FROM cancel_payment_intent('{pi_a}', account => '{b}')")).await;
    assert!(err.contains(pi_a.as_str()), "{err}");

    let done =
        rows(&engine, &format!("SELECT id, status FROM cancel_payment_intent('{pi_a}', account => '{a}')")).await;
    assert_eq!(done, vec![vec![pi_a.clone(), "canceled".into()]]);
    // The bulk form follows each id's row to its account.
    let sql = "SELECT count(*) FROM cancel_payment_intent((SELECT id FROM payment_intents WHERE description = 'connect-action' AND status <> 'canceled'))";
    assert_eq!(rows(&engine, sql).await, vec![vec!["1".to_string()]]);
    let statuses = rows(
        &engine,
        "SELECT account, id, status FROM payment_intents WHERE description = 'connect-action' ORDER BY account",
    )
    .await;
    assert_eq!(
        statuses,
        vec![vec![a.clone(), pi_a.clone(), "canceled".into()], vec![b.clone(), pi_b.clone(), "canceled".into()]]
    );

    engine.sql("SET stripe.accounts = ''").await.expect("unset");
    let err = error(&engine, &format!("SELECT id FROM cancel_payment_intent('{pi_b}', account => '{b}')")).await;
    assert!(err.contains("needs stripe.accounts"), "{err}");
}
