//! The API key never shows: not in errors, Debug output, or log lines at the highest
//! verbosity, even when the server echoes it back.

use super::server::{Reply, TEST_KEY, TestServer};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// A tracing writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_key_never_appears_in_errors_debug_or_trace_logs() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A hostile server that echoes the Authorization header into the body and a header.
    let server = TestServer::start(|req, n| {
        let auth = req.header("authorization").unwrap_or("").to_owned();
        match n {
            0 | 1 => Reply::json(200, json!({"id": "cus_1", "seen": auth})),
            2 => Reply::json(500, json!({"error": {"type": "api_error", "message": format!("bad auth {auth}")}}))
                .header("Request-Id", &auth)
                .header("X-Echo", &auth),
            _ => Reply::html(502, &format!("<html>{auth}</html>")).header("Stripe-Should-Retry", "false"),
        }
    })
    .await;
    let client = server.client(|c| c.max_retries = 1);

    // Other tests run concurrently on threads without a subscriber and may cache the log
    // callsites as disabled while registering them; once every callsite of the client has
    // been hit, recompute their interest with our subscriber in place.
    client.get("/v1/customers/cus_1", &json!({"expand": ["x"]})).await.unwrap();
    tracing::callsite::rebuild_interest_cache();
    client.get("/v1/customers/cus_1", &json!({"expand": ["x"]})).await.unwrap();
    let err = client.post("/v1/customers", &json!({"email": "a@b.c"})).await.unwrap_err();
    let texts = [
        err.to_string(),
        format!("{err:?}"),
        format!("{client:?}"),
        format!("{:?}", client.config()),
        format!("{:?}", client.request_log().entries()),
    ];
    for text in &texts {
        assert!(!text.contains(TEST_KEY), "key leaked: {text}");
    }
    assert!(texts[0].contains("502"), "{}", texts[0]);
    assert!(texts[0].contains("[redacted]"), "the echoed key is replaced: {}", texts[0]);

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("stripe request"), "trace logging captured nothing: {logs}");
    assert!(logs.contains("TRACE") && logs.contains("< body"), "no response lines at trace level: {logs}");
    assert!(logs.contains("authorization: Bearer [redacted]"), "{logs}");
    assert!(!logs.contains(TEST_KEY), "key leaked into logs");
    // The key's secret part alone must not appear either.
    assert!(!logs.contains(&TEST_KEY["sk_test_".len()..]), "key leaked into logs");
}
