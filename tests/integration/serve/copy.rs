//! `COPY … TO STDOUT` over the Postgres port through psql (text, CSV with
//! HEADER, binary, `\copy` into a local file), its pushdown and
//! `--read-only`; and every way of reaching the server's own files refused
//! with SQLSTATE 42501 on both the Postgres and the Flight SQL port.

use serde_json::{Value, json};

use super::support::{cli_csv, psql, python_with, serve, serve_with_flight, single_value};

#[test]
fn psql_copies_text_csv_and_binary_and_backslash_copy_writes_a_local_file() {
    let server = serve(&[], &[]);
    let sql = "select id, email, created from customers order by id limit 7";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.csv");
    let copy = format!(r"\copy ({sql}) to '{}' csv header", file.display());
    let out = psql(server.addr, None, &[&copy]).ok();
    assert!(out.stdout.contains("COPY 7"), "{}", out.stdout);
    let written = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[0], "id,email,created", "{written}");
    assert_eq!(lines.len(), 8, "{written}");
    let ids: Vec<String> = cli_csv(sql).lines().skip(1).map(|l| l.split(',').next().unwrap().to_owned()).collect();
    let copied: Vec<String> = lines[1..].iter().map(|l| l.split(',').next().unwrap().to_owned()).collect();
    assert_eq!(copied, ids);
    assert!(lines[1].ends_with("+00"), "timestamps are timestamptz text: {}", lines[1]);

    // Text format, a table with a column list, and NULL as \N.
    let text = psql(server.addr, None, &["COPY (select id, description from charges order by id) TO STDOUT"]).ok();
    let count = single_value(&cli_csv("select count(*) from charges"));
    assert_eq!(text.stdout.lines().count().to_string(), count);
    let nulls = single_value(&cli_csv("select count(*) from charges where description is null"));
    assert_eq!(text.stdout.lines().filter(|l| l.ends_with("\t\\N")).count().to_string(), nulls);
    let table = psql(server.addr, None, &["COPY customers (id, email) TO STDOUT WITH (FORMAT csv)"]).ok();
    assert_eq!(table.stdout.lines().count().to_string(), single_value(&cli_csv("select count(*) from customers")));

    let binary = psql(server.addr, None, &["COPY (select 1::bigint as one) TO STDOUT WITH (FORMAT binary)"]).ok();
    assert!(binary.stdout.starts_with("PGCOPY\n"), "{:?}", binary.stdout);
}

#[test]
fn copy_pushes_its_filter_down_and_is_a_read_under_read_only() {
    let server = serve(&["--read-only"], &[]);
    let email = single_value(&cli_csv("select email from customers where email is not null order by email limit 1"));
    let out = psql(
        server.addr,
        None,
        &[
            &format!("COPY (select id from customers where email = '{email}') TO STDOUT"),
            "select path, params from stripe_last_requests()",
        ],
    )
    .ok();
    assert!(out.stdout.contains("/v1/customers|") && out.stdout.contains("email="), "{}", out.stdout);
    let action = psql(server.addr, None, &["COPY (select * from cancel_subscription('sub_1')) TO STDOUT"]);
    assert_ne!(action.code, 0);
    assert!(action.stderr.contains("25006"), "{}", action.stderr);
}

/// Statements that would reach the server's files.
fn file_statements(target: &std::path::Path) -> Vec<(&'static str, String)> {
    let t = target.display();
    vec![
        ("copy_to_file", format!("COPY (select id from customers) TO '{t}'")),
        ("copy_table_to_file", format!("COPY customers TO '{t}' WITH (FORMAT csv)")),
        ("copy_from_file", "COPY customers FROM '/etc/hostname'".to_owned()),
        ("copy_from_stdin", "COPY customers FROM STDIN".to_owned()),
        ("copy_program", "COPY (select 1) TO PROGRAM 'touch /tmp/stripe-sql-pwned'".to_owned()),
        ("external_table", "CREATE EXTERNAL TABLE pw (line varchar) STORED AS CSV LOCATION '/etc/passwd'".to_owned()),
        ("path_table", "select * from '/etc/passwd'".to_owned()),
        ("quoted_path_table", "select * from \"/etc/passwd\"".to_owned()),
    ]
}

#[test]
fn file_access_is_refused_with_42501_on_both_ports() {
    let (server, flight) = serve_with_flight(&[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("leak.csv");
    let statements = file_statements(&target);
    for (name, sql) in &statements {
        let out = psql(server.addr, None, &[sql]);
        assert_ne!(out.code, 0, "{name}: {sql} is refused");
        assert!(out.stderr.contains("42501"), "{name}: {sql}:\n{}", out.stderr);
    }
    let cases: Vec<Value> = statements.iter().map(|(name, sql)| json!({"name": name, "sql": sql})).collect();
    let file = dir.path().join("cases.json");
    std::fs::write(&file, serde_json::to_string(&cases).unwrap()).unwrap();
    let uri = format!("grpc://127.0.0.1:{}", flight.port());
    let out =
        python_with("adbc_driver_flightsql.dbapi", "arrow_python.py", &["flight_errors", &uri, file.to_str().unwrap()])
            .ok();
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    for (name, sql) in &statements {
        let error = v["errors"][name].as_str().unwrap_or_else(|| panic!("{name}: {sql} ran over Flight SQL: {v}"));
        assert!(error.contains("42501"), "{name}: {sql}: {error}");
    }
    assert!(!target.exists(), "no file was written");
}
