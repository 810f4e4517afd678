//! The mirror equals the account after every kind of change: a backfill over
//! several commits, creates, updates, deletes and state changes applied from
//! events (with their side effects on other tables and nested lines), a
//! same-second burst, an event listable only after newer ones were applied,
//! a change with no event (repaired and counted by reconciliation), immutable
//! balance transactions by created cursor, and a cursor past the 30-day window.

use serde_json::json;

use super::support::*;

const TABLES: &[&str] = &["customers", "charges", "refunds", "invoices", "invoice_lines", "balance_transactions"];

/// An account with a few of everything, spread over an hour.
async fn seeded() -> Account {
    let a = Account::new();
    for i in 0..4 {
        let cus = a.customer(&format!("c{i}@sync.test")).await;
        a.advance(300);
        a.charge(&cus, 1000 + i).await;
        a.charge(&cus, 2000 + i).await;
        a.advance(300);
        a.invoice(&cus, 2).await;
    }
    a
}

#[tokio::test]
async fn events_keep_every_table_exact_through_creates_updates_deletes_and_bursts() {
    let a = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(TABLES, dir.path()).await;
    sync.step(false).await.unwrap();
    let rows = assert_exact(&a.engine, &sync).await;
    assert!(rows > 30, "backfilled {rows} rows");
    assert!(sync.state("charges").unwrap().step >= 2, "the backfill committed chunk by chunk");

    a.advance(60);
    let kept = a.customer("new@sync.test").await;
    let gone = a.customer("gone@sync.test").await;
    a.post(&format!("/v1/customers/{kept}"), json!({"name": "Renamed"})).await;
    let charge = a.charge(&kept, 4200).await;
    a.advance(1);
    // A refund changes its charge (charge.refunded) and adds a balance transaction.
    a.post("/v1/refunds", json!({"charge": charge, "amount": 1200})).await;
    let inv = a.invoice(&kept, 3).await;
    a.post(&format!("/v1/invoices/{inv}/finalize"), json!({})).await;
    a.post(&format!("/v1/invoices/{inv}/pay"), json!({"paid_out_of_band": true})).await;
    a.delete(&format!("/v1/customers/{gone}")).await;
    sync.step(false).await.unwrap();
    assert_exact(&a.engine, &sync).await;

    // A burst in one second: creates, and one customer changed three times.
    a.advance(5);
    let emails: Vec<String> = (0..5).map(|i| format!("b{i}@sync.test")).collect();
    let burst: Vec<String> = futures::future::join_all(emails.iter().map(|e| a.customer(e))).await;
    for name in ["one", "two", "three"] {
        a.post(&format!("/v1/customers/{}", burst[0]), json!({"name": name})).await;
    }
    a.delete(&format!("/v1/customers/{}", burst[1])).await;
    sync.step(false).await.unwrap();
    assert_exact(&a.engine, &sync).await;
    let state = sync.state("customers").unwrap();
    assert!(state.events.last_event.is_some() && state.rows > 5, "{state:?}");
}

#[tokio::test]
async fn a_backfill_lists_its_pages_and_commits_the_events_cursor_with_its_first_rows() {
    let a = seeded().await;
    let events = a.engine.client().get("/v1/events", &json!({"limit": 1})).await.unwrap();
    let newest_event = events["data"][0]["created"].as_i64().expect("the seeding made events");
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(&["charges"], dir.path()).await;
    let mark = a.engine.client().request_log().len();
    sync.step(false).await.unwrap();
    let log = a.engine.client().request_log().entries()[mark..].to_vec();
    let lists: Vec<_> = log.iter().filter(|e| e.path == "/v1/charges").collect();
    // The scan's first page is the table's probe: no call of its own, and the
    // first request is the plain newest-first page.
    assert!(lists.iter().all(|e| e.param("limit") == Some("3")), "a probe or another page size: {lists:?}");
    assert!(lists[0].param("created[lte]").is_none() && lists[0].param("starting_after").is_none(), "{:?}", lists[0]);
    let charges = a.emulator().count("charges");
    assert!(lists.len() <= charges.div_ceil(3) + 16, "{} list calls for {charges} charges", lists.len());
    assert!(log.iter().filter(|e| e.path == "/v1/account").count() <= 1);
    // The events cursor read beside the first page is the one committed.
    let state = sync.state("charges").unwrap();
    assert_eq!(state.events.cursor, newest_event);
    assert!(state.backfill.is_none() && state.rows == charges as u64 && state.step >= 2, "{state:?}");
    assert_exact(&a.engine, &sync).await;
}

