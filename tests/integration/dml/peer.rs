//! The customer and product subset against localstripe (a third-party fake,
//! started here on 127.0.0.1; install it with tests/peers/install.sh).

use super::support::{count, strings};

#[tokio::test]
async fn customers_and_products_round_trip_through_localstripe() {
    let peer = crate::peers::localstripe().await;
    let engine = crate::peers::engine(&peer, 3);

    assert_eq!(
        count(&engine, "INSERT INTO customers (email, name) VALUES ('p1@example.com', 'P1'), ('p2@example.com', 'P2')")
            .await,
        2
    );
    assert_eq!(count(&engine, "UPDATE customers SET name = name || ' (vip)' WHERE email = 'p1@example.com'").await, 1);
    let names = strings(&engine, "SELECT name FROM customers WHERE email = 'p1@example.com'").await;
    assert_eq!(names, ["P1 (vip)"]);
    assert_eq!(count(&engine, "DELETE FROM customers WHERE email = 'p2@example.com'").await, 1);
    let emails = strings(&engine, "SELECT email FROM customers ORDER BY email").await;
    assert_eq!(emails, ["p1@example.com"]);

    // localstripe has no Search API: filter product names locally instead.
    engine.sql("SET stripe.use_search = false").await.unwrap();
    assert_eq!(count(&engine, "INSERT INTO products (name, description) VALUES ('Peer product', 'first')").await, 1);
    assert_eq!(count(&engine, "UPDATE products SET description = 'second' WHERE name = 'Peer product'").await, 1);
    let descriptions = strings(&engine, "SELECT description FROM products WHERE name = 'Peer product'").await;
    assert_eq!(descriptions, ["second"]);
    assert_eq!(count(&engine, "DELETE FROM products WHERE name = 'Peer product'").await, 1);
    assert!(strings(&engine, "SELECT id FROM products").await.is_empty());
}
