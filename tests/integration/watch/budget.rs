//! The calls-per-window budget: however fast polls are asked for, the request
//! log never shows more calls in any window than the budget allows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use stripe_sql::watch::budget::busiest_window;
use stripe_sql::watch::{CallBudget, WatchOptions, Watcher};

use super::support::*;

#[tokio::test]
async fn the_request_log_shows_the_budget_respected_in_every_window() {
    let budget = CallBudget { calls: 5, per: Duration::from_secs(1) };
    let engine = engine_with(|c| c.max_rps = budget.limit(c.max_rps));
    let opts = WatchOptions { changes: true, since: Some(T0), ..Default::default() };
    let mut w = Watcher::new(Arc::clone(&engine), "SELECT email FROM customers", opts).await.unwrap();
    insert_customers(&engine, &emails("x", 3)).await;
    let mark = engine.client().request_log().len() as u64;
    let started = Instant::now();
    let mut polls = 0;
    // Poll back to back (two calls each: customers and events) for 2.5 s.
    while started.elapsed() < Duration::from_millis(2500) {
        w.poll_and_commit().await.unwrap();
        polls += 1;
    }
    let calls = engine.client().request_log().since(mark);
    assert_eq!(calls.len(), polls * 2);
    assert!(calls.len() >= 8, "the budget, not something else, limited the polls: {} calls", calls.len());
    let busiest = busiest_window(&calls, budget.per);
    assert!(busiest <= 5, "{busiest} calls within one second; the budget is 5");

    // The same count in SQL, from the request log's send times.
    let sql = "SELECT max(n) AS busiest FROM (SELECT a.seq, count(*) AS n FROM stripe_request_log() a \
               JOIN stripe_request_log() b ON b.sent_at >= a.sent_at AND b.sent_at < a.sent_at + INTERVAL '1 second' \
               GROUP BY a.seq)";
    let busiest: i64 = column(&engine.sql(sql).await.unwrap(), "busiest")[0].parse().unwrap();
    assert!((4..=5).contains(&busiest), "the budget is used but never exceeded: {busiest} calls in a second");
}
