//! The Flight SQL endpoint (`serve --flight-sql`) through the ADBC Flight
//! SQL driver: served alone, settings kept per connection, the password,
//! `--read-only`, TLS, the loopback rule, `--max-connections` (shared with
//! the Postgres port), `--idle-timeout` and `--memory-limit`, as on the
//! Postgres port.

use std::net::SocketAddr;

use serde_json::{Value, json};

use super::limits::soak;
use super::support::{self, cli_csv, python_with, single_value};

/// Runs `(name, connection, sql)` over Flight SQL at `uri` with `password`.
fn flight(uri: &str, password: Option<&str>, statements: &[(&str, u32, &str)]) -> Value {
    let cases: Vec<Value> =
        statements.iter().map(|(name, conn, sql)| json!({"name": name, "conn": conn, "sql": sql})).collect();
    flight_cases(uri, password, &cases)
}

/// Runs the cases of `arrow_python.py flight_errors` (with `close` and
/// `sleep_before`) over Flight SQL at `uri`.
fn flight_cases(uri: &str, password: Option<&str>, cases: &[Value]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    std::fs::write(&file, serde_json::to_string(&cases).unwrap()).unwrap();
    let mut args = vec!["flight_errors", uri, file.to_str().unwrap()];
    args.extend(password);
    let out = python_with("adbc_driver_flightsql.dbapi", "arrow_python.py", &args).ok();
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn grpc(addr: SocketAddr) -> String {
    format!("grpc://127.0.0.1:{}", addr.port())
}

#[test]
fn flight_sql_alone_keeps_settings_per_connection() {
    let (server, flight_addr) = support::start(&["--flight-sql", "127.0.0.1:0"], &[], true);
    assert_eq!(server.addr, flight_addr.unwrap(), "only the Flight SQL endpoint is served");
    let v = flight(
        &grpc(server.addr),
        None,
        &[
            ("set", 0, "SET stripe.use_search = false"),
            ("mine", 0, "select value from information_schema.df_settings where name = 'use_search'"),
            ("other", 1, "select value from information_schema.df_settings where name = 'use_search'"),
            ("count", 1, "select count(*) as n from customers"),
        ],
    );
    assert!(v["errors"].as_object().unwrap().values().all(Value::is_null), "{v}");
    let setting = |name: &str| v["rows"][name][0]["value"].as_str().unwrap_or_default().to_owned();
    assert_eq!(setting("mine"), "false", "{v}");
    assert_eq!(setting("other"), "true", "a SET stays with its connection: {v}");
    let expected: i64 = single_value(&cli_csv("select count(*) from customers")).parse().unwrap();
    assert_eq!(v["rows"]["count"][0]["n"], expected, "{v}");
}

#[test]
fn flight_sql_password_and_read_only_are_the_postgres_ports() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, "correct horse\n").unwrap();
    let (_server, flight_addr) =
        support::serve_with_flight(&["--password-file", pw.to_str().unwrap(), "--read-only"], &[]);
    let uri = grpc(flight_addr);
    let statements = [
        ("read", 0, "select count(*) as n from customers"),
        ("delete", 0, "delete from customers where id = 'cus_1'"),
        ("action", 0, "select * from cancel_subscription('sub_1')"),
    ];
    let wrong = flight(&uri, Some("wrong"), &statements[..1]);
    let error = wrong["errors"]["read"].as_str().unwrap_or_else(|| panic!("a wrong password is refused: {wrong}"));
    assert!(error.to_lowercase().contains("unauthenticated") || error.contains("password"), "{error}");
    let none = flight(&uri, None, &statements[..1]);
    assert!(none["errors"]["read"].is_string(), "no password is refused: {none}");

    let right = flight(&uri, Some("correct horse"), &statements);
    assert!(right["errors"]["read"].is_null(), "{right}");
    for name in ["delete", "action"] {
        let error = right["errors"][name].as_str().unwrap_or_else(|| panic!("{name} is refused: {right}"));
        assert!(error.contains("25006") && error.contains("read-only"), "{name}: {error}");
    }

    let home = tempfile::tempdir().unwrap();
    let open = support::command(&["serve", "--demo", "--flight-sql", "0.0.0.0:0"], home.path()).output().unwrap();
    assert_eq!(open.status.code(), Some(2), "a non-loopback Flight SQL bind without a password exits with 2");
    assert!(String::from_utf8_lossy(&open.stderr).contains("refusing to listen on 0.0.0.0"));
}

