//! The real `stripe-sql` binary in its non-interactive modes, over the demo
//! data (deterministic): `-c`, `-f`, piped stdin, every `--format`, exit codes
//! (0 ok, 1 a statement failed, 2 configuration) and error texts. Results go
//! to stdout, diagnostics to stderr.

mod repl;
pub mod support;

use support::{demo, run};

/// The first demo customer by id.
const CUSTOMER: &str = "cus_0Br4O2cTH48s7Cg13Ri0dIeM";

fn customer_query() -> String {
    format!("SELECT id, email, created, delinquent, balance, metadata FROM customers WHERE id = '{CUSTOMER}'")
}

#[test]
fn c_runs_several_statements_and_repeated_flags_in_order() {
    let second = format!("SELECT id, email FROM customers WHERE id = '{CUSTOMER}'");
    let out = demo(&["--format", "csv", "-c", "SELECT 1 AS one; SELECT 'a;b' AS two", "-c", &second]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(out.stdout, format!("one\n1\ntwo\na;b\nid,email\n{CUSTOMER},linus.conway148@example.com\n"));
}

#[test]
fn f_runs_a_file_of_statements() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.sql");
    std::fs::write(
        &path,
        format!("-- two statements\nSELECT 1 AS one;\nSELECT id\n  FROM customers\n WHERE id = '{CUSTOMER}';\n"),
    )
    .unwrap();
    let out = demo(&["-f", path.to_str().unwrap()]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let want = format!(" one\n-----\n   1\n(1 row)\n\n id\n------------------------------\n {CUSTOMER}\n(1 row)\n\n");
    assert_eq!(out.stdout, want);
}

#[test]
fn f_names_the_file_and_line_of_a_failing_statement() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.sql");
    std::fs::write(&path, "SELECT 1 AS one;\n\nSELECT * FROM custmers;\nSELECT 2 AS two;\n").unwrap();
    let out = demo(&["--format", "csv", "-f", path.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "one\n1\n", "the run stops at the failing statement");
    let want = format!(
        "{}:3: error: Error during planning: table 'datafusion.stripe.custmers' not found; did you mean customers?\n",
        path.display()
    );
    assert_eq!(out.stderr, want);
}

#[test]
fn missing_file_is_a_configuration_error() {
    let out = demo(&["-f", "/nonexistent/stripe-sql/query.sql"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("stripe-sql: error: configuration error: could not read /nonexistent/stripe-sql/query.sql: "),
        "{}",
        out.stderr
    );
}

#[test]
fn piped_stdin_runs_every_statement() {
    let sql = format!("SELECT 'x' AS first;\nSELECT id, balance FROM customers\nWHERE id = '{CUSTOMER}'");
    let out = run(&["--demo", "--format", "ndjson"], Some(&sql));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(out.stdout, format!("{{\"first\":\"x\"}}\n{{\"id\":\"{CUSTOMER}\",\"balance\":0}}\n"));
}

#[test]
fn every_format_prints_the_same_row() {
    let timestamp_table = "2026-06-11 13:13:31Z";
    let timestamp_iso = "2026-06-11T13:13:31Z";
    let email = "linus.conway148@example.com";
    let cases = [
        (
            "table",
            [
                " id                           | email                       | created              | delinquent | balance | metadata".to_string(),
                "------------------------------+-----------------------------+----------------------+------------+---------+----------------------------------------".to_string(),
                format!(" {CUSTOMER} | {email} | {timestamp_table} | false      |       0 | {{\"plan\":\"free\",\"segment\":\"mid_market\"}}"),
                "(1 row)".to_string(),
                String::new(),
                String::new(),
            ]
            .join("\n"),
        ),
        (
            "csv",
            format!(
                "id,email,created,delinquent,balance,metadata\n{CUSTOMER},{email},{timestamp_iso},false,0,\"{{\"\"plan\"\":\"\"free\"\",\"\"segment\"\":\"\"mid_market\"\"}}\"\n"
            ),
        ),
        (
            "json",
            format!(
                "[\n  {{\"id\":\"{CUSTOMER}\",\"email\":\"{email}\",\"created\":\"{timestamp_iso}\",\"delinquent\":false,\"balance\":0,\"metadata\":{{\"plan\":\"free\",\"segment\":\"mid_market\"}}}}\n]\n"
            ),
        ),
        (
            "ndjson",
            format!(
                "{{\"id\":\"{CUSTOMER}\",\"email\":\"{email}\",\"created\":\"{timestamp_iso}\",\"delinquent\":false,\"balance\":0,\"metadata\":{{\"plan\":\"free\",\"segment\":\"mid_market\"}}}}\n"
            ),
        ),
        (
            "markdown",
            [
                "| id                           | email                       | created              | delinquent | balance | metadata                               |".to_string(),
                "| ---------------------------- | --------------------------- | -------------------- | ---------- | ------: | -------------------------------------- |".to_string(),
                format!("| {CUSTOMER} | {email} | {timestamp_table} | false      |       0 | {{\"plan\":\"free\",\"segment\":\"mid_market\"}} |"),
                String::new(),
            ]
            .join("\n"),
        ),
    ];
    for (format, want) in cases {
        let out = demo(&["--format", format, "-c", &customer_query()]);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "--format {format}");
        assert_eq!(out.stdout, want, "--format {format}");
    }
}

#[test]
fn unknown_format_is_a_usage_error() {
    let out = demo(&["--format", "xml", "-c", "SELECT 1"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("invalid value 'xml' for '--format <FORMAT>'"), "{}", out.stderr);
}

#[test]
fn unknown_table_exits_1_with_the_nearest_names() {
    let out = demo(&["-c", "SELECT 1 AS before; SELECT * FROM custmers; SELECT 2 AS after"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, " before\n--------\n      1\n(1 row)\n\n", "statements after the failure do not run");
    assert_eq!(
        out.stderr,
        "error: Error during planning: table 'datafusion.stripe.custmers' not found; did you mean customers?\n"
    );
}

#[test]
fn unknown_column_names_the_nearest_column() {
    let out = demo(&["-c", "SELECT emial FROM customers"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert!(
        out.stderr.starts_with("error: Schema error: No field named emial. Did you mean 'customers.email'?\nValid fields are customers.id, "),
        "{}",
        out.stderr
    );
}

#[test]
fn syntax_error_exits_1_with_the_position() {
    let out = demo(&["-c", "SELECT id FROM customers WHERE"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(out.stderr, "error: syntax error: Expected: an expression, found: EOF\n");
    let out = demo(&["-c", "SELEC id FROM customers"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(out.stderr, "error: syntax error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1\n");
}

#[test]
fn malformed_key_exits_2_without_echoing_it() {
    let out = run(&["--api-key", "bad_secret_value", "-c", "SELECT 1"], None);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert_eq!(
        out.stderr,
        "stripe-sql: error: configuration error: the api key is not a stripe key: expected it to start with sk_test_, sk_live_, rk_test_ or rk_live_ (the key is not shown) (from --api-key)\n"
    );
    assert!(!out.stderr.contains("bad_secret_value"));
}

#[test]
fn missing_key_exits_2_and_says_how_to_provide_one() {
    let out = run(&["-c", "SELECT 1"], None);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert_eq!(
        out.stderr,
        "stripe-sql: error: configuration error: no api key: pass --api-key, set STRIPE_API_KEY, put api_key in the --config file, log in with the stripe cli, or use --demo\n"
    );
}

#[test]
fn unreachable_api_exits_1_with_a_clear_error() {
    let key = "sk_test_unreachable0123";
    let out =
        run(&["--api-key", key, "--api-base", "http://127.0.0.1:1", "-c", "SELECT * FROM customers LIMIT 1"], None);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert!(
        out.stderr.starts_with("error: could not reach stripe at http://127.0.0.1:1 for GET /v1/customers: "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Connection refused") && out.stderr.trim_end().ends_with("attempt(s))"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(!out.stderr.contains(key));
}

#[test]
fn bad_demo_latency_is_a_configuration_error() {
    let home = tempfile::tempdir().unwrap();
    let out = support::command(&["--demo", "-c", "SELECT 1"], home.path())
        .env("STRIPE_SQL_DEMO_LATENCY_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "stripe-sql: error: configuration error: STRIPE_SQL_DEMO_LATENCY_MS must be a whole number of milliseconds, not \"soon\"\n"
    );
}

#[test]
fn demo_latency_slows_every_api_call() {
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = support::command(&["--demo", "-c", "SELECT id FROM customers LIMIT 1", "-c", "\\requests"], home.path())
        .env("STRIPE_SQL_DEMO_LATENCY_MS", "400")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let took: u64 = stdout
        .lines()
        .last()
        .and_then(|l| l.split(" in ").nth(1))
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a request line");
    assert!(took >= 400, "{stdout}");
}

#[test]
fn requests_shows_the_calls_of_the_last_statement_only() {
    let out =
        demo(&["-c", "SELECT count(*) FROM charges", "-c", "SELECT id FROM customers LIMIT 2", "-c", "\\requests"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let requests: Vec<&str> = out.stdout.lines().skip_while(|l| !l.starts_with("(2 rows)")).skip(2).collect();
    assert_eq!(requests.len(), 1, "{}", out.stdout);
    assert!(requests[0].starts_with("GET /v1/customers?limit=2 -> 200 in "), "{}", out.stdout);
    assert!(requests[0].ends_with(" ms (attempt 1)"), "{}", out.stdout);
    let out = demo(&["-c", "SELECT 1", "-c", "\\requests"]);
    assert!(out.stdout.ends_with("(1 row)\n\n(no API requests)\n"), "{}", out.stdout);
}

#[test]
fn meta_commands_describe_the_real_catalog() {
    let out = demo(&["--format", "csv", "-c", "\\dt"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "table,pushdown");
    assert_eq!(lines.len(), 1 + 95, "one row per catalog table");
    assert!(
        lines.contains(&"customers,pushes down: id created(range) email(eq) test_clock(eq) search"),
        "{}",
        out.stdout
    );

    let out = demo(&["--format", "csv", "-c", "\\d customers"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "column,type,pushdown,writable,arrow_type");
    assert!(lines.contains(&"id,text,retrieve,\"\",Utf8"), "{}", out.stdout);
    assert!(lines.contains(&"email,text,email(eq) search(string),insert update,Utf8"), "{}", out.stdout);
    let row = |name: &str| lines.iter().find(|l| l.starts_with(&format!("{name},"))).copied().unwrap_or("");
    assert!(
        row("created").starts_with("created,timestamptz,")
            && row("created").ends_with(",\"Timestamp(s, \"\"UTC\"\")\"")
    );
    assert!(row("metadata").starts_with("metadata,\"map<text, text>\","), "{}", out.stdout);
    assert!(row("balance").starts_with("balance,bigint,") && row("delinquent").starts_with("delinquent,boolean,"));
    assert!(row("_raw").starts_with("_raw,json,"), "{}", out.stdout);
    assert!(out.stdout.ends_with("writes: INSERT, UPDATE, DELETE\nsearch fields (eventually consistent): created, email, metadata, name, phone\n\n"), "{}", out.stdout);

    let out = demo(&["--format", "csv", "-c", "\\df"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "function,arguments,description");
    assert_eq!(
        lines.len(),
        1 + 8 + 57,
        "eight table functions (stripe_tables, stripe_columns, stripe_request_log, stripe_request_log_status, stripe_last_requests, stripe_last_write, stripe_mirror_status, stripe_get) and every catalog action"
    );
    assert!(lines.iter().any(|l| l.starts_with("stripe_last_write,")), "{}", out.stdout);
    assert!(lines.iter().any(|l| l.starts_with("stripe_get,")), "{}", out.stdout);
    assert!(
        lines.iter().any(|l| l
            .starts_with("capture_payment_intent,\"(id text | text[] | (SELECT id …), amount_to_capture => bigint,")
            && l.ends_with(",POST /v1/payment_intents/{id}/capture → payment_intents rows")),
        "{}",
        out.stdout
    );

    let out = demo(&["-c", "\\d custmers"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(out.stderr, "error: could not describe `custmers`: no such table; did you mean customers?\n");
}

#[test]
fn md_is_an_alias_of_markdown() {
    let markdown = demo(&["--format", "markdown", "-c", "SELECT 1 AS one"]);
    let md = demo(&["--format", "md", "-c", "SELECT 1 AS one"]);
    assert_eq!((md.code, md.stderr.as_str()), (0, ""));
    assert_eq!(md.stdout, markdown.stdout);
    assert!(md.stdout.starts_with("| one |\n"), "{}", md.stdout);
}

#[test]
fn returning_works_from_the_command_line() {
    let out = demo(&[
        "--format",
        "csv",
        "-c",
        "INSERT INTO customers (email, name) VALUES ('ret.cli@example.com', 'Ret Cli') RETURNING email, name, id LIKE 'cus_%' AS has_id",
        "-c",
        "SELECT method, path FROM stripe_last_requests()",
    ]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    assert_eq!(out.stdout, "email,name,has_id\nret.cli@example.com,Ret Cli,true\nmethod,path\nPOST,/v1/customers\n");
}

#[test]
fn a_global_flag_given_before_and_after_a_subcommand_is_a_usage_error() {
    let out = run(&["--demo", "serve", "--demo", "--listen", "127.0.0.1:0"], None);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""));
    assert!(
        out.stderr.contains("--demo was given twice: before the subcommand") && out.stderr.contains("after it"),
        "{}",
        out.stderr
    );
}
