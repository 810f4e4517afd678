//! New rows: exactly once between polls, whole bursts within one second, and
//! no repeat or gap across a restart from the state file.

use std::sync::Arc;

use stripe_sql::watch::{WatchOptions, WatchState, Watcher};

use super::support::*;

fn since(second: i64) -> WatchOptions {
    WatchOptions { since: Some(second), ..WatchOptions::default() }
}

#[tokio::test]
async fn objects_created_between_polls_are_emitted_exactly_once() {
    let engine = engine();
    insert_customers(&engine, &emails("before", 2)).await;
    set_clock(&engine, T0 + 10);
    let mut w = Watcher::new(Arc::clone(&engine), "SELECT email, id FROM customers", since(T0 + 10)).await.unwrap();
    assert_eq!(w.poll_and_commit().await.unwrap().rows, 0, "objects older than --since are not new");

    insert_customers(&engine, &emails("a", 2)).await;
    let p = w.poll_and_commit().await.unwrap();
    assert_eq!(distinct_sorted(&column(&p.batches, "email")), emails("a", 2));
    assert_eq!(p.batches[0].schema().fields().len(), 2, "the hidden columns are stripped");
    assert_eq!(w.poll_and_commit().await.unwrap().rows, 0, "nothing new: nothing printed");

    // One more in the high-water second (T0+10) and one later: both, and nothing else.
    insert_customers(&engine, &["same@watch.test".to_string()]).await;
    set_clock(&engine, T0 + 11);
    insert_customers(&engine, &["later@watch.test".to_string()]).await;
    let p = w.poll_and_commit().await.unwrap();
    assert_eq!(column(&p.batches, "email"), ["same@watch.test", "later@watch.test"], "oldest first");
    assert_eq!(w.state().rows.second, T0 + 11);
    assert_eq!(w.poll_and_commit().await.unwrap().rows, 0);

    // Each poll was one list call bounded below by the high-water second.
    let log = engine.client().request_log().entries();
    let polls: Vec<_> = log.iter().filter(|e| e.method == "GET" && e.path == "/v1/customers").collect();
    assert_eq!(polls.len(), 5);
    assert_eq!(polls[4].param("created[gte]"), Some((T0 + 11).to_string().as_str()));
}

#[tokio::test]
async fn the_where_clause_is_applied_and_pushed_down() {
    let engine = engine();
    let mut w =
        Watcher::new(Arc::clone(&engine), "SELECT c.email FROM customers AS c WHERE c.email LIKE 'keep%'", since(T0))
            .await
            .unwrap();
    insert_customers(&engine, &[emails("keep", 2), emails("drop", 2)].concat()).await;
    let p = w.poll_and_commit().await.unwrap();
    assert_eq!(distinct_sorted(&column(&p.batches, "email")), emails("keep", 2));
    let last = engine.client().request_log().entries().pop().unwrap();
    assert_eq!((last.path.as_str(), last.param("created[gte]")), ("/v1/customers", Some(T0.to_string().as_str())));
}

#[tokio::test]
async fn a_burst_in_one_second_is_emitted_whole_across_polls_and_pages() {
    let engine = engine();
    let mut w = Watcher::new(Arc::clone(&engine), "SELECT email FROM customers", since(T0)).await.unwrap();
    let mut seen = Vec::new();
    // 250 objects in one second, polled after 70, 100 and 80 more: more than a page each time.
    for (i, n) in [70, 100, 80].into_iter().enumerate() {
        insert_customers(&engine, &emails(&format!("b{i}-"), n)).await;
        let p = w.poll_and_commit().await.unwrap();
        assert_eq!(p.rows, n, "poll {i} emits exactly the objects created since the last one");
        seen.extend(column(&p.batches, "email"));
    }
    assert_eq!(distinct_sorted(&seen).len(), 250);
    assert_eq!((w.state().rows.second, w.state().rows.seen.len()), (T0, 250));
}

#[tokio::test]
async fn a_restart_from_the_state_file_resumes_with_no_repeat_and_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watch.json");
    let engine = engine();
    let sql = "SELECT email FROM customers";
    let mut first = Watcher::new(Arc::clone(&engine), sql, since(T0)).await.unwrap();
    insert_customers(&engine, &emails("one", 3)).await;
    let p = first.poll_and_commit().await.unwrap();
    assert_eq!(p.rows, 3);
    first.state().save(&path).unwrap();
    drop(first);

    // While no watcher runs: more objects in the same second, and later ones.
    insert_customers(&engine, &emails("gap", 2)).await;
    set_clock(&engine, T0 + 1);
    insert_customers(&engine, &emails("after", 2)).await;

    let state = WatchState::load(&path).unwrap().expect("state saved");
    let opts = stripe_sql::watch::WatchOptions { state: Some(state), since: Some(T0 + 999), ..Default::default() };
    let mut second = Watcher::new(Arc::clone(&engine), sql, opts).await.unwrap();
    let p = second.poll_and_commit().await.unwrap();
    assert_eq!(distinct_sorted(&column(&p.batches, "email")), [emails("after", 2), emails("gap", 2)].concat());
    assert_eq!(second.poll_and_commit().await.unwrap().rows, 0);

    // A state file is tied to its table.
    let state = WatchState::load(&path).unwrap();
    let opts = stripe_sql::watch::WatchOptions { state, ..Default::default() };
    let err = Watcher::new(Arc::clone(&engine), "SELECT id FROM charges", opts).await.unwrap_err();
    assert!(err.to_string().contains("for table customers"), "{err}");
}

#[tokio::test]
async fn unwatchable_queries_are_refused_before_any_call() {
    let engine = engine();
    for (sql, why) in [
        ("SELECT count(*) FROM charges", "Aggregate"),
        ("SELECT id, row_number() OVER (ORDER BY created) FROM charges", "Window"),
        ("SELECT * FROM charges c JOIN customers u ON c.customer = u.id", "joins"),
        ("SELECT * FROM prices ORDER BY created", "ORDER BY"),
        ("SELECT * FROM nowhere", "not a stripe table"),
    ] {
        let err = Watcher::new(Arc::clone(&engine), sql, WatchOptions::default()).await.unwrap_err().to_string();
        assert!(err.contains("cannot watch this query") && err.contains(why), "{sql}: {err}");
    }
    assert!(engine.client().request_log().is_empty(), "refusing made no API call");
}

#[tokio::test]
async fn the_settle_window_catches_objects_listed_after_newer_ones() {
    let engine = engine();
    let opts = WatchOptions { since: Some(T0), settle: 5, ..WatchOptions::default() };
    let mut w = Watcher::new(Arc::clone(&engine), "SELECT email FROM customers", opts).await.unwrap();
    set_clock(&engine, T0 + 3);
    insert_customers(&engine, &emails("new", 1)).await;
    assert_eq!(column(&w.poll_and_commit().await.unwrap().batches, "email"), emails("new", 1));
    // A slow request: created at T0+1, listable only after the T0+3 object was printed.
    set_clock(&engine, T0 + 1);
    insert_customers(&engine, &emails("slow", 1)).await;
    assert_eq!(column(&w.poll_and_commit().await.unwrap().batches, "email"), emails("slow", 1));
    assert_eq!(w.poll_and_commit().await.unwrap().rows, 0, "the window's ids are remembered");
    // Without the window it would be lost: that poll asks only from the high-water second.
    let last = engine.client().request_log().entries().pop().unwrap();
    assert_eq!(last.param("created[gte]"), Some(T0.to_string().as_str()), "floor = max(start, high-water - 5)");
}
