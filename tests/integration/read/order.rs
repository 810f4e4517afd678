//! `ORDER BY created DESC LIMIT n`: lists come newest first, so the scan
//! declares that ordering, DataFusion drops the sort and pushes the LIMIT into
//! the scan, which then makes one request with `limit=n`. (Not yet when the
//! select list computes something: DataFusion then adds a round-robin
//! RepartitionExec above the scan and the LIMIT stops there.)

use stripe_sql::engine::Engine;

use super::first_column;

/// `(path, params)` of the previous statement's calls, via `stripe_last_requests()`.
async fn last_requests(engine: &Engine) -> Vec<(String, String)> {
    let batches =
        engine.sql("SELECT path, params FROM stripe_last_requests() ORDER BY seq").await.expect("last requests");
    let mut out = Vec::new();
    for batch in &batches {
        let one = datafusion::arrow::record_batch::RecordBatch::try_new(
            std::sync::Arc::new(batch.schema().project(&[1]).expect("params column")),
            vec![batch.column(1).clone()],
        )
        .expect("batch");
        let paths = first_column(std::slice::from_ref(batch));
        out.extend(paths.into_iter().zip(first_column(&[one])));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_first_limit_reaches_the_scan() {
    let engine = Engine::demo().expect("demo engine");
    // Expected values sorted here, not by DataFusion (which trusts the declared order).
    let mut all = first_column(&engine.sql("SELECT created FROM charges").await.expect("full"));
    all.sort_by(|a, b| b.cmp(a));
    let newest: Vec<String> = all[..5].to_vec();

    let rows = engine.sql("SELECT created, id FROM charges ORDER BY created DESC LIMIT 5").await.expect("limit");
    assert_eq!(first_column(&rows), newest);
    let calls = last_requests(&engine).await;
    assert_eq!(calls.len(), 1, "one request expected: {calls:?}");
    assert_eq!(calls[0].0, "/v1/charges");
    assert!(calls[0].1.split('&').any(|p| p == "limit=5"), "limit=5 expected: {calls:?}");

    // With a list filter the walk is still one list, newest first.
    let customer =
        first_column(&engine.sql("SELECT customer FROM charges WHERE customer IS NOT NULL LIMIT 1").await.expect("c"))
            [0]
        .clone();
    let mut expected = first_column(
        &engine.sql(&format!("SELECT created FROM charges WHERE customer = '{customer}'")).await.expect("c"),
    );
    expected.sort_by(|a, b| b.cmp(a));
    expected.truncate(2);
    let sql = format!("SELECT created FROM charges WHERE customer = '{customer}' ORDER BY created DESC LIMIT 2");
    assert_eq!(first_column(&engine.sql(&sql).await.expect("limited")), expected);
    let calls = last_requests(&engine).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].1.split('&').any(|p| p == "limit=2"), "{calls:?}");

    // A fan-out merge has no order: the sort stays and the rows are still right.
    let two: Vec<String> = first_column(
        &engine
            .sql("SELECT DISTINCT customer FROM charges WHERE customer IS NOT NULL ORDER BY customer LIMIT 2")
            .await
            .expect("two"),
    );
    let list = format!("'{}', '{}'", two[0], two[1]);
    let expected = engine
        .sql(&format!("SELECT created FROM charges WHERE customer IN ({list}) ORDER BY created DESC"))
        .await
        .expect("fan-out");
    let expected: Vec<String> = first_column(&expected).into_iter().take(3).collect();
    let sql = format!("SELECT created FROM charges WHERE customer IN ({list}) ORDER BY created DESC LIMIT 3");
    assert_eq!(first_column(&engine.sql(&sql).await.expect("fan-out limit")), expected);

    // Ascending order is not the natural one: every page is read, the result is right.
    let oldest = engine.sql("SELECT created FROM charges ORDER BY created ASC LIMIT 3").await.expect("asc");
    all.reverse();
    assert_eq!(first_column(&oldest), all[..3].to_vec());
}
