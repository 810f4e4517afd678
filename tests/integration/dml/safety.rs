//! Refusals (each sends nothing), dry run, live keys, partial failure and
//! idempotent retries.

use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::stripe::ApiKey;

use super::support::{count, empty, error, logged, rows, strings, writes};

#[tokio::test]
async fn unsafe_update_and_delete_are_refused_before_any_request() {
    let engine = Engine::demo().unwrap();
    let customers = engine.emulator().unwrap().count("customers");
    let cases = [
        ("DELETE FROM customers", "has no WHERE clause"),
        ("UPDATE customers SET description = 'x'", "has no WHERE clause"),
        ("DELETE FROM prices WHERE active", "UPDATE prices SET active = false"),
        ("UPDATE customers SET description = 'x' RETURNING id", "has no WHERE clause"),
    ];
    for (sql, expected) in cases {
        let before = logged(&engine);
        let message = error(&engine, sql).await;
        assert!(message.to_lowercase().contains(&expected.to_lowercase()), "{sql}: {message}");
        assert_eq!(logged(&engine), before, "{sql} sent requests");
    }
    assert_eq!(engine.emulator().unwrap().count("customers"), customers);
}

#[tokio::test]
async fn where_clauses_hidden_from_the_table_are_made_exact() {
    let engine = empty();
    count(&engine, "INSERT INTO customers (email) VALUES ('a@x.com'), ('b@x.com'), ('c@x.com'), ('d@x.com')").await;
    count(&engine, "INSERT INTO products (name, description) VALUES ('b@x.com', 'a@x.com')").await;
    let writes_before = writes(&engine).len();
    // Contradictions select nothing, and send nothing.
    assert_eq!(count(&engine, "DELETE FROM customers WHERE false").await, 0);
    assert_eq!(count(&engine, "UPDATE customers SET name = 'x' WHERE email = 'a@x.com' AND 1 = 0").await, 0);
    assert_eq!(writes(&engine).len(), writes_before);
    // IN (SELECT …) touches exactly the rows the subquery selects.
    assert_eq!(count(&engine, "DELETE FROM customers WHERE email IN (SELECT name FROM products)").await, 1);
    assert_eq!(strings(&engine, "SELECT email FROM customers ORDER BY email").await, ["a@x.com", "c@x.com", "d@x.com"]);
    // EXISTS, with the SET evaluated on each selected row.
    let n = count(
        &engine,
        "UPDATE customers SET name = email || '!' WHERE EXISTS (SELECT 1 FROM products p WHERE p.description = customers.email)",
    )
    .await;
    assert_eq!(n, 1);
    // A scalar subquery in SET and OR … IN (SELECT …) in WHERE.
    let n = count(
        &engine,
        "UPDATE customers SET description = (SELECT max(name) FROM products) WHERE email = 'c@x.com' OR id IN (SELECT description FROM products)",
    )
    .await;
    assert_eq!(n, 1);
    let got = rows(&engine, "SELECT email, name, description FROM customers ORDER BY email").await;
    assert_eq!(got[0], ["a@x.com", "a@x.com!", "NULL"]);
    assert_eq!(got[1], ["c@x.com", "NULL", "b@x.com"]);
    assert_eq!(got[2], ["d@x.com", "NULL", "NULL"]);
    // LIMIT caps the rows touched.
    assert_eq!(count(&engine, "DELETE FROM customers WHERE email LIKE '%@x.com' LIMIT 1").await, 1);
    assert_eq!(engine.emulator().unwrap().count("customers"), 2);
}

#[tokio::test]
async fn explain_plans_writes_without_sending_them() {
    let engine = Engine::demo().unwrap();
    let before = logged(&engine);
    let plan = rows(&engine, "EXPLAIN DELETE FROM customers WHERE email = 'x@example.com'").await;
    let text = format!("{plan:?}");
    assert!(text.contains("StripeWriteExec: delete from customers"), "{text}");
    rows(&engine, "EXPLAIN INSERT INTO customers (email) VALUES ('e@example.com')").await;
    rows(&engine, "EXPLAIN UPDATE customers SET name = 'n' WHERE email = 'x@example.com'").await;
    let plan = rows(&engine, "EXPLAIN DELETE FROM customers WHERE id IN (SELECT customer FROM charges)").await;
    let text = format!("{plan:?}");
    assert!(text.contains("rows selected by the statement's own plan"), "{text}");
    assert!(text.contains("StripeScanExec: table=charges"), "{text}");
    assert_eq!(logged(&engine), before);
}

#[tokio::test]
async fn unfiltered_dml_runs_only_when_allowed() {
    let engine = empty();
    count(&engine, "INSERT INTO products (name) VALUES ('a'), ('b'), ('c')").await;
    error(&engine, "UPDATE products SET active = false").await;
    engine.sql("SET stripe.allow_unfiltered_dml = true").await.unwrap();
    assert_eq!(count(&engine, "UPDATE products SET active = false").await, 3);
    assert_eq!(count(&engine, "DELETE FROM products").await, 3);
    assert_eq!(engine.emulator().unwrap().count("products"), 0);
}

