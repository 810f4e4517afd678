//! Arrow-native clients on `stripe-sql serve`: connectorx (through polars)
//! and the ADBC PostgreSQL driver over the Postgres port (binary COPY), the
//! ADBC Flight SQL driver over `--flight-sql`. Each reads the same rows as
//! `stripe-sql -c` for a join, an aggregate, a `$1` filter pushed down to
//! Stripe, timestamps, NULLs and `metadata`.

use serde_json::{Value, json};

use super::support::{cli_json, java, python_with, rscript, serve, serve_with_flight};

/// One query the drivers run and the CLI query whose rows they must equal.
struct Case {
    name: &'static str,
    /// What the driver runs (`$1` bound to `param` when there is one).
    sql: String,
    param: Option<String>,
}

fn cases() -> Vec<Case> {
    let email = cli_json("select email from customers where email is not null order by email limit 1")[0]["email"]
        .as_str()
        .expect("a demo email")
        .to_owned();
    vec![
        Case {
            name: "join",
            sql: "select c.id as customer, count(*) as charges from charges ch join customers c on ch.customer = c.id \
                  group by c.id order by c.id limit 25"
                .into(),
            param: None,
        },
        Case {
            name: "aggregate",
            sql:
                "select currency, sum(amount) as total, count(*) as n from charges group by currency order by currency"
                    .into(),
            param: None,
        },
        Case {
            name: "param",
            sql: "select id, email, created from customers where email = $1 order by id".into(),
            param: Some(email),
        },
        Case {
            name: "timestamps_nulls",
            sql: "select id, created, description, amount_refunded from charges order by id limit 60".into(),
            param: None,
        },
        Case { name: "metadata", sql: "select id, metadata from customers order by id limit 20".into(), param: None },
    ]
}

/// The CLI query of a case: its parameter written in as a literal.
fn literal(case: &Case) -> String {
    match &case.param {
        Some(p) => case.sql.replace("$1", &format!("'{}'", p.replace('\'', "''"))),
        None => case.sql.clone(),
    }
}

