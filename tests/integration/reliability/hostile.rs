//! Hostile and malformed input through SQL (beyond read/hostile.rs, which covers
//! filter values on reads): malformed SQL, unknown names, wrong types, a huge IN
//! list, injection attempts in write and action ids, bad and wrong-mode keys, a
//! wrong base URL and an upstream that answers HTML. Each gives a clear error or the
//! right rows, never a panic, and never a request outside the spec's paths.

use std::time::Duration;

use axum::response::Html;
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;
use stripe_sql::stripe::{ApiKey, Client, ClientConfig};

use super::conformance::{Checker, load_spec};
use super::{json_rows, rows, s};

fn demo() -> Engine {
    Engine::with_emulator(EmulatorConfig::demo(), |c| {
        c.max_rps = 0.0;
        c.endpoint_rps = 0.0;
    })
    .unwrap()
}

/// Every path sent so far matches a spec template and has no `..`, `?`, `#` or `%2F`.
fn assert_paths_are_the_specs(e: &Engine, checker: &Checker, what: &str) {
    for entry in e.client().request_log().entries() {
        let p = &entry.path;
        assert!(checker.template(p).is_some(), "{what}: {p} is not a spec path");
        assert!(!p.contains("..") && !p.contains(['?', '#']) && !p.to_lowercase().contains("%2f"), "{what}: {p}");
    }
}

#[tokio::test]
async fn malformed_sql_unknown_names_and_wrong_types_fail_before_any_request() {
    let e = demo();
    let cases: &[(&str, &[&str])] = &[
        ("SELEC * FROM customers", &["sql error"]),
        ("SELECT * FROM customers WHERE", &["sql error"]),
        ("SELECT * FROM customers WHERE id = 'x' OR", &["sql error"]),
        ("'; DROP TABLE customers; --", &["sql error"]),
        ("SELECT * FROM customerz", &["customerz"]),
        ("SELECT nope FROM customers", &["nope"]),
        ("SELECT * FROM customers WHERE nope = 1", &["nope"]),
        ("SELECT * FROM no_such_action('cus_1')", &["no_such_action"]),
        ("INSERT INTO customers (balance) VALUES ('lots')", &["lots"]),
        ("INSERT INTO customers (no_such_column) VALUES ('x')", &["no_such_column"]),
        ("INSERT INTO customers (email) VALUES ('a', 'b')", &["values"]),
        ("INSERT INTO customers (tax_exempt) VALUES ('sometimes')", &["sometimes"]),
        ("UPDATE customers SET id = 'cus_new' WHERE id = 'cus_1'", &["id"]),
        ("UPDATE customers SET created = 5 WHERE id = 'cus_1'", &["created"]),
        ("DELETE FROM charges WHERE id = 'ch_1'", &["refund"]),
        ("SELECT * FROM capture_payment_intent(42)", &["capture_payment_intent"]),
        ("SELECT * FROM capture_payment_intent('pi_1', amount_to_capture => 'lots')", &["amount_to_capture"]),
        ("SELECT * FROM capture_payment_intent('pi_1', no_such_param => 1)", &["no_such_param"]),
        ("SELECT * FROM customers WHERE created > 'yesterday'", &["yesterday"]),
        ("SELECT \u{0}", &[""]),
    ];
    let mut unclear = vec![];
    for (sql, needles) in cases {
        let before = e.client().request_log().len();
        let err = match e.sql(sql).await {
            Ok(b) => format!("succeeded with {:?}", json_rows(&b)),
            Err(err) => err.to_string(),
        };
        let lower = err.to_lowercase();
        if err.starts_with("succeeded") || !needles.iter().all(|n| lower.contains(&n.to_lowercase())) {
            unclear.push(format!("{sql:?}: {err}"));
        }
        let sent: Vec<_> =
            e.client().request_log().since(before as u64).into_iter().filter(|x| x.method != "GET").collect();
        assert!(sent.is_empty(), "{sql:?} wrote before failing: {sent:?}");
    }
    assert!(unclear.is_empty(), "unclear or missing errors:\n{}", unclear.join("\n"));
    eprintln!("hostile input: {} malformed statements refused", cases.len());
}

