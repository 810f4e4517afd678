//! The `events` table: one type is `type=`, several are one `types[]=` request,
//! `created` ranges are pushed down, and the object is there as JSON with its id
//! and type as columns.

use super::support::*;

#[tokio::test]
async fn event_types_created_and_object_columns() {
    let engine = engine();
    insert_customers(&engine, &emails("e", 2)).await;
    let id = customer_id(&engine, "e0@watch.test").await;
    set_clock(&engine, T0 + 60);
    engine.sql(&format!("UPDATE customers SET name = 'N' WHERE id = '{id}'")).await.unwrap();

    let sql = "SELECT type, object_id, object_type, data_object FROM events \
               WHERE type IN ('customer.updated', 'customer.deleted', 'invoice.paid') AND created >= '2024-01-01T00:01:00Z'";
    let rows = engine.sql(sql).await.unwrap();
    assert_eq!(column(&rows, "type"), ["customer.updated"]);
    assert_eq!(column(&rows, "object_id"), std::slice::from_ref(&id));
    assert_eq!(column(&rows, "object_type"), ["customer"]);
    let object: serde_json::Value = serde_json::from_str(&column(&rows, "data_object")[0]).unwrap();
    assert_eq!(object["name"], "N");
    let call = engine.client().request_log().entries().pop().unwrap();
    assert_eq!(call.path, "/v1/events");
    let mut types: Vec<&str> = call.params.iter().filter(|(k, _)| k == "types[]").map(|(_, v)| v.as_str()).collect();
    types.sort();
    assert_eq!(types, ["customer.deleted", "customer.updated", "invoice.paid"]);
    assert_eq!(call.param("created[gte]"), Some((T0 + 60).to_string().as_str()));

    let rows = engine.sql("SELECT object_id FROM events WHERE type = 'customer.created'").await.unwrap();
    assert_eq!(column(&rows, "object_id").len(), 2);
    let call = engine.client().request_log().entries().pop().unwrap();
    assert_eq!(call.param("type"), Some("customer.created"));
}

#[tokio::test]
async fn delivery_success_is_a_pushed_down_flag_known_only_when_filtered() {
    let engine = engine();
    insert_customers(&engine, &emails("d", 3)).await;
    let rows = engine.sql("SELECT delivery_success FROM events WHERE delivery_success = true").await.unwrap();
    assert_eq!(column(&rows, "delivery_success"), ["true", "true", "true"]);
    let call = engine.client().request_log().entries().pop().unwrap();
    assert_eq!((call.path.as_str(), call.param("delivery_success")), ("/v1/events", Some("true")));
    // The emulator delivers every event, so none failed.
    let rows = engine.sql("SELECT id FROM events WHERE delivery_success = false").await.unwrap();
    assert!(column(&rows, "id").is_empty());
    // Unfiltered, Stripe does not say: NULL.
    let rows = engine.sql("SELECT delivery_success FROM events").await.unwrap();
    assert_eq!(column(&rows, "delivery_success"), ["NULL", "NULL", "NULL"]);
}

#[tokio::test]
async fn the_demo_emits_only_event_types_stripe_has() {
    let engine = stripe_sql::engine::Engine::demo().unwrap();
    let rows = engine.sql("SELECT DISTINCT type FROM events ORDER BY type").await.unwrap();
    let types = column(&rows, "type");
    let known = stripe_sql::catalog::event_types();
    assert!(known.len() > 200, "the catalog lists Stripe's event types");
    let unknown: Vec<&String> = types.iter().filter(|t| !known.contains(*t)).collect();
    assert!(unknown.is_empty(), "made-up event types: {unknown:?}");
    for expected in ["charge.succeeded", "customer.created", "payment_intent.created"] {
        assert!(types.iter().any(|t| t == expected), "{expected} missing from {types:?}");
    }
    assert!(!types.iter().any(|t| t == "charge.created"), "Stripe has no charge.created");
}
