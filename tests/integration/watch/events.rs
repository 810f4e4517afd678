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
    assert_eq!(column(&rows, "object_id"), [id.clone()]);
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
