//! Throughput: list scans split into `created` ranges return exactly
//! what the sequential walk returns (no object twice, none missed, also when
//! many objects share a second or objects are created during the scan), 429s
//! slow a scan down instead of failing it, `ORDER BY created DESC LIMIT n`
//! stays one call, and the response cache (`stripe.cache_ttl`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql_app::backend::EngineBackend;
use stripe_sql_app::repl::Backend;

use super::read::first_column;

async fn column(engine: &Engine, sql: &str) -> Vec<String> {
    first_column(&engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")))
}

/// The whole output of an EXPLAIN statement as text.
async fn explain(engine: &Engine, sql: &str) -> String {
    let batches = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    datafusion::arrow::util::pretty::pretty_format_batches(&batches).expect("format").to_string()
}

/// The ids `sql` returns, sorted, after checking there is no duplicate.
async fn unique_ids(engine: &Engine, sql: &str) -> Vec<String> {
    let mut ids = column(engine, sql).await;
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "{sql} returned an object twice");
    ids.sort();
    ids
}

/// Params of the previous statement's GETs on `path`.
fn list_calls(engine: &Engine, since: usize, path: &str) -> Vec<stripe_sql::stripe::LogEntry> {
    engine.client().request_log().since(since as u64).into_iter().filter(|e| e.path == path).collect()
}

