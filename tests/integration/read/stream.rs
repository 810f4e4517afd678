//! Streaming: a multi-page scan yields its first batch before the last page is
//! requested, and `count(*)` pages through the whole table.
//!
//! These are the sequential cursor walk's figures (`stripe.max_concurrency = 1`);
//! the walk split into `created` ranges is tested in `speed.rs`.
//!
//! Uses the demo data at scale 1 (about 2,000 charges, 21 pages of 100): a
//! 100,000-row emulator takes minutes to build in a debug build, so pages are
//! counted instead (benches/scan.rs covers 100,000 rows and memory).

use futures::StreamExt;
use stripe_sql::engine::Engine;

fn charge_list_requests(engine: &Engine, since: usize) -> usize {
    engine.client().request_log().entries()[since..].iter().filter(|e| e.path == "/v1/charges").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_batch_arrives_before_the_last_page_is_requested() {
    let engine = Engine::demo().expect("demo engine");
    engine.sql("SET stripe.max_concurrency = 1").await.expect("sequential walk");
    let total_rows = engine.emulator().expect("demo emulator").count("charges");
    let total_pages = total_rows.div_ceil(100);
    assert!(total_pages >= 20, "need a scan of at least 20 pages, the demo has {total_rows} charges");

    let before = engine.client().request_log().len();
    let df = engine.dataframe("SELECT id, amount, created FROM charges").await.expect("plan");
    let mut stream = df.execute_stream().await.expect("execute");
    let first = stream.next().await.expect("a first batch").expect("first batch ok");
    assert!(first.num_rows() > 0);
    let requested_at_first_batch = charge_list_requests(&engine, before);
    let mut rows = first.num_rows();
    while let Some(batch) = stream.next().await {
        rows += batch.expect("batch").num_rows();
    }
    let requested_in_total = charge_list_requests(&engine, before);
    eprintln!(
        "readpath streaming: {requested_at_first_batch} of {requested_in_total} list requests made when the first batch arrived ({rows} rows)"
    );
    assert_eq!(rows, total_rows);
    assert_eq!(requested_in_total, total_pages, "one request per page of 100");
    assert!(
        requested_at_first_batch <= 3,
        "the first batch waited for {requested_at_first_batch} of {total_pages} pages"
    );

    // Dropping a stream after its first batch stops the pagination.
    let before = engine.client().request_log().len();
    let df = engine.dataframe("SELECT id FROM charges").await.expect("plan");
    let mut stream = df.execute_stream().await.expect("execute");
    stream.next().await.expect("a batch").expect("batch ok");
    drop(stream);
    // A quiet period for a negative check: pages the scan would still fetch
    // would show up within it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let after_drop = charge_list_requests(&engine, before);
    assert!(after_drop <= 3, "{after_drop} pages fetched for a stream dropped after one batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_star_pages_through_the_whole_table() {
    let engine = Engine::demo().expect("demo engine");
    engine.sql("SET stripe.max_concurrency = 1").await.expect("sequential walk");
    let total_rows = engine.emulator().expect("demo emulator").count("charges");
    let before = engine.client().request_log().len();
    let batches = engine.sql("SELECT count(*) FROM charges").await.expect("count");
    let counted: i64 = super::first_column(&batches)[0].parse().expect("a number");
    assert_eq!(counted as usize, total_rows);
    assert_eq!(charge_list_requests(&engine, before), total_rows.div_ceil(100));
}