#[tokio::test]
async fn an_event_listable_late_is_still_applied() {
    let a = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(&["customers"], dir.path()).await;
    sync.step(false).await.unwrap();
    let ids: Vec<String> =
        rows_text(&sync.rows("customers").await.unwrap()).into_iter().map(|r| r[0].clone()).collect();

    a.advance(10);
    a.emulator().hold_next_events(1);
    a.post(&format!("/v1/customers/{}", ids[0]), json!({"name": "Late"})).await;
    a.advance(3);
    a.post(&format!("/v1/customers/{}", ids[1]), json!({"name": "On time"})).await;
    sync.step(false).await.unwrap();
    let names =
        |rows: Vec<Vec<String>>, id: &str, col: usize| rows.into_iter().find(|r| r[0] == id).unwrap()[col].clone();
    let name_col = a.engine.sql("SELECT * FROM customers LIMIT 1").await.unwrap()[0].schema().index_of("name").unwrap();
    let mirrored = rows_text(&sync.rows("customers").await.unwrap());
    assert_eq!(names(mirrored.clone(), &ids[1], name_col), "On time");
    assert_ne!(names(mirrored, &ids[0], name_col), "Late", "the held event cannot have been applied yet");
    assert_eq!(sync.state("customers").unwrap().events.cursor, T0 + 2413);

    assert_eq!(a.emulator().release_events(), 1);
    a.advance(20);
    sync.step(false).await.unwrap();
    assert_exact(&a.engine, &sync).await;
}

#[tokio::test]
async fn reconciliation_repairs_a_change_no_event_reported_and_counts_it() {
    let a = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(&["customers", "charges"], dir.path()).await;
    sync.step(false).await.unwrap();
    let cus = rows_text(&sync.rows("customers").await.unwrap())[0][0].clone();
    assert!(a.emulator().mutate_silently("customers", &cus, |c| {
        c.insert("name".into(), json!("Drifted"));
    }));
    a.advance(30);
    sync.step(false).await.unwrap();
    let live = rows_text(&live_rows(&a.engine, &sync, "customers").await);
    let mirrored = rows_text(&sync.rows("customers").await.unwrap());
    assert_ne!(live, mirrored, "no event: the follower cannot know");

    sync.reconcile().await.unwrap();
    assert_exact(&a.engine, &sync).await;
    let state = sync.state("customers").unwrap();
    assert_eq!((state.last_repairs, state.total_repairs), (1, 1));
    assert_eq!(sync.state("charges").unwrap().last_repairs, 0);
    assert_eq!(state.reconciled_at, Some(T0 + 2430));
}

#[tokio::test]
async fn a_cursor_older_than_the_events_window_backfills_again_and_says_so() {
    let a = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(&["customers"], dir.path()).await;
    sync.step(false).await.unwrap();
    a.advance(60);
    a.customer("before@sync.test").await;
    sync.step(false).await.unwrap();
    let before = sync.state("customers").unwrap().step;

    a.advance(31 * 86_400);
    a.customer("after@sync.test").await;
    sync.step(false).await.unwrap();
    let state = sync.state("customers").unwrap();
    let reason = state.rebackfill_reason.clone().expect("a re-backfill says why");
    assert!(reason.contains("older than the 30 days"), "{reason}");
    assert!(state.step > before && state.backfill.is_none());
    assert_exact(&a.engine, &sync).await;
}

#[tokio::test]
async fn a_lone_update_is_applied_from_the_event_without_a_retrieve() {
    let a = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let mut sync = a.syncer(&["customers"], dir.path()).await;
    sync.step(false).await.unwrap();
    let cus = rows_text(&sync.rows("customers").await.unwrap())[0][0].clone();
    a.advance(90);
    a.post(&format!("/v1/customers/{cus}"), json!({"name": "From the event", "metadata": {"k": "v"}})).await;
    let mark = a.engine.client().request_log().len();
    sync.step(false).await.unwrap();
    let calls: Vec<String> =
        a.engine.client().request_log().entries()[mark..].iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    assert_eq!(calls, ["GET /v1/events"], "the event's object is the row: no retrieve");
    assert_exact(&a.engine, &sync).await;
}
