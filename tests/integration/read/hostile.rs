//! Hostile values in ids, parent ids and filter values never change which
//! endpoint is called: every request goes to one of the table's catalog paths
//! (any `{param}` filled with a plain `[A-Za-z0-9_]+` id), and the rows that
//! come back are exactly the ones the predicate allows.

use stripe_sql::catalog;
use stripe_sql::engine::Engine;

use super::{first_column, match_template, sql_str, templates};

fn hostile_values(real: &str) -> Vec<String> {
    let mut values: Vec<String> = [
        "'",
        "''",
        "\"",
        "[",
        "]",
        "a[b]=c",
        "metadata[x]",
        "../",
        "../../v1/charges",
        "..%2F..%2Fv1%2Fcharges",
        "%2F",
        "%2e%2e",
        "?x=1",
        "#",
        "&limit=1",
        "' OR email:'x",
        "\" OR name:\"x",
        "name:'x' OR -name:'y'",
        "x\ny",
        "\r\n",
        "\\",
        "*",
        "%",
        "_",
        " ",
        "ü",
        "cus_x/../cus_y",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for suffix in ["/../..", "%2F..", "?x=1", "#frag", "/", "&expand[]=x", "' OR 'a'='a", "\n"] {
        values.push(format!("{real}{suffix}"));
    }
    values.push(format!("../{real}"));
    values.push(format!(" {real}"));
    values.push("a".repeat(100_000));
    values
}

/// Runs `sql` and checks its requests: each path instantiates one of `def`'s
/// templates, and a filled-in path segment is never derived from `value`
/// unless it is exactly `value` or one of `allowed` (real ids the query names).
async fn run_checked(engine: &Engine, table: &str, sql: &str, value: &str, allowed: &[&str]) -> Vec<String> {
    let def = catalog::builtin().table(table).expect("catalog table");
    let before = engine.client().request_log().len();
    let rows = match engine.sql(sql).await {
        Ok(batches) => first_column(&batches),
        Err(e) => panic!("{} failed: {e}", shorten(sql)),
    };
    let entries = engine.client().request_log().entries();
    for entry in &entries[before..] {
        assert_eq!(entry.method, "GET", "{}", shorten(sql));
        let filled = templates(def)
            .iter()
            .find_map(|t| match_template(t, &entry.path))
            .unwrap_or_else(|| panic!("{} called {} outside {table}'s paths", shorten(sql), shorten(&entry.path)));
        for segment in filled {
            assert!(
                segment == value || allowed.contains(&segment.as_str()),
                "{} put {segment} into a path",
                shorten(sql)
            );
        }
        for (key, _) in &entry.params {
            assert!(
                !key.contains(value) || value.len() < 3,
                "{}: a value became the parameter name {key}",
                shorten(sql)
            );
        }
    }
    rows
}

fn shorten(s: &str) -> String {
    if s.len() > 200 {
        format!("{}… ({} bytes)", &s[..s.char_indices().nth(150).map_or(s.len(), |(i, _)| i)], s.len())
    } else {
        s.to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_never_change_the_endpoint() {
    let engine = Engine::demo().expect("demo engine");
    let customer =
        first_column(&engine.sql("SELECT id FROM customers ORDER BY id LIMIT 1").await.expect("a customer"))[0].clone();
    let invoice =
        first_column(&engine.sql("SELECT id FROM invoices ORDER BY id LIMIT 1").await.expect("an invoice"))[0].clone();
    let mut checked = 0;
    for use_search in [true, false] {
        engine.sql(&format!("SET stripe.use_search = {use_search}")).await.expect("set");
        for v in hostile_values(&customer) {
            let q = sql_str(&v);
            let rows =
                run_checked(&engine, "customers", &format!("SELECT id FROM customers WHERE id = {q}"), &v, &[]).await;
            assert!(rows.iter().all(|id| *id == v), "id = {}: returned {rows:?}", shorten(&v));
            let sql = format!("SELECT id FROM customers WHERE id IN ({q}, {}) ORDER BY id", sql_str(&customer));
            let rows = run_checked(&engine, "customers", &sql, &v, &[&customer]).await;
            assert_eq!(rows, vec![customer.clone()], "id IN ({}, real)", shorten(&v));
            let mut queries = vec![
                format!("SELECT id FROM customers WHERE email = {q}"),
                format!("SELECT id FROM customers WHERE name = {q}"),
                format!("SELECT id FROM customers WHERE metadata[{q}] = {q}"),
                format!("SELECT id FROM customers WHERE name = {q} AND created > TIMESTAMP '2020-01-01 00:00:00'"),
            ];
            // LIKE wildcards in the value would legitimately match rows.
            if !v.contains(['%', '_']) {
                queries.push(format!("SELECT id FROM customers WHERE email LIKE {}", sql_str(&format!("%{v}"))));
            }
            for sql in queries {
                let rows = run_checked(&engine, "customers", &sql, &v, &[]).await;
                assert!(rows.is_empty(), "{} returned {rows:?}", shorten(&sql));
            }
            let sql = format!("SELECT id FROM charges WHERE customer = {q} OR customer = 'cus_none'");
            let rows = run_checked(&engine, "charges", &sql, &v, &[]).await;
            assert!(rows.is_empty(), "{} returned {rows:?}", shorten(&sql));
            let sql = format!("SELECT id FROM charges WHERE status = {q} AND amount > 0");
            let rows = run_checked(&engine, "charges", &sql, &v, &[]).await;
            assert!(rows.is_empty(), "{} returned {rows:?}", shorten(&sql));
            // Parent ids fill a path segment of nested tables.
            let sql = format!("SELECT id FROM invoice_lines WHERE invoice = {q}");
            let rows = run_checked(&engine, "invoice_lines", &sql, &v, &[]).await;
            assert!(rows.is_empty(), "{} returned {rows:?}", shorten(&sql));
            let sql = format!("SELECT id FROM invoice_lines WHERE invoice IN ({q}, {})", sql_str(&invoice));
            let lines = run_checked(&engine, "invoice_lines", &sql, &v, &[&invoice]).await;
            let direct = first_column(
                &engine
                    .sql(&format!("SELECT id FROM invoice_lines WHERE invoice = {}", sql_str(&invoice)))
                    .await
                    .expect("lines"),
            );
            assert_eq!(lines.len(), direct.len(), "invoice IN ({}, real) lines", shorten(&v));
            let sql = format!("SELECT id FROM customer_balance_transactions WHERE customer = {q}");
            let rows = run_checked(&engine, "customer_balance_transactions", &sql, &v, &[]).await;
            assert!(rows.is_empty(), "{} returned {rows:?}", shorten(&sql));
            checked += 1;
        }
    }
    assert!(checked >= 2 * 30, "only {checked} values checked");
}
