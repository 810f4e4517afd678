//! End-to-end tests of the REPL's script runner (`repl::run_script`) over a
//! test backend: statements, meta-commands, formats, files and exit codes.

mod support;

use std::sync::Arc;

use stripe_sql_app::repl::{OutputFormat, ScriptOptions, run_script};
use support::TestBackend;

struct Run {
    code: i32,
    out: String,
    err: String,
}

async fn run_with(backend: Arc<TestBackend>, sql: &str, opts: &ScriptOptions) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_script(backend, sql, opts, &mut out, &mut err).await;
    Run { code, out: String::from_utf8(out).unwrap(), err: String::from_utf8(err).unwrap() }
}

async fn run(sql: &str) -> Run {
    run_with(TestBackend::new(), sql, &ScriptOptions { quiet: true, ..Default::default() }).await
}

#[tokio::test]
async fn runs_several_statements_in_order() {
    let r = run("select id, email, created from customers order by id;\nselect count(*) as n from charges").await;
    assert_eq!(r.code, 0, "{}", r.err);
    let want = [
        " id    | email             | created",
        "-------+-------------------+----------------------",
        " cus_1 | ada@example.com   | 2024-01-31 12:00:00Z",
        " cus_2 | NULL              | 2024-02-01 12:00:00Z",
        " cus_3 | grace@example.com | NULL",
        "(3 rows)",
        "",
        " n",
        "---",
        " 2",
        "(1 row)",
        "",
        "",
    ]
    .join("\n");
    assert_eq!(r.out, want);
    assert_eq!(r.err, "");
}

#[tokio::test]
async fn stops_at_the_first_error_with_exit_code_1() {
    let r = run("select 1 as a;\nselect * from nope;\nselect 2 as b;").await;
    assert_eq!(r.code, 1);
    assert!(r.out.contains(" a\n"), "{}", r.out);
    assert!(!r.out.contains(" b\n"), "statement after the error ran: {}", r.out);
    assert!(r.err.starts_with("error: "), "{}", r.err);
    assert!(r.err.contains("nope"), "{}", r.err);
}

#[tokio::test]
async fn file_errors_name_the_file_and_line() {
    let opts = ScriptOptions { source_name: Some("q.sql".into()), quiet: true, ..Default::default() };
    let r = run_with(TestBackend::new(), "select 1;\n\nselect x from customers;", &opts).await;
    assert_eq!(r.code, 1);
    assert!(r.err.starts_with("q.sql:3: error: "), "{}", r.err);
}

#[tokio::test]
async fn csv_format_via_meta_command_and_option() {
    let sql = "\\format csv\nselect id, email, created from customers order by id;";
    let r = run(sql).await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        r.out,
        "id,email,created\ncus_1,ada@example.com,2024-01-31T12:00:00Z\ncus_2,,2024-02-01T12:00:00Z\ncus_3,grace@example.com,\n"
    );
    let opts = ScriptOptions { format: OutputFormat::Csv, ..Default::default() };
    let r2 = run_with(TestBackend::new(), "select id, email, created from customers order by id", &opts).await;
    assert_eq!(r2.out, r.out);
}

#[tokio::test]
async fn json_and_ndjson_formats() {
    let opts = ScriptOptions { format: OutputFormat::Ndjson, ..Default::default() };
    let r = run_with(TestBackend::new(), "select id, amount from charges order by id", &opts).await;
    assert_eq!(r.out, "{\"id\":\"ch_1\",\"amount\":1000}\n{\"id\":\"ch_2\",\"amount\":250}\n");
    let opts = ScriptOptions { format: OutputFormat::Json, ..Default::default() };
    let r = run_with(TestBackend::new(), "select email from customers where id = 'cus_2'", &opts).await;
    assert_eq!(r.out, "[\n  {\"email\":null}\n]\n");
}

#[tokio::test]
async fn list_and_describe_tables() {
    let r = run("\\dt\n\\d customers").await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains(" customers | id =, email =, created <>"), "{}", r.out);
    assert!(r.out.contains(" email   | text"), "{}", r.out);
    assert!(r.out.contains("insert, update"), "{}", r.out);
    assert!(r.out.contains("Writes: INSERT, UPDATE, DELETE"), "{}", r.out);
    let r = run("\\d custmers").await;
    assert_eq!(r.code, 1);
    assert_eq!(r.err, "error: could not describe `custmers`: no such table; did you mean customers?\n");
}

