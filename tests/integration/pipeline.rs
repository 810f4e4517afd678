//! One statement pipeline: the same statements — a `RETURNING` insert,
//! `stripe_last_write()`, a named-argument action under `stripe.dry_run`, and
//! a statement that needs the dry-run hint — give the same answers and the
//! same hint through the REPL's script runner, `-c`, the Postgres server
//! (psql: the simple protocol; psycopg: the extended protocol, the insert's
//! value as a server-side parameter) and the embedded API.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use stripe_sql_app::backend::EngineBackend;
use stripe_sql_app::repl::{self, OutputFormat, ScriptOptions};

use crate::cli::support as cli_support;
use crate::serve::support as serve_support;

const STATEMENTS: &[&str] = &[
    "INSERT INTO customers (email) VALUES ('one-pipeline@example.com') RETURNING email",
    "SELECT outcome, method, path FROM stripe_last_write()",
    "SET stripe.dry_run = true",
    "SELECT method, path FROM capture_payment_intent(id => 'pi_123', amount_to_capture => 500)",
    "SELECT id FROM capture_payment_intent('pi_123')",
];

/// The answer lines every front end must print, as comma-separated cells.
const ANSWERS: &[&str] =
    &["one-pipeline@example.com", "written,POST,/v1/customers", "POST,/v1/payment_intents/pi_123/capture"];
/// The dry-run hint the last statement must fail with.
const HINT: &str = "stripe.dry_run is on, so capture_payment_intent(...) returns the requests it would send";

/// Checks one front end's output lines (cells joined by commas) and error text.
fn check(front_end: &str, lines: &[String], errors: &str) {
    for answer in ANSWERS {
        assert!(lines.iter().any(|l| l == answer), "{front_end}: no line {answer:?} in {lines:#?}\nerrors: {errors}");
    }
    assert!(errors.contains(HINT), "{front_end}: the dry-run hint is missing from {errors:?}");
}

fn batch_lines(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default();
    let mut lines = Vec::new();
    for batch in batches {
        let formatters: Vec<_> =
            batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap()).collect();
        for row in 0..batch.num_rows() {
            lines.push(formatters.iter().map(|f| f.value(row).to_string()).collect::<Vec<_>>().join(","));
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_statements_answer_alike_in_every_front_end() {
    // Embedded API.
    let stripe = stripe_sql::StripeSql::builder().demo().build().unwrap();
    let (mut lines, mut errors) = (Vec::new(), String::new());
    for sql in STATEMENTS {
        match stripe.sql(sql).await {
            Ok(batches) => lines.extend(batch_lines(&batches)),
            Err(e) => errors.push_str(&e.to_string()),
        }
    }
    check("embedded", &lines, &errors);

    // The REPL's script runner (what the interactive REPL and -f use).
    let engine = Arc::new(stripe_sql::engine::Engine::demo().unwrap());
    let backend = Arc::new(EngineBackend::new(engine));
    let script = STATEMENTS.join(";\n");
    let opts = ScriptOptions { format: OutputFormat::Csv, quiet: true, ..ScriptOptions::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    repl::run_script(backend, &script, &opts, &mut out, &mut err).await;
    let out = String::from_utf8(out).unwrap();
    check("script runner", &out.lines().map(str::to_owned).collect::<Vec<_>>(), &String::from_utf8(err).unwrap());

    // -c, the real binary.
    let run = cli_support::demo(&["--format", "csv", "-c", &script]);
    check("-c", &run.stdout.lines().map(str::to_owned).collect::<Vec<_>>(), &run.stderr);

    // The Postgres server through psql (unaligned: cells joined by `|`).
    let served = serve_support::serve(&[], &[]);
    let mut commands: Vec<&str> = STATEMENTS.to_vec();
    commands.retain(|s| !s.starts_with("SET"));
    // psql runs each -c in the same session, so the setting reaches the action.
    let psql = serve_support::psql(
        served.addr,
        None,
        &[commands[0], commands[1], "SET stripe.dry_run = true", commands[2], commands[3]],
    );
    let lines: Vec<String> = psql.stdout.lines().map(|l| l.replace('|', ",")).collect();
    check("pgwire simple protocol", &lines, &psql.stderr);

    let port = served.addr.port().to_string();
    let extended = serve_support::python("pg_python.py", &[&port, "pipeline"]).ok();
    let report: serde_json::Value = serde_json::from_str(extended.stdout.trim()).expect("one JSON object");
    let lines: Vec<String> =
        report["lines"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect();
    check("pgwire extended protocol", &lines, report["errors"].as_str().unwrap());
}
