//! Each verb and its params, against an empty emulator.

use super::support::{count, empty, error, logged, rows, strings, writes};

#[tokio::test]
async fn insert_sends_one_create_per_row_with_only_the_named_columns() {
    let engine = empty();
    let n = count(
        &engine,
        "INSERT INTO customers (email, name, metadata) VALUES \
         ('a@example.com', 'Ann', MAP {'tier': 'gold'}), ('b@example.com', NULL, MAP {'tier': 'silver'})",
    )
    .await;
    assert_eq!(n, 2);
    assert_eq!(engine.emulator().unwrap().count("customers"), 2);
    let posts = writes(&engine);
    assert_eq!(posts.len(), 2, "{posts:?}");
    let mut emails: Vec<&str> = posts.iter().map(|p| p.param("email").unwrap()).collect();
    emails.sort();
    assert_eq!(emails, ["a@example.com", "b@example.com"]);
    for p in &posts {
        assert_eq!(p.path, "/v1/customers");
        assert!(p.idempotency_key);
        assert!(p.param("metadata[tier]").is_some(), "{p:?}");
        // Unnamed columns (and explicit NULLs) are not sent.
        assert!(
            p.params.iter().all(|(k, _)| !["phone", "description", "address", "id"].contains(&k.as_str())),
            "{p:?}"
        );
    }
    let b = posts.iter().find(|p| p.param("email") == Some("b@example.com")).unwrap();
    assert_eq!(b.param("name"), None);
    let stored = rows(&engine, "SELECT name, metadata['tier'] FROM customers WHERE email = 'a@example.com'").await;
    assert_eq!(stored, vec![vec!["Ann".to_string(), "gold".to_string()]]);
}

#[tokio::test]
async fn insert_takes_nested_params_from_json_text_and_raw() {
    let engine = empty();
    count(
        &engine,
        r#"INSERT INTO customers (email, address, _raw) VALUES
           ('n@example.com', '{"line1": "1 Main St", "city": "Paris", "country": "FR"}', '{"preferred_locales": ["fr"], "coupon": null}')"#,
    )
    .await;
    let post = writes(&engine).pop().unwrap();
    assert_eq!(post.param("address[city]"), Some("Paris"));
    assert_eq!(post.param("preferred_locales[]"), Some("fr"));
    let city = strings(&engine, "SELECT address_country FROM customers WHERE email = 'n@example.com'").await;
    assert_eq!(city, ["FR"]);

    // A product, a recurring price and a subscription with items.
    count(
        &engine,
        "INSERT INTO products (id, name, images, shippable) VALUES ('prod_t', 'T-shirt', ['https://x/1.png'], true)",
    )
    .await;
    count(
        &engine,
        r#"INSERT INTO prices (product, currency, unit_amount, recurring) VALUES ('prod_t', 'usd', 1500, '{"interval": "month"}')"#,
    )
    .await;
    let post = writes(&engine).pop().unwrap();
    assert_eq!(post.param("recurring[interval]"), Some("month"));
    assert_eq!(post.param("unit_amount"), Some("1500"));
    let price = strings(&engine, "SELECT id FROM prices WHERE product = 'prod_t'").await.remove(0);
    let customer = strings(&engine, "SELECT id FROM customers WHERE email = 'n@example.com'").await.remove(0);
    let sql = format!(
        r#"INSERT INTO subscriptions (customer, collection_method, days_until_due, items) VALUES ('{customer}', 'send_invoice', 30, '[{{"price": "{price}", "quantity": 2}}]')"#
    );
    assert_eq!(count(&engine, &sql).await, 1);
    let post = writes(&engine).pop().unwrap();
    assert_eq!(post.param("items[0][price]"), Some(price.as_str()));
    assert_eq!(post.param("items[0][quantity]"), Some("2"));
    assert_eq!(engine.emulator().unwrap().count("subscriptions"), 1);
}

