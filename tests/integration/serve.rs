//! `stripe-sql serve`: the real binary on demo data, driven by real clients
//! (psql, psycopg, SQLAlchemy, pandas, pgJDBC). See serve_support for how
//! clients are found (tests/peers/install.sh installs them).

mod arrow;
mod bi_tools;
mod cancel;
mod copy;
mod flight;
mod limits;
pub(crate) mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{cli_csv, java, psql, python, serve, single_value};

/// An email of the demo data and how many customers have it.
fn demo_email() -> (String, String) {
    let email = single_value(&cli_csv("select email from customers where email is not null order by email limit 1"));
    let count = single_value(&cli_csv(&format!("select count(*) from customers where email = '{email}'")));
    (email, count)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("client printed no JSON ({e}): {text}"))
}

#[test]
fn psql_lists_describes_joins_and_aggregates() {
    let server = serve(&[], &[]);
    let dt = psql(server.addr, None, &[r"\dt"]).ok();
    for table in ["customers", "charges", "invoices", "subscriptions"] {
        assert!(dt.stdout.lines().any(|l| l.contains(&format!("|{table}|"))), "\\dt lacks {table}:\n{}", dt.stdout);
    }
    let d = psql(server.addr, None, &[r"\d customers"]).ok();
    assert!(
        d.stdout.contains("email|text") || d.stdout.contains("email|character varying"),
        "\\d customers:\n{}",
        d.stdout
    );
    assert!(d.stdout.contains("created|timestamp with time zone"), "\\d customers:\n{}", d.stdout);

    let expected = single_value(&cli_csv("select count(*) from customers"));
    let count = psql(server.addr, None, &["select count(*) from customers"]).ok();
    assert_eq!(count.stdout.lines().nth(1).map(str::trim), Some(expected.as_str()), "{}", count.stdout);

    let join_sql = "select count(*) from charges ch join customers c on ch.customer = c.id";
    let expected = single_value(&cli_csv(join_sql));
    let join = psql(server.addr, None, &[join_sql]).ok();
    assert_eq!(join.stdout.lines().nth(1).map(str::trim), Some(expected.as_str()), "{}", join.stdout);
    assert_ne!(expected, "0", "the demo data should have charges with customers");
}

#[test]
fn psql_gets_sqlstates_tags_and_per_connection_settings() {
    let server = serve(&[], &[]);
    for (sql, code) in [
        ("selec 1", "42601"),
        ("select * from no_such_table", "42P01"),
        ("select no_such_column from customers", "42703"),
        ("select * from stripe_get('/v1/customers/cus_doesnotexist')", "42704"),
    ] {
        let out = psql(server.addr, None, &[sql]);
        assert_ne!(out.code, 0, "{sql} should fail");
        assert!(out.stderr.contains(&format!("ERROR:  {code}")), "{sql}: expected SQLSTATE {code}:\n{}", out.stderr);
    }
    let missing = psql(server.addr, None, &["select * from stripe_get('/v1/customers/cus_doesnotexist')"]);
    assert!(
        missing.stderr.to_lowercase().contains("request id"),
        "Stripe's request id is reported:\n{}",
        missing.stderr
    );

    let id = single_value(&cli_csv("select id from customers order by id limit 1"));
    let update =
        psql(server.addr, None, &[&format!("update customers set name = 'Renamed By Serve' where id = '{id}'")]).ok();
    assert!(update.stdout.contains("UPDATE 1"), "update tag:\n{}", update.stdout);
    let check = psql(server.addr, None, &[&format!("select name from customers where id = '{id}'")]).ok();
    assert!(check.stdout.contains("Renamed By Serve"), "{}", check.stdout);

    let set =
        psql(server.addr, None, &["begin", "set stripe.use_search = false", "show stripe.use_search", "commit"]).ok();
    assert!(set.stdout.lines().any(|l| l.trim() == "false"), "SET then SHOW on one connection:\n{}", set.stdout);
    let other = psql(server.addr, None, &["show stripe.use_search"]).ok();
    assert!(
        other.stdout.lines().any(|l| l.trim() == "true"),
        "another connection keeps the default:\n{}",
        other.stdout
    );
    let bad = psql(server.addr, None, &["set stripe.no_such_setting = 1"]);
    assert!(bad.stderr.contains("22023"), "an unknown stripe setting is an error:\n{}", bad.stderr);
}