#[tokio::test]
async fn injection_attempts_in_write_and_action_ids_never_reach_a_path() {
    let e = demo();
    let checker = Checker::new(load_spec().expect("spec3.json"));
    let hostile = [
        "../charges",
        "cus_1/../../v1/charges",
        "cus_1?expand[]=sources",
        "cus_1#x",
        "cus_1%2F..%2Fcharges",
        "cus_1' OR '1'='1",
        "cus_1\nX-Injected: 1",
        "cus_1 ",
        "",
        "💳",
    ];
    let mut tried = 0;
    for id in hostile {
        let q = id.replace('\'', "''");
        for sql in [
            format!("UPDATE customers SET name = 'x' WHERE id = '{q}'"),
            format!("DELETE FROM customers WHERE id = '{q}'"),
            format!("SELECT * FROM capture_payment_intent('{q}')"),
            format!("SELECT * FROM attach_payment_method('pm_1', customer => '{q}')"),
            format!("SELECT * FROM refund_charge('{q}')"),
            format!("SELECT * FROM invoices WHERE customer = '{q}' LIMIT 1"),
            format!("SELECT * FROM customer_balance_transactions WHERE customer = '{q}'"),
        ] {
            tried += 1;
            let before = e.client().request_log().len();
            let result = e.sql(&sql).await;
            for entry in e.client().request_log().since(before as u64) {
                assert!(!entry.path.contains(id) || id.is_empty() || id == "cus_1 ", "{sql:?} sent {}", entry.path);
            }
            if let Err(err) = result {
                assert!(!err.to_string().is_empty(), "{sql:?}");
            }
        }
    }
    assert_paths_are_the_specs(&e, &checker, "hostile ids");
    // Search values are quoted: the query stays one clause on the value.
    e.sql("SET stripe.use_search = true").await.unwrap();
    let n = rows(&e, r#"SELECT id FROM customers WHERE name = 'x'' OR name:''*' AND email LIKE '%" OR 1:1%'"#).await;
    assert!(n.is_empty(), "{n:?}");
    assert_paths_are_the_specs(&e, &checker, "hostile search");
    eprintln!("hostile input: {tried} statements with injected ids");
}

#[tokio::test]
async fn a_huge_in_list_is_one_locally_filtered_scan_not_ten_thousand_requests() {
    let e = demo();
    let real: Vec<String> =
        rows(&e, "SELECT id FROM customers ORDER BY id LIMIT 5").await.iter().map(|r| s(r, "id")).collect();
    let mut ids: Vec<String> = (0..9_995).map(|i| format!("'cus_missing{i:05}'")).collect();
    ids.extend(real.iter().map(|r| format!("'{r}'")));
    let before = e.client().request_log().len();
    let got: Vec<String> = rows(&e, &format!("SELECT id FROM customers WHERE id IN ({}) ORDER BY id", ids.join(", ")))
        .await
        .iter()
        .map(|r| s(r, "id"))
        .collect();
    assert_eq!(got, real);
    let sent = e.client().request_log().since(before as u64);
    assert!(sent.len() < 50, "{} requests for one IN list", sent.len());
    assert!(sent.iter().all(|x| x.path == "/v1/customers"), "a list scan, not retrieves");
}

fn client_for(base: &str, key: &str) -> Result<Engine, String> {
    let key = ApiKey::parse(key).map_err(|e| e.to_string())?;
    let mut c = ClientConfig::new(key);
    c.api_base = base.into();
    c.max_retries = 1;
    c.retry_base_delay = Duration::from_millis(5);
    c.request_timeout = Duration::from_secs(3);
    c.connect_timeout = Duration::from_secs(2);
    let client = Client::new(c).map_err(|e| e.to_string())?;
    Engine::new(client).map_err(|e| e.to_string())
}

#[tokio::test]
async fn bad_keys_wrong_bases_and_html_upstreams_give_clear_errors() {
    let emu = stripe_sql::emulator::Emulator::start(EmulatorConfig::default()).unwrap();
    // Keys that are not secret or restricted keys are refused before any request,
    // without echoing the key.
    for bad in ["pk_test_abcdef123", "sk_test_", "not a key", ""] {
        let err = client_for(&emu.base_url(), bad).err().unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert!(bad.len() < 9 || !err.contains(bad.trim()), "the error echoes the key: {err}");
    }
    // A publishable-looking secret the server refuses: a 401 that names the problem.
    let e = client_for(&emu.base_url(), "sk_test_unknownButWellFormed1").unwrap();
    let rows = e.sql("SELECT id FROM customers LIMIT 1").await;
    assert!(rows.is_ok(), "the emulator accepts any sk_test_ key: {rows:?}");
    // A live key is read-only: writes are refused before sending.
    let live = client_for(&emu.base_url(), "sk_live_reliability0000000").unwrap();
    let before = live.client().request_log().len();
    let err = live.sql("INSERT INTO customers (email) VALUES ('live@example.com')").await.unwrap_err().to_string();
    assert!(err.to_lowercase().contains("live"), "{err}");
    assert_eq!(live.client().request_log().len(), before);
    assert!(!err.contains("sk_live_reliability"), "{err}");

    // Wrong base URLs: nothing listening, not a URL, a non-HTTP scheme.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    for base in [format!("http://{closed}"), "not a url".into(), "ftp://127.0.0.1/".into()] {
        match client_for(&base, "sk_test_reliability0000000") {
            Err(err) => assert!(!err.is_empty()),
            Ok(e) => {
                let err = e.sql("SELECT id FROM customers LIMIT 1").await.unwrap_err().to_string();
                assert!(
                    err.contains("could not reach") || err.contains("url") || err.contains("builder"),
                    "{base}: {err}"
                );
                assert!(!err.contains("sk_test_reliability"), "{err}");
            }
        }
    }

    // An upstream that answers HTML (a captive portal, a proxy error page).
    let html = axum::Router::new().fallback(|| async { Html("<html><body>Service Unavailable</body></html>") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, html).await });
    let e = client_for(&base, "sk_test_reliability0000000").unwrap();
    for sql in [
        "SELECT id FROM customers LIMIT 1",
        "SELECT * FROM customers WHERE id = 'cus_1'",
        "INSERT INTO customers (email) VALUES ('h@example.com')",
    ] {
        let err = e.sql(sql).await.unwrap_err().to_string();
        assert!(err.contains("not json") || err.contains("unreadable"), "{sql}: {err}");
    }
    server.abort();
}