#[test]
fn flight_sql_serves_tls_with_the_servers_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = support::self_signed_cert(dir.path());
    let tls = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let (_server, flight_addr) = support::serve_with_flight(&tls, &[]);
    let v = flight(&format!("grpc+tls://127.0.0.1:{}", flight_addr.port()), None, &[("n", 0, "select 40 + 2 as n")]);
    assert_eq!(v["rows"]["n"][0]["n"], 42, "{v}");
    let plain = flight(&grpc(flight_addr), None, &[("n", 0, "select 40 + 2 as n")]);
    assert!(plain["errors"]["n"].is_string(), "plain gRPC to a TLS endpoint fails: {plain}");
}

#[test]
fn flight_sql_sessions_share_max_connections_with_the_postgres_port() {
    let (server, flight_addr) = support::serve_with_flight(&["--max-connections", "2"], &[]);
    let uri = grpc(flight_addr);
    let one = |name: &str, conn: u32| json!({"name": name, "conn": conn, "sql": "select 41 + 1 as n"});
    let v = flight_cases(
        &uri,
        None,
        &[
            one("first", 0),
            one("second", 1),
            one("third", 2),
            json!({"close": true, "conn": 0}),
            // The server frees the slot when it sees the connection close.
            json!({"name": "after_close", "conn": 3, "sql": "select 41 + 1 as n", "sleep_before": 1.0}),
        ],
    );
    assert_eq!(v["rows"]["first"][0]["n"], 42, "{v}");
    assert_eq!(v["rows"]["second"][0]["n"], 42, "{v}");
    let third = v["errors"]["third"].as_str().unwrap_or_else(|| panic!("a third session is refused: {v}"));
    assert!(third.contains("53300") && third.contains("too many clients"), "{third}");
    assert_eq!(v["rows"]["after_close"][0]["n"], 42, "a closed connection frees its slot: {v}");

    // Postgres sessions take the same slots.
    let a = soak::Conn::open(server.addr).expect("first Postgres session");
    let mut b = soak::Conn::open(server.addr).expect("second Postgres session");
    let full = flight(&uri, None, &[("n", 0, "select 1 as n")]);
    let error = full["errors"]["n"].as_str().unwrap_or_else(|| panic!("no slot left for Flight SQL: {full}"));
    assert!(error.contains("53300"), "{error}");
    assert_eq!(b.query("SELECT 1").unwrap(), 1, "the Postgres sessions go on");
    a.close();
    let freed = flight_cases(&uri, None, &[json!({"name": "n", "sql": "select 1 as n", "sleep_before": 1.0})]);
    assert_eq!(freed["rows"]["n"][0]["n"], 1, "{freed}");
}

#[test]
fn an_idle_flight_sql_connection_is_closed_and_the_next_call_gets_a_fresh_session() {
    let (server, flight_addr) = support::start(&["--flight-sql", "127.0.0.1:0", "--idle-timeout", "300ms"], &[], true);
    let flight_addr = flight_addr.unwrap();
    // Waiting on the server's own timer: a connection that makes no call reads as closed.
    let mut raw = std::net::TcpStream::connect(flight_addr).unwrap();
    raw.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let started = std::time::Instant::now();
    let mut greeting = Vec::new();
    // The server's HTTP/2 settings come first; then the end of the stream.
    std::io::Read::read_to_end(&mut raw, &mut greeting).expect("the server closes the idle connection");
    assert!(started.elapsed() >= std::time::Duration::from_millis(250), "not before the timeout");

    let setting = "select value from information_schema.df_settings where name = 'use_search'";
    let v = flight_cases(
        &grpc(server.addr),
        None,
        &[
            json!({"name": "set", "sql": "SET stripe.use_search = false"}),
            json!({"name": "kept", "sql": setting}),
            json!({"name": "fresh", "sql": setting, "sleep_before": 1.5}),
        ],
    );
    assert_eq!(v["rows"]["kept"][0]["value"], "false", "{v}");
    assert!(v["errors"]["fresh"].is_null(), "the client reconnects after the idle close: {v}");
    assert_eq!(v["rows"]["fresh"][0]["value"], "true", "the idle session was closed; a new one began: {v}");
}