#[tokio::test]
async fn functions_are_listed_and_filtered() {
    let r = run("\\df discount").await;
    assert!(r.out.contains("delete_discount | customer text | remove a discount"), "{}", r.out);
    let r = run("\\df nothing_like_this").await;
    assert!(r.out.contains("(0 rows)"), "{}", r.out);
}

#[tokio::test]
async fn output_redirects_to_a_file_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.csv");
    let sql =
        format!("\\format csv\n\\o {}\nselect id from charges order by id;\n\\o\nselect 'back' as s;", file.display());
    let r = run(&sql).await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "id\nch_1\nch_2\n");
    assert_eq!(r.out, "s\nback\n");
}

#[tokio::test]
async fn include_runs_a_file_and_reports_its_errors_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sql");
    std::fs::write(&good, "select count(*) as c from customers;\n").unwrap();
    let r = run(&format!("\\format csv\n\\i {}\nselect 'after' as s;", good.display())).await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "c\n3\ns\nafter\n");

    let bad = dir.path().join("bad.sql");
    std::fs::write(&bad, "select 1;\nselect missing_column from customers;\nselect 3;\n").unwrap();
    let r = run(&format!("\\i {}\nselect 'after' as s;", bad.display())).await;
    assert_eq!(r.code, 1);
    assert!(r.err.starts_with(&format!("{}:2: error: ", bad.display())), "{}", r.err);
    assert_eq!(r.err.matches(": error: ").count() + r.err.matches("\nerror: ").count(), 1, "reported once: {}", r.err);
    assert!(!r.out.contains("after"), "{}", r.out);

    let r = run("\\i /definitely/not/here.sql").await;
    assert_eq!(r.code, 1);
    assert!(r.err.contains("could not read /definitely/not/here.sql"), "{}", r.err);
}

#[tokio::test]
async fn requests_shows_the_api_calls_of_the_last_statement() {
    let r = run("select 1;\n\\requests\nselect c.id from customers c join charges ch on ch.customer = c.id limit 1;\n\\requests").await;
    assert_eq!(r.code, 0, "{}", r.err);
    let lines: Vec<&str> = r.out.lines().collect();
    let first = lines.iter().position(|l| *l == "(no API requests)").expect("no requests for select 1");
    let rest = &lines[first + 1..];
    assert!(rest.contains(&"GET /v1/customers 200") && rest.contains(&"GET /v1/charges 200"), "{}", r.out);
}

#[tokio::test]
async fn unknown_meta_command_fails_clearly() {
    let r = run("\\frobnicate\nselect 1;").await;
    assert_eq!(r.code, 1);
    assert_eq!(r.err, "error: unknown meta-command \\frobnicate; type \\? for the list\n");
    assert_eq!(r.out, "");
}

#[tokio::test]
async fn watch_repeats_the_last_query_and_quit_stops() {
    let r = run("\\format csv\nselect count(*) as n from charges;\n\\watch 0.01 2\n\\q\nselect 'not run' as s;").await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, "n\n2\nn\n2\nn\n2\n");
    let r = run("\\watch 1").await;
    assert_eq!(r.code, 1);
    assert!(r.err.contains("run one first"), "{}", r.err);
}

#[tokio::test]
async fn notices_toggles_and_cache_clear() {
    let backend = TestBackend::new();
    let r = run_with(
        backend.clone(),
        "\\timing\n\\x\nselect id from charges order by id limit 1;\n\\cache clear",
        &ScriptOptions::default(),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err.contains("Timing is on.") && r.err.contains("Expanded display is on.") && r.err.contains("Time: "),
        "{}",
        r.err
    );
    assert!(r.out.starts_with("-[ RECORD 1 ]"), "{}", r.out);
    assert!(r.out.contains("id | ch_1"), "{}", r.out);
    assert_eq!(*backend.cache_clears.lock().unwrap(), 1);
}

#[tokio::test]
async fn statements_without_results_print_nothing_and_state_persists() {
    let r = run("create table t as values (1), (2);\nselect count(*) as n from t;").await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out, " n\n---\n 2\n(1 row)\n\n");
}

#[tokio::test]
async fn help_lists_meta_commands() {
    let r = run("\\?").await;
    assert_eq!(r.code, 0);
    for cmd in ["\\dt", "\\d", "\\df", "\\format", "\\watch", "\\requests", "\\o", "\\i", "\\q"] {
        assert!(r.out.contains(&format!("  {cmd} ")), "{cmd} missing: {}", r.out);
    }
}
