//! A watch that runs for months: over thousands of polls on the emulator's
//! clock, with objects created and updated as it goes, everything the watch
//! keeps stays bounded (its cursors, the request log, the emulator's saved
//! idempotent answers) while every new object is still reported once.

use std::sync::Arc;

use stripe_sql::watch::{WatchOptions, Watcher};

use super::support::*;

#[tokio::test]
async fn thousands_of_polls_keep_the_watch_state_and_the_request_log_bounded() {
    const POLLS: usize = 1_000;
    const LOG: usize = 500;
    let engine = engine_with(|c| c.request_log_size = LOG);
    let opts = WatchOptions { changes: true, since: Some(T0), settle: 10, ..Default::default() };
    let mut w = Watcher::new(Arc::clone(&engine), "SELECT id, email FROM customers", opts).await.unwrap();
    let mut created = 0;
    let mut reported = 0;
    let mut largest_seen = 0;
    for poll in 0..POLLS {
        if poll % 10 == 0 {
            // A new second on the emulator's clock, a new customer, an update.
            set_clock(&engine, T0 + (poll / 10) as i64);
            insert_customers(&engine, &emails(&format!("p{poll}_"), 1)).await;
            created += 1;
            engine
                .sql(&format!("UPDATE customers SET name = 'n{poll}' WHERE email = 'p{poll}_0@watch.test'"))
                .await
                .unwrap();
        }
        let p = w.poll_and_commit().await.unwrap();
        reported += column(&p.batches, "email").iter().filter(|c| c.as_str() != "NULL").count();
        let state = w.state();
        largest_seen = largest_seen.max(state.rows.seen.len() + state.events.seen.len());
    }
    let log = engine.client().request_log();
    assert!(log.len() >= 2 * POLLS, "every poll made its calls: {}", log.len());
    assert_eq!(log.kept(), LOG, "the request log keeps its last {LOG} entries");
    assert_eq!(log.dropped() as usize, log.len() - LOG);
    // The cursors keep only the ids of the settle window (10 s = 10 customers
    // and their events), not every id ever seen.
    assert!(largest_seen <= 4 * 11, "the cursors grew to {largest_seen} ids over {created} customers");
    assert!(
        reported >= created,
        "each new customer (and its update) reported: {reported} rows for {created} customers"
    );
}
