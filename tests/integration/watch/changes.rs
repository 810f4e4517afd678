//! `--changes`: updates and deletions of the watched table, from its events,
//! through the user's projection and WHERE, with the change kind first.

use std::sync::Arc;

use stripe_sql::watch::{WatchOptions, Watcher};

use super::support::*;

#[tokio::test]
async fn updates_and_deletions_appear_with_their_kind_exactly_once() {
    let engine = engine();
    let opts = WatchOptions { changes: true, since: Some(T0), ..Default::default() };
    let sql = "SELECT email, name FROM customers WHERE email LIKE '%@watch.test'";
    let mut w = Watcher::new(Arc::clone(&engine), sql, opts).await.unwrap();
    insert_customers(&engine, &emails("c", 2)).await;
    insert_customers(&engine, &["other@elsewhere.test".to_string()]).await;
    let p = w.poll_and_commit().await.unwrap();
    let names: Vec<String> = p.batches[0].schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["change", "email", "name"], "the change kind comes first");
    assert_eq!(column(&p.batches, "change"), ["created", "created"]);

    let id0 = customer_id(&engine, "c0@watch.test").await;
    let id1 = customer_id(&engine, "c1@watch.test").await;
    let other = customer_id(&engine, "other@elsewhere.test").await;
    set_clock(&engine, T0 + 5);
    engine.sql(&format!("UPDATE customers SET name = 'Renamed' WHERE id = '{id0}'")).await.unwrap();
    engine.sql(&format!("UPDATE customers SET name = 'Not watched' WHERE id = '{other}'")).await.unwrap();
    engine.sql(&format!("DELETE FROM customers WHERE id = '{id1}'")).await.unwrap();
    let p = w.poll_and_commit().await.unwrap();
    assert_eq!(column(&p.batches, "change"), ["updated", "deleted"]);
    assert_eq!(column(&p.batches, "email"), ["c0@watch.test", "c1@watch.test"]);
    assert_eq!(column(&p.batches, "name"), ["Renamed", "NULL"], "an update shows the object after it");
    assert_eq!(w.poll_and_commit().await.unwrap().rows, 0, "each change once");

    // The events were asked for by type and created, in one request.
    let events = engine.client().request_log().entries().into_iter().rfind(|e| e.path == "/v1/events").unwrap();
    let mut types: Vec<&str> = events.params.iter().filter(|(k, _)| k == "types[]").map(|(_, v)| v.as_str()).collect();
    types.sort();
    assert_eq!(types, ["customer.deleted", "customer.updated"]);
    assert_eq!(events.param("created[gte]"), Some((T0 + 5).to_string().as_str()));

    // A second update in the same second as the last seen event is still found.
    engine.sql(&format!("UPDATE customers SET name = 'Again' WHERE id = '{id0}'")).await.unwrap();
    let p = w.poll_and_commit().await.unwrap();
    assert_eq!(
        (column(&p.batches, "change"), column(&p.batches, "name")),
        (vec!["updated".into()], vec!["Again".into()])
    );
}

#[tokio::test]
async fn changes_need_a_table_with_update_or_delete_events() {
    let engine = engine();
    let opts = WatchOptions { changes: true, ..Default::default() };
    let err = Watcher::new(Arc::clone(&engine), "SELECT id FROM balance_transactions", opts).await.unwrap_err();
    assert!(err.to_string().contains("no update or delete events"), "{err}");
}