/// Runs every case through `driver` at `uri` and compares with the CLI.
fn check_driver(driver: &str, modules: &str, uri: &str, extra: &[&str]) -> Value {
    let cases = cases();
    let mut spec: Vec<Value> = cases
        .iter()
        .map(|c| json!({"name": c.name, "sql": c.sql, "params": c.param.iter().collect::<Vec<_>>(), "literal_sql": literal(c)}))
        .collect();
    // Right after the `$1` query, on the same connection: the calls it made.
    let after_param = spec.iter().position(|c| c["name"] == "param").expect("a param case") + 1;
    spec.insert(
        after_param,
        json!({"name": "requests", "sql": "select method, path, params from stripe_last_requests()"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    std::fs::write(&file, serde_json::to_string(&spec).unwrap()).unwrap();
    let mut args = vec![driver, uri, file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = python_with(modules, "arrow_python.py", &args).ok();
    let got: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    for case in &cases {
        let expected = cli_json(&literal(case));
        let rows = &got["cases"][case.name];
        assert!(expected.as_array().is_some_and(|a| !a.is_empty()), "{}: the CLI found rows", case.name);
        assert_eq!(rows, &expected, "{driver}: {} differs from -c", case.name);
    }
    if driver != "connectorx" {
        // connectorx opens a connection per query and cannot bind: only the drivers that bind are asked.
        let requests = got["cases"]["requests"].as_array().expect("stripe_last_requests() answered");
        assert!(
            requests
                .iter()
                .any(|r| r["path"] == "/v1/customers" && r["params"].as_str().unwrap_or("").contains("email=")),
            "{driver}: the bound $1 reached Stripe as an email= list filter: {requests:?}"
        );
    }
    let nulls = got["cases"]["timestamps_nulls"].as_array().unwrap();
    assert!(nulls.iter().any(|r| r["description"].is_null()), "the NULL case has NULLs");
    got
}

#[test]
fn connectorx_through_polars_reads_what_the_cli_reads() {
    let server = serve(&[], &[]);
    let uri = format!("postgresql://stripe@127.0.0.1:{}/stripe?sslmode=disable", server.addr.port());
    check_driver("connectorx", "polars, connectorx", &uri, &[]);
}

#[test]
fn adbc_postgresql_reads_what_the_cli_reads() {
    let server = serve(&[], &[]);
    let uri = format!("postgresql://stripe@127.0.0.1:{}/stripe?sslmode=disable", server.addr.port());
    let got = check_driver("adbc_pg", "adbc_driver_postgresql.dbapi, pyarrow", &uri, &[]);
    let columns = got["objects"]["columns"].as_array().expect("the table schema of charges");
    assert!(columns.iter().any(|c| c == "amount") && columns.iter().any(|c| c == "created"), "{got}");
    // get_objects lists schemas only under the database the driver connected to.
    assert_eq!(got["objects"]["catalogs"], json!(["stripe"]), "{got}");
    let tables = got["objects"]["tables"].as_array().expect("get_objects answered");
    assert!(tables.iter().any(|t| t == "charges") && tables.iter().any(|t| t == "invoice_lines"), "{got}");
}

#[test]
fn adbc_flight_sql_reads_what_the_cli_reads() {
    let (_server, flight) = serve_with_flight(&[], &[]);
    let uri = format!("grpc://127.0.0.1:{}", flight.port());
    let got = check_driver("flight", "adbc_driver_flightsql.dbapi, pyarrow", &uri, &[]);
    let objects = got["objects"]["tables"].as_array().expect("GetTables answered");
    assert!(objects.iter().any(|t| t == "charges") && objects.iter().any(|t| t == "customers"), "{got}");
}

/// The README's DuckDB (pyarrow through ADBC Flight SQL), Java (pgJDBC) and
/// R (DBI + RPostgreSQL) snippets, run as they are printed there, give the
/// CLI's totals.
#[test]
fn readme_snippets_run() {
    let (server, flight) = serve_with_flight(&[], &[]);
    let totals = |sql: &str| -> Vec<(String, i64)> {
        cli_json(sql)
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| (r["currency"].as_str().unwrap().to_owned(), r["total"].as_i64().unwrap()))
            .collect()
    };
    let all = totals("select currency, sum(amount) as total from charges group by currency order by currency");
    let uri = format!("grpc://127.0.0.1:{}", flight.port());
    assert_printed_in_readme(
        "readme/duckdb_flight.py",
        &[("flightsql.connect(uri)", "flightsql.connect(\"grpc://127.0.0.1:50051\")")],
    );
    let out = python_with("duckdb, adbc_driver_flightsql", "readme/duckdb_flight.py", &[&uri]).ok();
    let expected: String = all.iter().map(|(c, t)| format!("('{c}', {t})")).collect::<Vec<_>>().join(", ");
    assert_eq!(out.stdout.trim(), format!("[{expected}]"), "{}", out.stdout);

    let succeeded = totals(
        "select currency, sum(amount) as total from charges where status = 'succeeded' group by currency order by currency",
    );
    let out = java("readme/Charges.java", &[&server.addr.port().to_string()]).ok();
    let lines: Vec<String> = succeeded.iter().map(|(c, t)| format!("{c} {t}")).collect();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), lines, "{}", out.stdout);

    assert_printed_in_readme("readme/charges.R", &[("port = port", "port = 5433")]);
    let out = rscript("readme/charges.R", &[&server.addr.port().to_string()]).ok();
    let mut csv = vec!["\"currency\",\"total\"".to_owned()];
    csv.extend(all.iter().map(|(c, t)| format!("\"{c}\",{t}")));
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), csv, "{}", out.stdout);
}

/// Every line of the snippet file `tests/clients/FILE` from its first
/// `import`/`library` on (the lines that import `sys` or read the test's arguments left
/// out, `edits` applied) is printed in the README, in order.
fn assert_printed_in_readme(file: &str, edits: &[(&str, &str)]) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let snippet = std::fs::read_to_string(root.join("tests/clients").join(file)).expect("snippet");
    let lines = snippet
        .lines()
        .skip_while(|l| !(l.starts_with("import") || l.starts_with("library") || l.starts_with("# R over")))
        .filter(|l| !l.contains("sys") && !l.contains("commandArgs"))
        .map(|l| edits.iter().fold(l.to_owned(), |l, (from, to)| l.replace(from, to)));
    let mut rest = readme.as_str();
    for line in lines {
        let at = rest.find(&line).unwrap_or_else(|| panic!("README.md does not print {line:?} (from {file}) in order"));
        rest = &rest[at + line.len()..];
    }
}