#[test]
fn psycopg_binds_parameters_that_are_pushed_down() {
    let (email, expected) = demo_email();
    let server = serve(&[], &[]);
    let out = python("pg_python.py", &[&server.addr.port().to_string(), "params", &email]).ok();
    let v = json(&out.stdout);
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len().to_string(), expected, "{v}");
    assert!(rows.iter().all(|r| r[1] == email.as_str()), "{v}");
    let requests = v["requests"].as_array().expect("requests");
    assert!(
        requests.iter().any(|r| r[1] == "/v1/customers" && r[2].as_str().unwrap_or("").contains("email=")),
        "the bound $1 reached Stripe as an email= list filter: {v}"
    );
    assert_eq!(v["none"], 0, "{v}");
}

#[test]
fn sqlalchemy_inspect_and_pandas_read_sql() {
    let server = serve(&[], &[]);
    let port = server.addr.port().to_string();
    let out = python("pg_python.py", &[&port, "inspect"]).ok();
    let v = json(&out.stdout);
    let tables: Vec<&str> = v["tables"].as_array().expect("tables").iter().filter_map(|t| t.as_str()).collect();
    assert!(tables.contains(&"customers") && tables.contains(&"charges"), "{v}");
    assert!(v["columns"].get("email").is_some() && v["columns"].get("created").is_some(), "{v}");

    let sql = "select count(distinct date_trunc('month', created)) as months, sum(amount) as total from charges where status = 'succeeded'";
    let expected = cli_csv(sql);
    let row: Vec<&str> = expected.lines().nth(1).expect("data row").split(',').collect();
    let out = python("pg_python.py", &[&port, "revenue"]).ok();
    let v = json(&out.stdout);
    assert_eq!(v["months"].to_string(), row[0], "{v}");
    assert_eq!(v["total"].to_string(), row[1], "{v}");
    assert!(v["month_dtype"].as_str().unwrap_or("").starts_with("datetime64"), "month is a timestamp: {v}");
}

#[test]
fn describe_shows_sql_types_through_the_extended_protocol_too() {
    let server = serve(&[], &[]);
    let out = python("pg_python.py", &[&server.addr.port().to_string(), "describe"]).ok();
    let v = json(&out.stdout);
    assert_eq!(v["columns"]["created"][0], "timestamptz", "{v}");
    assert_eq!(v["columns"]["created"][1], "Timestamp(s, \"UTC\")", "the Arrow type in a column of its own: {v}");
    assert_eq!(v["columns"]["metadata"][0], "map<text, text>", "{v}");
    assert_eq!(v["columns"]["amount"][0], "bigint", "{v}");
}

#[test]
fn pgjdbc_metadata_and_prepared_statement() {
    let (email, expected) = demo_email();
    let server = serve(&[], &[]);
    let out = java("JdbcCheck.java", &[&server.addr.port().to_string(), &email]).ok();
    let line = |key: &str| {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in:\n{}\n{}", out.stdout, out.stderr))
            .to_owned()
    };
    let tables = line("tables");
    assert!(tables.split(',').any(|t| t == "stripe.customers"), "{tables}");
    let columns = line("columns");
    assert!(columns.split(',').any(|c| c.starts_with("email:")), "{columns}");
    assert!(columns.split(',').any(|c| c == "created:timestamptz"), "{columns}");
    assert_eq!(line("prepared_rows"), expected);
    assert_eq!(line("prepared_email"), email);
}

