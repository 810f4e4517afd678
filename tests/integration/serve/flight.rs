//! The Flight SQL endpoint (`serve --flight-sql`) through the ADBC Flight
//! SQL driver: served alone, settings kept per connection, the password,
//! `--read-only`, TLS and the loopback rule, as on the Postgres port.

use std::net::SocketAddr;

use serde_json::{Value, json};

use super::support::{self, cli_csv, python_with, single_value};

/// Runs `(name, connection, sql)` over Flight SQL at `uri` with `password`.
fn flight(uri: &str, password: Option<&str>, statements: &[(&str, u32, &str)]) -> Value {
    let cases: Vec<Value> =
        statements.iter().map(|(name, conn, sql)| json!({"name": name, "conn": conn, "sql": sql})).collect();
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
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new(support::require("openssl"))
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    let tls = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let (_server, flight_addr) = support::serve_with_flight(&tls, &[]);
    let v = flight(&format!("grpc+tls://127.0.0.1:{}", flight_addr.port()), None, &[("n", 0, "select 40 + 2 as n")]);
    assert_eq!(v["rows"]["n"][0]["n"], 42, "{v}");
    let plain = flight(&grpc(flight_addr), None, &[("n", 0, "select 40 + 2 as n")]);
    assert!(plain["errors"]["n"].is_string(), "plain gRPC to a TLS endpoint fails: {plain}");
}