async fn sequential_and_parallel(engine: &Engine, sql: &str) -> (Vec<String>, Vec<String>, usize) {
    engine.sql("SET stripe.max_concurrency = 1").await.expect("set");
    let sequential = unique_ids(engine, sql).await;
    engine.sql("SET stripe.max_concurrency = 8").await.expect("set");
    let mark = engine.client().request_log().len();
    let parallel = unique_ids(engine, sql).await;
    let split =
        engine.client().request_log().since(mark as u64).iter().filter(|e| e.param("created[lte]").is_some()).count();
    (sequential, parallel, split)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_scan_returns_exactly_the_sequential_walk() {
    let engine =
        Engine::with_emulator(EmulatorConfig { jitter: Duration::from_millis(15), ..EmulatorConfig::demo() }, |_| {})
            .expect("demo engine");
    let total = engine.emulator().expect("emulator").count("charges");
    let (sequential, parallel, split) = sequential_and_parallel(&engine, "SELECT id FROM charges").await;
    assert_eq!(sequential.len(), total);
    assert_eq!(parallel, sequential);
    assert!(split >= 2, "the scan was split into created ranges ({split} ranged requests)");

    // count(*) pages through everything; splitting costs some partly filled pages.
    let mark = engine.client().request_log().len();
    let counted = column(&engine, "SELECT count(*) FROM charges").await;
    assert_eq!(counted[0].parse::<usize>().expect("count"), total);
    let requests = list_calls(&engine, mark, "/v1/charges").len();
    let pages = total.div_ceil(100);
    eprintln!("speed: count(*) over {total} charges split into ranges took {requests} requests ({pages} full pages)");
    assert!(requests <= 2 * pages, "{requests} requests for {pages} pages");

    // Streaming: the first batch comes after the first page, and dropping the
    // stream stops the scan (in-flight requests are aborted).
    let mark = engine.client().request_log().len();
    let mut stream =
        engine.dataframe("SELECT id FROM charges").await.expect("plan").execute_stream().await.expect("run");
    stream.next().await.expect("a batch").expect("batch ok");
    assert_eq!(list_calls(&engine, mark, "/v1/charges").len(), 1, "the first batch waited for more pages");
    stream.next().await.expect("a batch").expect("batch ok");
    drop(stream);
    // A quiet period for a negative check: requests the scan would still make
    // would show up within it (a loaded machine only makes fewer).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_drop = list_calls(&engine, mark, "/v1/charges").len();
    assert!(after_drop <= 2 + 8, "{after_drop} requests for a stream dropped after two batches");

    // With the user's own created bounds, the ranges stay inside them.
    let pick = "FROM charges ORDER BY created LIMIT 1 OFFSET 300";
    let created = column(&engine, &format!("SELECT CAST(created AS BIGINT) AS secs {pick}")).await;
    let text = column(&engine, &format!("SELECT created {pick}")).await;
    let sql = format!("SELECT id FROM charges WHERE created > '{}'", text[0]);
    let mark = engine.client().request_log().len();
    let (sequential, parallel, _) = sequential_and_parallel(&engine, &sql).await;
    assert!(sequential.len() > 1000, "{} rows", sequential.len());
    assert_eq!(parallel, sequential);
    let lower: i64 = created[0].parse().expect("seconds");
    for call in list_calls(&engine, mark, "/v1/charges") {
        let gte = call.param("created[gte]").map(|v| v.parse::<i64>().expect("int"));
        let gt = call.param("created[gt]").map(|v| v.parse::<i64>().expect("int") + 1);
        let lo = gte.or(gt).expect("every call keeps a lower bound");
        assert!(lo > lower, "a range went below the user's bound: {:?}", call.params);
    }

    // EXPLAIN says so; concurrency 1 does not split.
    let plan = explain(&engine, "EXPLAIN SELECT id FROM charges").await;
    assert!(plan.contains("split into created ranges (concurrency 8)"), "{plan}");
    engine.sql("SET stripe.max_concurrency = 1").await.expect("set");
    let plan = explain(&engine, "EXPLAIN SELECT id FROM charges").await;
    assert!(!plan.contains("split into"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_sharing_a_second_are_walked_by_cursor() {
    let engine =
        Engine::with_emulator(EmulatorConfig { jitter: Duration::from_millis(5), ..EmulatorConfig::default() }, |_| {})
            .expect("engine");
    // Three bursts of 150 customers, each within one second of the emulator's clock.
    let emulator = engine.emulator().expect("emulator");
    for burst in 0..3 {
        emulator.set_clock(Some(1_700_000_000 + 10 * burst));
        for i in 0..150 {
            engine.client().post("/v1/customers", &json!({"name": format!("c{burst}-{i}")})).await.expect("create");
        }
    }
    let created = column(&engine, "SELECT count(DISTINCT created) FROM customers").await;
    assert_eq!(created[0], "3", "450 customers in three seconds");
    let (sequential, parallel, _) = sequential_and_parallel(&engine, "SELECT id FROM customers").await;
    assert_eq!(sequential.len(), 450);
    assert_eq!(parallel, sequential);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_created_during_a_scan_are_left_out() {
    let engine =
        Engine::with_emulator(EmulatorConfig { latency: Duration::from_millis(30), ..EmulatorConfig::demo() }, |_| {})
            .expect("demo engine");
    let before = unique_ids(&engine, "SELECT id FROM customers").await;
    assert!(before.len() > 150, "needs several pages, the demo has {}", before.len());

    let df = engine.dataframe("SELECT id FROM customers").await.expect("plan");
    let mut stream = df.execute_stream().await.expect("execute");
    let mut seen = first_column(&[stream.next().await.expect("a batch").expect("batch ok")]);
    let mut created = Vec::new();
    for i in 0..3 {
        let c = engine.client().post("/v1/customers", &json!({"name": format!("during {i}")})).await.expect("create");
        created.push(c["id"].as_str().expect("id").to_string());
    }
    while let Some(batch) = stream.next().await {
        seen.extend(first_column(&[batch.expect("batch")]));
    }
    seen.sort();
    assert_eq!(seen, before, "the scan is a snapshot as of its first page");
    assert!(created.iter().all(|id| !seen.contains(id)));
    // The next scan sees them.
    assert_eq!(unique_ids(&engine, "SELECT id FROM customers").await.len(), before.len() + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_slow_a_scan_down_but_never_fail_it() {
    // The server allows 4 requests/s per endpoint; the client has no budget of
    // its own and learns from the 429s.
    let engine = Engine::with_emulator(EmulatorConfig { endpoint_rps: 4.0, ..EmulatorConfig::demo() }, |c| {
        c.retry_max_delay = Duration::from_secs(2)
    })
    .expect("demo engine");
    let emulator = engine.emulator().expect("emulator");
    let total = emulator.count("charges");
    emulator.fail_next_on(5, 429, "/v1/charges");
    let mark = engine.client().request_log().len();
    for _ in 0..2 {
        let counted = column(&engine, "SELECT count(*) FROM charges").await;
        assert_eq!(counted[0].parse::<usize>().expect("count"), total);
    }
    let rejected = list_calls(&engine, mark, "/v1/charges").iter().filter(|e| e.status == Some(429)).count();
    assert!(rejected >= 5, "429s were injected and answered ({rejected})");
    eprintln!("speed: two count(*) scans under a 4 requests/s server limit saw {rejected} 429s and failed none");

    // Only when the retries run out does a query fail, and it says why.
    let quick = Engine::with_emulator(EmulatorConfig::demo(), |c| {
        c.retry_base_delay = Duration::from_millis(2);
        c.retry_max_delay = Duration::from_millis(5);
    })
    .expect("engine");
    quick.emulator().expect("emulator").fail_next_on(1000, 429, "/v1/customers");
    let err =
        quick.sql("SELECT id FROM customers WHERE email = 'a@b.c'").await.expect_err("retries run out").to_string();
    assert!(err.contains("429") && err.contains("retries exhausted"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_first_with_a_limit_stays_one_call() {
    let engine = Engine::demo().expect("demo engine");
    engine.sql("SET stripe.max_concurrency = 16").await.expect("set");
    let mut all = column(&engine, "SELECT id FROM charges ORDER BY created DESC, id").await;
    let mark = engine.client().request_log().len();
    let newest = column(&engine, "SELECT created FROM charges ORDER BY created DESC LIMIT 3").await;
    let calls = list_calls(&engine, mark, "/v1/charges");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].param("limit"), Some("3"));
    let mut expected = column(&engine, "SELECT created FROM charges").await;
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(newest, expected[..3].to_vec());
    // Also through a filter DataFusion re-checks: the walk stops after the pages it needs.
    engine.sql("SET stripe.use_search = false").await.expect("set");
    let mark = engine.client().request_log().len();
    let big = column(&engine, "SELECT id FROM charges WHERE amount > 0 ORDER BY created DESC LIMIT 5").await;
    assert_eq!(big.len(), 5);
    let calls = list_calls(&engine, mark, "/v1/charges");
    assert!(calls.len() <= 2 && calls.iter().all(|c| c.param("created[lte]").is_none()), "{calls:?}");
    let plan = explain(&engine, "EXPLAIN SELECT id FROM charges WHERE amount > 0 ORDER BY created DESC LIMIT 5").await;
    assert!(!plan.contains("split into") && !plan.contains("SortExec"), "{plan}");

    // Without a limit the order is still right (the split scan is not trusted for it).
    all.dedup();
    assert_eq!(all.len(), engine.emulator().expect("emulator").count("charges"));
    let ordered = column(&engine, "SELECT created FROM charges ORDER BY created DESC").await;
    assert_eq!(ordered, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_serves_repeats_until_a_write_or_the_ttl() {
    let engine = Arc::new(Engine::demo().expect("demo engine"));
    let emulator = engine.emulator().expect("emulator");
    engine.sql("SET stripe.cache_ttl = '30s'").await.expect("set");
    let list = "SELECT id, name FROM customers";
    let first = column(&engine, list).await;

    // A repeat within the TTL makes no API call at all.
    let served = emulator.requests_received();
    assert_eq!(column(&engine, list).await, first);
    assert_eq!(emulator.requests_received(), served, "the repeat reached the API");
    let cached = column(&engine, "SELECT cached FROM stripe_last_requests()").await;
    assert!(!cached.is_empty() && cached.iter().all(|c| c == "true"), "{cached:?}");

    // Retrieves too.
    let id = first[0].clone();
    let one = format!("SELECT name FROM customers WHERE id = '{id}'");
    column(&engine, &one).await;
    let served = emulator.requests_received();
    column(&engine, &one).await;
    assert_eq!(emulator.requests_received(), served);

    // EXPLAIN ANALYZE shows the hits.
    let text = explain(&engine, &format!("EXPLAIN ANALYZE {one}")).await;
    assert!(text.contains("cache_hits=1") && text.contains("api_requests=0"), "{text}");

    // A write in between sends the next read to the API, which sees the write.
    engine.sql(&format!("UPDATE customers SET name = 'Cache Buster' WHERE id = '{id}'")).await.expect("update");
    let served = emulator.requests_received();
    assert_eq!(column(&engine, &one).await, vec!["Cache Buster".to_string()]);
    assert!(emulator.requests_received() > served, "the read after a write was served from the cache");

    // \cache clear.
    column(&engine, list).await;
    EngineBackend::new(Arc::clone(&engine)).clear_cache();
    let served = emulator.requests_received();
    column(&engine, list).await;
    assert!(emulator.requests_received() > served, "\\cache clear kept the entries");

    // A new TTL applies to the next statement: entries older than it are not
    // served (how entries age is `cache::tests` in the client, on synthetic instants).
    engine.sql("SET stripe.cache_ttl = '300s'").await.expect("set");
    column(&engine, &one).await;
    let served = emulator.requests_received();
    column(&engine, &one).await;
    assert_eq!(emulator.requests_received(), served, "within the TTL");
    engine.sql("SET stripe.cache_ttl = '0s'").await.expect("set");
    column(&engine, &one).await;
    assert_eq!(emulator.requests_received(), served + 1, "older than the TTL, the API is asked again");

    // Off by default: a fresh session repeats its calls.
    let fresh = Engine::demo().expect("demo engine");
    let fresh_emulator = fresh.emulator().expect("emulator");
    column(&fresh, &one.replace(&id, "cus_doesnotexist")).await;
    let served = fresh_emulator.requests_received();
    column(&fresh, &one.replace(&id, "cus_doesnotexist")).await;
    assert_eq!(fresh_emulator.requests_received(), served + 1);
    assert!(engine.sql("SET stripe.cache_ttl = 'soon'").await.is_ok(), "SET itself accepts text");
    let err = engine.sql(list).await.expect_err("bad ttl").to_string();
    assert!(err.contains("stripe.cache_ttl"), "{err}");
}

/// Every `created` bound the calls on `path` since `mark` sent.
fn created_bounds(engine: &Engine, mark: usize, path: &str) -> Vec<i64> {
    list_calls(engine, mark, path)
        .iter()
        .flat_map(|c| ["created[gte]", "created[gt]", "created[lte]", "created[lt]"].map(|k| c.param(k)))
        .flatten()
        .map(|v| v.parse::<i64>().expect("integer bound"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_scans_never_ask_for_ranges_before_the_account_existed() {
    // A dense recent month and a few old outliers; the account is as old as its oldest object.
    let engine = Engine::with_emulator(EmulatorConfig::default(), |_| {}).expect("engine");
    let (month, newest) = (30 * 86_400, 1_780_000_000_i64);
    let outliers = [1_420_070_400_i64, 1_500_000_000, 1_600_000_000, 1_700_000_000];
    let charge = |id: String, created: i64| json!({"id": id, "object": "charge", "created": created, "amount": 100, "currency": "usd"});
    let dense = (0..1_500_i64).map(|i| charge(format!("ch_d{i:05}"), newest - i * month / 1_500));
    let old = outliers.iter().enumerate().map(|(i, c)| charge(format!("ch_o{i}"), *c));
    engine.emulator().expect("emulator").insert_objects("charges", dense.chain(old));
    let total = 1_500 + outliers.len();
    let pages = total.div_ceil(100);
    let concurrency = 16;
    engine.sql(&format!("SET stripe.max_concurrency = {concurrency}")).await.expect("set");

    let mark = engine.client().request_log().len();
    let ids = unique_ids(&engine, "SELECT id FROM charges").await;
    assert_eq!(ids.len(), total, "every object once, the outliers too");
    let calls = list_calls(&engine, mark, "/v1/charges").len();
    eprintln!("speed: uneven table of {total} charges ({pages} pages) took {calls} list calls");
    // The first split and the ending one (what is left fetched at once) may
    // each send a worker's worth of ranges holding (nearly) nothing.
    assert!(calls <= pages + 2 * concurrency, "{calls} calls for {pages} pages");
    let bounds = created_bounds(&engine, mark, "/v1/charges");
    assert!(bounds.iter().all(|b| *b >= outliers[0]), "a bound before the account existed: {bounds:?}");
    assert_eq!(list_calls(&engine, mark, "/v1/account").len(), 1, "the account is asked once");

    // The demo customers (two pages over 18 months): no range before the account,
    // no negative timestamp, and no call beyond the pages.
    let engine = Engine::demo().expect("demo engine");
    engine.sql(&format!("SET stripe.max_concurrency = {concurrency}")).await.expect("set");
    let session_start = engine.client().request_log().len();
    for _round in 0..2 {
        let mark = engine.client().request_log().len();
        let ids = unique_ids(&engine, "SELECT id FROM customers").await;
        let calls = list_calls(&engine, mark, "/v1/customers").len();
        let pages = ids.len().div_ceil(100);
        assert!(calls <= pages + 1, "{calls} calls for {pages} pages of customers");
        let bounds = created_bounds(&engine, mark, "/v1/customers");
        assert!(bounds.iter().all(|b| *b >= 1_262_304_000), "{bounds:?}");
        let account_calls = list_calls(&engine, session_start, "/v1/account").len();
        assert!(account_calls <= 1, "GET /v1/account {account_calls} times in one session");
    }
    // The floor is asked beside the first page, detached from the scan (a scan
    // that ends first does not wait for it), so its log entry may come later.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while list_calls(&engine, session_start, "/v1/account").is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(list_calls(&engine, session_start, "/v1/account").len(), 1, "GET /v1/account once per session");
}
