//! Cancelling a slow bulk read stops its scan and leaves the connection
//! usable: a `COPY … TO STDOUT` cancelled by psycopg (a Postgres
//! CancelRequest), a Flight SQL query whose client drops the stream (ADBC),
//! and one cancelled with the CancelFlightInfo action (pyarrow.flight). The
//! demo emulator answers each call after a fixed latency; the session's own
//! request log, read just after the cancel and again three latencies later,
//! shows no further Stripe calls, and fewer than the same query run whole
//! on the same connection made.

use serde_json::Value;

use super::support::{self, cli_csv, python_with, single_value};

/// Milliseconds the demo emulator takes per call in these tests.
const LATENCY_MS: u64 = 400;

fn latency_env() -> [(&'static str, String); 1] {
    [("STRIPE_SQL_DEMO_LATENCY_MS", LATENCY_MS.to_string())]
}

/// Runs `cancel_python.py MODE ADDRESS` and checks what every mode promises:
/// the query ended early, no Stripe call came after the cancel, fewer calls
/// than a whole scan, and the connection answers the next query.
fn cancelled(modules: &str, mode: &str, address: &str) -> Value {
    let latency = format!("{}", LATENCY_MS as f64 / 1000.0);
    let out = python_with(modules, "cancel_python.py", &[mode, address, &latency]).ok();
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    let num = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{mode}: no {k}: {v}"));
    let total: u64 = single_value(&cli_csv("select count(*) from charges")).parse().unwrap();
    assert_eq!(num("full_rows"), total, "{mode}: the uncancelled run reads every charge: {v}");
    let rows = num("rows");
    assert!(rows >= 1 && rows < total, "{mode}: the first rows came, then it stopped ({rows} of {total}): {v}");
    assert_eq!(num("calls"), num("later"), "{mode}: no Stripe call after the cancel: {v}");
    let calls = num("calls");
    assert!(calls >= 1 && calls < num("full_calls"), "{mode}: the scan stopped early ({calls} calls): {v}");
    assert_eq!(v["after"], 42, "{mode}: the connection still answers: {v}");
    v
}

#[test]
fn a_cancelled_copy_stops_its_scan_and_the_connection_goes_on() {
    let env = latency_env();
    let server = support::serve(&[], &[(env[0].0, env[0].1.as_str())]);
    let v = cancelled("psycopg", "copy", &server.addr.port().to_string());
    assert_eq!(v["sqlstate"], "57014", "the COPY ended with the cancel's SQLSTATE: {v}");
}

#[test]
fn a_flight_sql_query_stops_when_its_stream_is_dropped_or_cancelled() {
    let env = latency_env();
    let (_server, flight) = support::serve_with_flight(&[], &[(env[0].0, env[0].1.as_str())]);
    let uri = format!("grpc://127.0.0.1:{}", flight.port());
    cancelled("adbc_driver_flightsql.dbapi", "flight_drop", &uri);
    let v = cancelled("pyarrow.flight", "flight_cancel", &uri);
    assert_eq!(v["status"], 1, "CancelFlightInfo answers CANCELLED: {v}");
    assert_eq!(v["sqlstate"], "57014", "the stream ended with CANCELLED and 57014: {v}");
    let early =
        v["early"].as_str().unwrap_or_else(|| panic!("a statement cancelled before its DoGet does not run: {v}"));
    assert!(early.contains("57014"), "{early}");
}