#[tokio::test]
async fn dry_run_records_the_calls_and_sends_no_write() {
    let engine = empty();
    count(&engine, "INSERT INTO customers (email) VALUES ('d@example.com')").await;
    engine.sql("SET stripe.dry_run = true").await.unwrap();
    let writes_before = writes(&engine).len();
    assert_eq!(
        count(&engine, "INSERT INTO customers (email, metadata) VALUES ('e@example.com', MAP {'k': 'v'})").await,
        0
    );
    let planned = rows(&engine, "SELECT row, outcome, method, path, params FROM stripe_last_write()").await;
    assert_eq!(planned, vec![vec!["1", "planned", "POST", "/v1/customers", "email=e@example.com&metadata[k]=v"]]);
    assert_eq!(count(&engine, "UPDATE customers SET name = 'D' WHERE email = 'd@example.com'").await, 0);
    let planned = rows(&engine, "SELECT outcome, method, params FROM stripe_last_write()").await;
    assert_eq!(planned, vec![vec!["planned", "POST", "name=D"]]);
    assert_eq!(count(&engine, "DELETE FROM customers WHERE email = 'd@example.com'").await, 0);
    let planned = rows(&engine, "SELECT outcome, method FROM stripe_last_write()").await;
    assert_eq!(planned, vec![vec!["planned", "DELETE"]]);
    assert_eq!(writes(&engine).len(), writes_before);
    assert_eq!(engine.emulator().unwrap().count("customers"), 1);
}

#[tokio::test]
async fn live_keys_are_read_only_unless_allowed() {
    let engine = Engine::with_emulator(EmulatorConfig::default(), |c| {
        c.api_key = ApiKey::parse("sk_live_abcdefghijklmnop").unwrap();
    })
    .unwrap();
    for sql in [
        "INSERT INTO customers (email) VALUES ('l@example.com')",
        "UPDATE customers SET name = 'x' WHERE email = 'l@example.com'",
        "DELETE FROM customers WHERE email = 'l@example.com'",
    ] {
        let message = error(&engine, sql).await;
        assert!(message.contains("live key"), "{sql}: {message}");
        assert!(!message.contains("abcdefghijklmnop"), "{message}");
    }
    assert_eq!(logged(&engine), 0);
    engine.set_allow_live_writes(true);
    // Allowed now: the request goes out (the emulator itself rejects the key).
    let _ = engine.sql("INSERT INTO customers (email) VALUES ('l@example.com')").await;
    assert_eq!(writes(&engine).len(), 1);
}

#[tokio::test]
async fn partial_failure_reports_written_failed_and_not_attempted_rows() {
    let engine = empty();
    engine.sql("SET stripe.max_concurrency = 1").await.unwrap();
    count(&engine, "INSERT INTO products (id, name) VALUES ('prod_ok', 'ok')").await;
    let message = error(
        &engine,
        "INSERT INTO prices (product, currency, unit_amount) VALUES \
         ('prod_ok', 'usd', 100), ('prod_missing', 'usd', 200), ('prod_ok', 'usd', 300), ('prod_ok', 'usd', 400)",
    )
    .await;
    assert!(message.contains("1 of 4 row(s) written (price_"), "{message}");
    assert!(message.contains("row 2: No such product"), "{message}");
    assert!(message.contains("request id req_"), "{message}");
    assert!(message.contains("2 not attempted (rows 3, 4)"), "{message}");
    assert_eq!(engine.emulator().unwrap().count("prices"), 1);
    let report = rows(&engine, "SELECT row, outcome FROM stripe_last_write() ORDER BY row").await;
    let expected: Vec<Vec<String>> =
        [["1", "written"], ["2", "failed"], ["3", "not_attempted"], ["4", "not_attempted"]]
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect();
    assert_eq!(report, expected);

    // An injected server-side failure mid-way through an UPDATE.
    engine.emulator().unwrap().fail_next_on(1, 400, "/v1/products/prod_ok");
    count(&engine, "INSERT INTO products (id, name) VALUES ('prod_two', 'two')").await;
    let message = error(&engine, "UPDATE products SET description = 'd' WHERE name IN ('ok', 'two')").await;
    assert!(message.contains("1 failed"), "{message}");
    assert!(message.contains("1 of 2 row(s) written (prod_two)"), "{message}");
    let report = rows(&engine, "SELECT outcome FROM stripe_last_write() WHERE id = 'prod_ok'").await;
    assert_eq!(report, vec![vec!["failed".to_string()]]);
}

#[tokio::test]
async fn a_write_retried_after_a_dropped_connection_creates_one_object() {
    let engine = empty();
    engine.emulator().unwrap().drop_next_writes(1);
    assert_eq!(count(&engine, "INSERT INTO customers (email) VALUES ('once@example.com')").await, 1);
    assert_eq!(engine.emulator().unwrap().count("customers"), 1);
    let posts = writes(&engine);
    assert_eq!(posts.len(), 2, "expected the dropped attempt and its retry: {posts:?}");
    assert_eq!(posts[1].attempt, 2);
    assert!(posts.iter().all(|p| p.idempotency_key));
}

#[tokio::test]
async fn a_session_without_the_guard_refuses_update_and_delete() {
    let engine = empty();
    let ctx = datafusion::execution::context::SessionContext::new();
    stripe_sql::register(&ctx, engine.client()).unwrap();
    for sql in
        ["DELETE FROM stripe.customers WHERE id = 'cus_1'", "UPDATE stripe.customers SET name = 'x' WHERE id = 'cus_1'"]
    {
        let message = match ctx.sql(sql).await {
            Ok(df) => df.collect().await.unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(message.contains("without the stripe-sql dml guard"), "{sql}: {message}");
    }
    assert_eq!(logged(&engine), 0);
}