#[tokio::test]
async fn invalid_inserts_name_the_column_and_send_nothing() {
    let engine = empty();
    let cases = [
        ("INSERT INTO customers (email, created) VALUES ('x@example.com', 5)", "column created is read-only"),
        ("INSERT INTO customers (emial) VALUES ('x@example.com')", "emial"),
        ("INSERT INTO prices (product, unit_amount) VALUES ('prod_1', 100)", "missing required column currency"),
        ("INSERT INTO customers (address) VALUES ('not json')", "column address expects a JSON object"),
        ("INSERT INTO customers (tax_exempt) VALUES ('sometimes')", "column tax_exempt"),
        (r#"INSERT INTO customers (_raw) VALUES ('{"no_such_param": 1}')"#, "unknown parameter no_such_param"),
        ("INSERT INTO products (description) VALUES ('no name')", "row 1 is missing required column name"),
        (
            "INSERT INTO customers (email, created) VALUES ('x@example.com', 5) RETURNING id",
            "column created is read-only",
        ),
    ];
    for (sql, expected) in cases {
        let before = logged(&engine);
        let message = error(&engine, sql).await;
        assert!(message.to_lowercase().contains(&expected.to_lowercase()), "{sql}: {message}");
        assert_eq!(logged(&engine), before, "{sql} sent requests");
    }
    assert_eq!(engine.emulator().unwrap().count("customers"), 0);
}

#[tokio::test]
async fn update_by_email_lists_once_then_updates_each_row() {
    let engine = empty();
    count(
        &engine,
        "INSERT INTO customers (email, description, metadata) VALUES \
         ('vip@example.com', 'Ann', MAP {'a': '1', 'b': '2'}), ('other@example.com', 'Bob', MAP {'a': '1'})",
    )
    .await;
    let before = logged(&engine);
    let n = count(
        &engine,
        "UPDATE customers SET description = description || ' (vip)', metadata = MAP {'b': NULL, 'c': '3'} \
         WHERE email = 'vip@example.com'",
    )
    .await;
    assert_eq!(n, 1);
    let calls: Vec<_> = engine.client().request_log().entries().into_iter().skip(before).collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!((calls[0].method.as_str(), calls[0].path.as_str()), ("GET", "/v1/customers"));
    assert_eq!(calls[0].param("email"), Some("vip@example.com"));
    assert_eq!(calls[1].method, "POST");
    assert_eq!(calls[1].param("description"), Some("Ann (vip)"));
    assert_eq!(calls[1].param("metadata[b]"), Some(""));
    let got = rows(
        &engine,
        "SELECT description, metadata['a'], metadata['b'], metadata['c'] FROM customers ORDER BY email DESC",
    )
    .await;
    assert_eq!(got[0], ["Ann (vip)", "1", "NULL", "3"]);
    assert_eq!(got[1], ["Bob", "1", "NULL", "NULL"]);
}

#[tokio::test]
async fn update_unsets_with_null_only_where_stripe_allows() {
    let engine = empty();
    count(&engine, "INSERT INTO products (id, name, description, url) VALUES ('prod_a', 'A', 'old', 'https://a')")
        .await;
    assert_eq!(count(&engine, "UPDATE products SET description = NULL, active = false WHERE id = 'prod_a'").await, 1);
    let post = writes(&engine).pop().unwrap();
    assert_eq!(post.param("description"), Some(""));
    assert_eq!(post.param("active"), Some("false"));
    let got = rows(&engine, "SELECT description, active FROM products WHERE id = 'prod_a'").await;
    assert_eq!(got, vec![vec!["NULL".to_string(), "false".to_string()]]);
    let before = writes(&engine).len();
    let message = error(&engine, "UPDATE products SET name = NULL WHERE id = 'prod_a'").await;
    assert!(message.contains("column name cannot be set to NULL"), "{message}");
    let message = error(&engine, "UPDATE products SET created = 5 WHERE id = 'prod_a'").await;
    assert!(message.contains("column created is read-only"), "{message}");
    assert_eq!(writes(&engine).len(), before);
}

#[tokio::test]
async fn delete_by_email_deletes_and_subscriptions_cancel() {
    let engine = empty();
    count(&engine, "INSERT INTO customers (email) VALUES ('gone@example.com'), ('kept@example.com')").await;
    assert_eq!(count(&engine, "DELETE FROM customers WHERE email = 'gone@example.com'").await, 1);
    let delete = writes(&engine).pop().unwrap();
    assert_eq!(delete.method, "DELETE");
    assert!(delete.path.starts_with("/v1/customers/cus_"), "{delete:?}");
    assert_eq!(strings(&engine, "SELECT email FROM customers").await, ["kept@example.com"]);

    count(&engine, "INSERT INTO products (id, name) VALUES ('prod_s', 'S')").await;
    count(&engine, r#"INSERT INTO prices (product, currency, unit_amount, recurring) VALUES ('prod_s', 'usd', 100, '{"interval": "month"}')"#).await;
    let price = strings(&engine, "SELECT id FROM prices").await.remove(0);
    let customer = strings(&engine, "SELECT id FROM customers").await.remove(0);
    count(&engine, &format!(r#"INSERT INTO subscriptions (customer, items, _raw) VALUES ('{customer}', '[{{"price": "{price}"}}]', '{{"payment_behavior": "default_incomplete"}}')"#)).await;
    assert_eq!(count(&engine, &format!("DELETE FROM subscriptions WHERE customer = '{customer}'")).await, 1);
    assert_eq!(strings(&engine, "SELECT status FROM subscriptions").await, ["canceled"]);

    let before = logged(&engine);
    let message = error(&engine, &format!("DELETE FROM prices WHERE id = '{price}'")).await;
    assert!(message.contains("UPDATE prices SET active = false"), "{message}");
    assert_eq!(logged(&engine), before);
}

#[tokio::test]
async fn returning_gives_back_the_objects_stripe_returned() {
    let engine = empty();
    let created = rows(
        &engine,
        "INSERT INTO customers (email, name) VALUES ('r1@example.com', 'R1'), ('r2@example.com', 'R2') RETURNING email, name, id LIKE 'cus_%' AS has_id",
    )
    .await;
    let mut created = created;
    created.sort();
    assert_eq!(created, vec![vec!["r1@example.com", "R1", "true"], vec!["r2@example.com", "R2", "true"]]);
    let updated = rows(&engine, "UPDATE customers SET name = 'R1b' WHERE email = 'r1@example.com' RETURNING *").await;
    assert_eq!(updated.len(), 1);
    assert!(updated[0].contains(&"R1b".to_string()), "{updated:?}");
    let deleted = strings(&engine, "DELETE FROM customers WHERE email = 'r2@example.com' RETURNING id").await;
    assert_eq!(deleted.len(), 1);
    assert!(deleted[0].starts_with("cus_"), "{deleted:?}");
    assert_eq!(engine.emulator().unwrap().count("customers"), 1);
}

#[tokio::test]
async fn the_seed_operations_are_expressible() {
    let engine = empty();
    count(&engine, "INSERT INTO customers (email, name, phone, description, metadata) VALUES ('s@example.com', 'S', '+100', 'd', MAP {'k': 'v'})").await;
    let customer = strings(&engine, "SELECT id FROM customers WHERE id LIKE 'cus_%'").await.remove(0);
    assert_eq!(
        count(&engine, &format!("UPDATE customers SET phone = '+200', name = 'S2' WHERE id = '{customer}'")).await,
        1
    );
    count(&engine, "INSERT INTO products (name, active, description, images, shippable, url) VALUES ('P', true, 'd', ['https://x/p.png'], false, 'https://x')").await;
    assert_eq!(
        count(&engine, "UPDATE products SET url = 'https://y', images = ['https://y/1.png'] WHERE name = 'P'").await,
        1
    );
    let charge = format!(
        r#"INSERT INTO charges (amount, currency, customer, _raw) VALUES (500, 'usd', '{customer}', '{{"source": "tok_visa"}}')"#
    );
    assert_eq!(count(&engine, &charge).await, 1);
    let post = writes(&engine).pop().unwrap();
    assert_eq!((post.param("source"), post.param("amount")), (Some("tok_visa"), Some("500")));
    assert_eq!(
        count(
            &engine,
            "INSERT INTO payment_intents (amount, currency, payment_method) VALUES (700, 'usd', 'pm_card_visa')"
        )
        .await,
        1
    );
    let got = rows(&engine, "SELECT url, images FROM products").await;
    assert_eq!(got, vec![vec!["https://y".to_string(), "[https://y/1.png]".to_string()]]);
    assert_eq!(count(&engine, &format!("DELETE FROM customers WHERE id = '{customer}'")).await, 1);
    assert_eq!(engine.emulator().unwrap().count("charges"), 1);
    assert_eq!(engine.emulator().unwrap().count("payment_intents"), 1);
}