#[test]
fn eight_concurrent_connections_all_answer() {
    let server = serve(&[], &[]);
    let expected = single_value(&cli_csv("select count(*) from charges"));
    let addr = server.addr;
    let workers: Vec<_> =
        (0..8).map(|_| std::thread::spawn(move || psql(addr, None, &["select count(*) from charges"]))).collect();
    for w in workers {
        let out = w.join().expect("worker").ok();
        assert_eq!(out.stdout.lines().nth(1).map(str::trim), Some(expected.as_str()), "{}", out.stdout);
    }
}

#[test]
fn a_client_cancel_stops_a_slow_query() {
    let server = serve(&[], &[("STRIPE_SQL_DEMO_LATENCY_MS", "3000")]);
    let out = python("pg_python.py", &[&server.addr.port().to_string(), "cancel"]).ok();
    let v = json(&out.stdout);
    assert_eq!(v["sqlstate"], "57014", "{v}");
    let elapsed = v["elapsed"].as_f64().expect("elapsed");
    assert!(elapsed < 2.5, "the cancel stopped the query before its first 3 s page came back: {v}");
    assert_eq!(v["after"], 42, "the connection still works after the cancel: {v}");
}

#[test]
fn passwords_loopback_rule_and_garbage_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, "correct horse\n").unwrap();
    let server = serve(&["--password-file", pw.to_str().unwrap()], &[]);

    let wrong = psql(server.addr, Some("wrong"), &["select 1"]);
    assert_ne!(wrong.code, 0, "a wrong password is refused");
    assert!(wrong.stderr.to_lowercase().contains("password"), "{}", wrong.stderr);
    let none = psql(server.addr, None, &["select 1"]);
    assert_ne!(none.code, 0, "no password is refused");

    let mut garbage = TcpStream::connect(server.addr).unwrap();
    garbage.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    garbage.write_all(b"\x00\x00\x00\x08GARBAGE!\xff\xfe this is not postgres\r\n\r\n").unwrap();
    let mut buf = [0u8; 256];
    let _ = garbage.read(&mut buf);
    drop(garbage);

    let right = psql(server.addr, Some("correct horse"), &["select 40 + 2"]).ok();
    assert!(right.stdout.contains("42"), "{}", right.stdout);

    let home = tempfile::tempdir().unwrap();
    let open = support::command(&["serve", "--demo", "--listen", "0.0.0.0:0"], home.path()).output().unwrap();
    assert_eq!(open.status.code(), Some(2), "a non-loopback bind without a password exits with 2");
    let stderr = String::from_utf8_lossy(&open.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0") && stderr.contains("--password-file"), "{stderr}");
}

#[test]
fn read_only_refuses_writes_and_actions_but_reads_work() {
    let server = serve(&["--read-only"], &[]);
    let id = single_value(&cli_csv("select id from customers order by id limit 1"));
    for sql in [
        format!("delete from customers where id = '{id}'"),
        "insert into customers (email) values ('x@example.com')".to_owned(),
        format!("update customers set name = 'x' where id = '{id}'"),
        "select * from cancel_subscription('sub_123')".to_owned(),
    ] {
        let out = psql(server.addr, None, &[&sql]);
        assert_ne!(out.code, 0, "{sql} is refused");
        assert!(out.stderr.contains("25006") && out.stderr.contains("read-only"), "{sql}:\n{}", out.stderr);
    }
    let get = psql(server.addr, None, &[&format!("select json from stripe_get('/v1/customers/{id}')")]).ok();
    assert!(get.stdout.contains(&id), "{}", get.stdout);
    let count = psql(server.addr, None, &["select count(*) from customers"]).ok();
    assert_eq!(
        count.stdout.lines().nth(1).map(str::trim),
        Some(single_value(&cli_csv("select count(*) from customers")).as_str())
    );
}

#[test]
fn tls_is_served_with_a_certificate_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = support::self_signed_cert(dir.path());
    let server = serve(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()], &[]);
    let out = support::psql_tls(server.addr, &["select count(*) from customers"]).ok();
    assert_eq!(
        out.stdout.lines().nth(1).map(str::trim),
        Some(single_value(&cli_csv("select count(*) from customers")).as_str())
    );
}
