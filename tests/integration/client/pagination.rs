//! List and search pagination against the scripted server.

use super::server::{Reply, TestServer};
use futures::TryStreamExt;
use serde_json::json;

/// Serves `total` customers `cus_000..` honouring `limit` and `starting_after`.
fn customers(total: usize) -> impl Fn(&super::server::Recorded, usize) -> Reply + Send + Sync {
    move |req, _| {
        let ids: Vec<String> = (0..total).map(|i| format!("cus_{i:03}")).collect();
        let limit: usize = req.query("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
        let start = match req.query("starting_after") {
            Some(after) => ids.iter().position(|id| id == after).map_or(ids.len(), |p| p + 1),
            None => 0,
        };
        let end = (start + limit).min(ids.len());
        let data: Vec<_> = ids[start..end].iter().map(|id| json!({"id": id, "object": "customer"})).collect();
        Reply::json(200, json!({"object": "list", "url": "/v1/customers", "data": data, "has_more": end < ids.len()}))
    }
}

#[tokio::test]
async fn pages_are_followed_until_has_more_is_false() {
    let server = TestServer::start(customers(25)).await;
    let client = server.client(|_| {});
    let pages: Vec<_> =
        client.list("/v1/customers", json!({"limit": 10, "email": "a@b.c"})).try_collect().await.unwrap();
    assert_eq!(pages.iter().map(|p| p.data.len()).collect::<Vec<_>>(), vec![10, 10, 5]);
    let ids: Vec<String> = pages.iter().flat_map(|p| &p.data).map(|o| o["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, (0..25).map(|i| format!("cus_{i:03}")).collect::<Vec<_>>());

    let seen = server.requests();
    let cursors: Vec<Option<&str>> = seen.iter().map(|r| r.query("starting_after")).collect();
    assert_eq!(cursors, vec![None, Some("cus_009"), Some("cus_019")]);
    assert!(seen.iter().all(|r| r.query("email") == Some("a@b.c") && r.query("limit") == Some("10")));

    let log = client.request_log().entries();
    assert_eq!(log.len(), 3);
    assert_eq!(log[2].param("starting_after"), Some("cus_019"));
    assert!(log.iter().all(|e| e.status == Some(200) && e.method == "GET" && e.path == "/v1/customers"));
}

#[tokio::test]
async fn a_repeated_cursor_is_an_error_not_a_loop() {
    // The server ignores starting_after and always sends the same first page.
    let server = TestServer::start(|_, _| {
        Reply::json(200, json!({"object": "list", "data": [{"id": "cus_a"}, {"id": "cus_b"}], "has_more": true}))
    })
    .await;
    let client = server.client(|_| {});
    let results: Vec<_> = futures::StreamExt::collect::<Vec<_>>(client.list("/v1/customers", json!({}))).await;
    assert_eq!(results.len(), 2, "one good page, then the error, then the end");
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("repeated the cursor cus_b") && err.contains("/v1/customers"), "{err}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn search_follows_next_page() {
    let server = TestServer::start(|req, _| {
        let (data, next) = match req.query("page") {
            None => (json!([{"id": "ch_1"}, {"id": "ch_2"}]), json!("tok_2")),
            Some("tok_2") => (json!([{"id": "ch_3"}]), json!(null)),
            Some(other) => panic!("unexpected page {other}"),
        };
        let more = !next.is_null();
        Reply::json(200, json!({"object": "search_result", "data": data, "has_more": more, "next_page": next}))
    })
    .await;
    let client = server.client(|_| {});
    let pages: Vec<_> =
        client.search("/v1/charges/search", json!({"query": "amount>100"})).try_collect().await.unwrap();
    assert_eq!(pages.iter().map(|p| p.data.len()).sum::<usize>(), 3);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].query("page"), Some("tok_2"));
    assert_eq!(seen[1].query("query"), Some("amount>100"));
}