#[test]
fn a_flight_sql_query_or_table_past_the_memory_limit_fails_alone_with_53200() {
    let (_server, flight_addr) = support::serve_with_flight(&["--memory-limit", "16MB"], &[]);
    let v = flight(
        &grpc(flight_addr),
        None,
        &[
            // A hash join holds its whole build side in memory: 3 million rows are ~48 MB.
            (
                "big",
                0,
                "select count(*) as n from generate_series(1, 3000000) as a(v) join generate_series(1, 3000000) as b(w) on v = w",
            ),
            ("after", 0, "select count(*) as n from customers"),
            ("other", 1, "select 41 + 1 as n"),
            // A session's own table is charged to the pool as it is built.
            ("big_table", 1, "CREATE TABLE big AS SELECT v, v * 2 AS w FROM generate_series(1, 3000000) AS s(v)"),
            ("small_table", 1, "CREATE TABLE small AS SELECT v FROM generate_series(1, 1000) AS s(v)"),
            ("small_rows", 1, "select count(*) as n from small"),
        ],
    );
    let error = v["errors"]["big_table"].as_str().unwrap_or_else(|| panic!("a 48 MB table does not fit in 16 MB: {v}"));
    assert!(error.contains("53200"), "{error}");
    assert!(v["errors"]["small_table"].is_null(), "a small table fits: {v}");
    assert_eq!(v["rows"]["small_rows"][0]["n"], 1000, "{v}");
    let error = v["errors"]["big"].as_str().unwrap_or_else(|| panic!("3 million values do not fit in 16 MB: {v}"));
    assert!(error.contains("53200"), "{error}");
    assert!(v["errors"]["after"].is_null() && v["errors"]["other"].is_null(), "the sessions go on: {v}");
    assert_eq!(v["rows"]["other"][0]["n"], 42, "{v}");
}

#[test]
fn flight_sql_sessions_start_with_the_servers_accounts() {
    let emu = stripe_sql::emulator::Emulator::start(stripe_sql::emulator::EmulatorConfig {
        accounts: 3,
        ..stripe_sql::emulator::EmulatorConfig::demo()
    })
    .expect("emulator starts");
    let base = emu.base_url();
    let api = ["--api-base", base.as_str(), "--api-key", emu.api_key(), "--accounts", "all"];
    let sql = "select count(distinct account) as n, count(*) as rows from charges";
    let (server, flight_addr) = support::start_over(&[&api[..], &["--flight-sql", "127.0.0.1:0"]].concat(), &[], true);
    let v = flight(&grpc(flight_addr.unwrap_or(server.addr)), None, &[("all", 0, sql)]);
    assert!(v["errors"]["all"].is_null(), "{v}");

    let home = tempfile::tempdir().expect("home");
    let out =
        support::command(&[&api[..], &["--format", "csv", "-c", sql]].concat(), home.path()).output().expect("run -c");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let cells: Vec<i64> =
        text.lines().nth(1).expect("a row").split(',').map(|c| c.parse().expect("a number")).collect();
    assert_eq!(cells[0], 1 + emu.connected_accounts().len() as i64, "the platform and each connected account: {text}");
    assert_eq!(
        (v["rows"]["all"][0]["n"].as_i64(), v["rows"]["all"][0]["rows"].as_i64()),
        (Some(cells[0]), Some(cells[1])),
        "{v}"
    );
}
