//! Argument forms (named, JSON object, MAP), the bulk forms (array of ids,
//! id subquery) with partial-failure reporting, idempotent re-execution,
//! dry runs, `\df` text and `stripe_get`.

use super::{customer_with_card, empty, error, id, json_rows, one, payment_intent, post, rows, writes};
use serde_json::json;
use stripe_sql::engine::Engine;
use stripe_sql_app::backend::EngineBackend;
use stripe_sql_app::repl::Backend;

async fn capturable(e: &Engine, n: usize) -> Vec<String> {
    let (cus, pm) = customer_with_card(e).await;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(id(&payment_intent(
            e,
            json!({"customer": cus, "payment_method": pm, "capture_method": "manual", "confirm": true}),
        )
        .await));
    }
    ids
}

fn last_post_params(e: &Engine) -> Vec<(String, String)> {
    e.client().request_log().entries().iter().rev().find(|x| x.method == "POST").expect("a POST").params.clone()
}

#[tokio::test]
async fn named_json_and_map_arguments_send_the_same_params() {
    let e = empty();
    let ids = capturable(&e, 4).await;
    let forms = [
        format!(
            "SELECT amount_received FROM capture_payment_intent('{}', amount_to_capture => 700, metadata => MAP {{'batch': '7'}})",
            ids[0]
        ),
        format!(
            r#"SELECT amount_received FROM capture_payment_intent('{}', '{{"amount_to_capture": 700, "metadata": {{"batch": "7"}}}}')"#,
            ids[1]
        ),
        format!(
            "SELECT amount_received FROM capture_payment_intent('{}', amount_to_capture => '700', metadata => '{{\"batch\": 7}}')",
            ids[2]
        ),
        format!(
            "SELECT amount_received FROM capture_payment_intent(metadata => named_struct('batch', 7), id => '{}', amount_to_capture => 700)",
            ids[3]
        ),
    ];
    for sql in &forms {
        assert_eq!(one(&e, sql).await["amount_received"], 700, "{sql}");
        let mut params = last_post_params(&e);
        params.sort();
        assert_eq!(
            params,
            vec![
                ("amount_to_capture".to_string(), "700".to_string()),
                ("metadata[batch]".to_string(), "7".to_string())
            ],
            "{sql}"
        );
    }
}

#[tokio::test]
async fn bad_arguments_are_refused_before_anything_is_sent() {
    let e = empty();
    let ids = capturable(&e, 1).await;
    let before = writes(&e);
    let cases = [
        (
            format!("SELECT * FROM capture_payment_intent('{}', amount_to_capture => 'lots')", ids[0]),
            "must be a whole number",
        ),
        (format!("SELECT * FROM capture_payment_intent('{}', colour => 'red')", ids[0]), "has no parameter colour"),
        (
            format!("SELECT * FROM cancel_payment_intent('{}', cancellation_reason => 'bored')", ids[0]),
            "must be one of abandoned, duplicate",
        ),
        (format!("SELECT * FROM capture_payment_intent('{}', 500)", ids[0]), "must be a named parameter"),
        ("SELECT * FROM attach_payment_method('pm_1')".to_string(), "attach_payment_method needs customer"),
        ("SELECT * FROM capture_payment_intent('pi_1/../x')".to_string(), "is not a stripe id"),
    ];
    for (sql, expected) in &cases {
        let err = error(&e, sql).await;
        assert!(err.contains(expected), "{sql}: {err}");
    }
    assert_eq!(writes(&e), before, "no request was sent for an invalid call");
}

#[tokio::test]
async fn array_of_ids_applies_the_action_to_each_in_order() {
    let e = empty();
    let ids = capturable(&e, 3).await;
    let sql = format!("SELECT id, status FROM capture_payment_intent(ARRAY['{}', '{}', '{}'])", ids[0], ids[1], ids[2]);
    let got = rows(&e, &sql).await;
    let got_ids: Vec<&str> = got.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(got_ids, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(got.iter().all(|r| r["status"] == "succeeded"), "{got:?}");
}

#[tokio::test]
async fn id_subquery_acts_on_exactly_the_selected_ids() {
    let e = empty();
    let targets = capturable(&e, 2).await;
    let (cus, _) = customer_with_card(&e).await;
    let bystander = id(&payment_intent(&e, json!({"customer": cus})).await);
    let sql = "SELECT id, status FROM cancel_payment_intent((SELECT id FROM payment_intents WHERE capture_method = 'manual'), cancellation_reason => 'abandoned')";
    let mut got: Vec<String> = rows(&e, sql).await.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    got.sort();
    let mut want = targets.clone();
    want.sort();
    assert_eq!(got, want);
    let status = one(&e, &format!("SELECT status FROM payment_intents WHERE id = '{bystander}'")).await;
    assert_eq!(status["status"], "requires_payment_method", "the unselected intent is untouched");
    let agg = "SELECT count(*) AS n FROM cancel_payment_intent((SELECT array_agg(id) FROM payment_intents WHERE capture_method = 'none_such'))";
    assert_eq!(one(&e, agg).await["n"], 0, "an empty selection sends nothing");
}

#[tokio::test]
async fn bulk_failure_reports_done_failed_and_not_attempted_ids() {
    let e = empty();
    let ids = capturable(&e, 3).await;
    post(&e, &format!("/v1/payment_intents/{}/cancel", ids[1]), json!({})).await;
    // One at a time, in order: the third is never attempted.
    e.sql("SET stripe.max_concurrency = 1").await.unwrap();
    let err =
        error(&e, &format!("SELECT * FROM capture_payment_intent(ARRAY['{}', '{}', '{}'])", ids[0], ids[1], ids[2]))
            .await;
    assert!(err.contains(&format!("done for 1 of 3 id(s) [{}]", ids[0])), "{err}");
    assert!(
        err.contains(&format!("failed for {}", ids[1]))
            && err.contains("status of canceled")
            && err.contains("request id req_"),
        "{err}"
    );
    assert!(err.contains(&format!("not attempted [{}]", ids[2])), "{err}");
    let third = one(&e, &format!("SELECT status FROM payment_intents WHERE id = '{}'", ids[2])).await;
    assert_eq!(third["status"], "requires_capture");
}

#[tokio::test]
async fn bulk_actions_run_concurrently_and_report_every_failure() {
    // 40 ms per response, so requests sent together are visibly in flight together.
    let config =
        stripe_sql::emulator::EmulatorConfig { latency: std::time::Duration::from_millis(40), ..Default::default() };
    let e = Engine::with_emulator(config, |_| {}).unwrap();
    let ids = capturable(&e, 8).await;
    for broken in [&ids[2], &ids[5]] {
        post(&e, &format!("/v1/payment_intents/{broken}/cancel"), json!({})).await;
    }
    let list = ids.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT id, status FROM capture_payment_intent(ARRAY[{list}, '{}'])", ids[0]);
    let err = error(&e, &sql).await;
    // The default concurrency (16) sends all eight at once: both failures are
    // reported, the other six were captured, nothing is left unattempted.
    assert!(err.contains("done for 6 of 8 id(s)"), "{err}");
    assert!(
        err.contains(&format!("failed for {}", ids[2])) && err.contains(&format!("failed for {}", ids[5])),
        "{err}"
    );
    assert!(err.contains("not attempted [none]"), "{err}");
    let captures = e
        .client()
        .request_log()
        .entries()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/capture"))
        .collect::<Vec<_>>();
    assert_eq!(captures.len(), 8, "the repeated id is sent once");
    // In flight together: some capture started before another one ended.
    let overlapping = captures.iter().any(|a| {
        captures.iter().any(|b| a.seq != b.seq && a.sent_at < b.sent_at && b.sent_at < a.sent_at + a.duration)
    });
    assert!(overlapping, "the captures ran one after another");

    // Without failures, the rows come back in the order of the ids, repeats included.
    let fresh = capturable(&e, 4).await;
    let list = fresh.iter().rev().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ");
    let rows = rows(&e, &format!("SELECT id, status FROM capture_payment_intent(ARRAY[{list}, '{}'])", fresh[3])).await;
    let got: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut want: Vec<&str> = fresh.iter().rev().map(String::as_str).collect();
    want.push(&fresh[3]);
    assert_eq!(got, want);
    assert!(rows.iter().all(|r| r["status"] == "succeeded"), "{rows:?}");
}

#[tokio::test]
async fn re_executing_one_plan_replays_instead_of_acting_twice() {
    let e = empty();
    let ids = capturable(&e, 1).await;
    let df = e
        .dataframe(&format!(
            "SELECT status, amount_received FROM capture_payment_intent('{}', amount_to_capture => 400)",
            ids[0]
        ))
        .await
        .unwrap();
    let first = json_rows(&df.clone().collect().await.unwrap());
    let second = json_rows(&df.collect().await.unwrap());
    assert_eq!(first, second, "the second execution replays the first answer (same idempotency key)");
    assert_eq!(first[0]["amount_received"], 400);
    let err = error(&e, &format!("SELECT * FROM capture_payment_intent('{}')", ids[0])).await;
    assert!(err.contains("status of succeeded"), "a new statement gets a new key and a real answer: {err}");
}

#[tokio::test]
async fn dry_run_lists_the_requests_without_sending_them() {
    let e = empty();
    let ids = capturable(&e, 2).await;
    e.sql("SET stripe.dry_run = true").await.unwrap();
    let before = writes(&e);
    let sql = format!(
        "SELECT method, path, params, idempotency_key FROM capture_payment_intent(ARRAY['{}', '{}'], amount_to_capture => 5)",
        ids[0], ids[1]
    );
    let got = rows(&e, &sql).await;
    assert_eq!(writes(&e), before);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1]["path"], format!("/v1/payment_intents/{}/capture", ids[1]));
    assert_eq!((got[0]["method"].as_str(), got[0]["params"].as_str()), (Some("POST"), Some("amount_to_capture=5")));
    assert!(got[0]["idempotency_key"].as_str().unwrap().starts_with("stripe-sql-capture_payment_intent-"));
    // Object columns do not exist in a dry run; the error says why.
    let err =
        e.sql(&format!("SELECT id, status FROM capture_payment_intent('{}')", ids[0])).await.unwrap_err().to_string();
    assert!(err.contains("stripe.dry_run is on") && err.contains("No field named id"), "{err}");
    assert_eq!(writes(&e), before);
}

#[tokio::test]
async fn df_shows_arguments_with_types_and_required_flags() {
    let e = std::sync::Arc::new(empty());
    let functions = EngineBackend::new(e).functions();
    let attach = functions.iter().find(|f| f.name == "attach_payment_method").expect("listed");
    assert_eq!(attach.arguments, "(id text | text[] | (SELECT id …), customer => text required)");
    assert_eq!(attach.description, "POST /v1/payment_methods/{id}/attach → payment_methods rows");
    let capture = functions.iter().find(|f| f.name == "capture_payment_intent").expect("listed");
    assert!(capture.arguments.contains("amount_to_capture => bigint"), "{}", capture.arguments);
    assert!(functions.iter().any(|f| f.name == "stripe_get"));
}

#[tokio::test]
async fn stripe_get_reads_endpoints_without_a_table() {
    let e = Engine::demo().unwrap();
    let row = one(&e, "SELECT object, json FROM stripe_get('/v1/balance')").await;
    assert_eq!(row["object"], "balance");
    let body: serde_json::Value = serde_json::from_str(row["json"].as_str().unwrap()).unwrap();
    assert!(body["available"].is_array(), "{body}");
    let err = error(&e, "SELECT * FROM stripe_get('/v1/../admin')").await;
    assert!(err.contains("is not an api path"), "{err}");
    let cus = rows(&e, "SELECT id FROM customers LIMIT 1").await[0]["id"].as_str().unwrap().to_string();
    let got =
        one(&e, &format!("SELECT json FROM stripe_get('/v1/customers/{cus}', '{{\"expand\": [\"default_source\"]}}')"))
            .await;
    assert!(got["json"].as_str().unwrap().contains(&cus));
}

#[tokio::test]
async fn the_repl_rewrites_named_arguments_and_df_lists_them() {
    use stripe_sql_app::repl::{OutputFormat, ScriptOptions, run_script};
    let e = std::sync::Arc::new(empty());
    let ids = capturable(&e, 1).await;
    let backend: std::sync::Arc<dyn Backend> = std::sync::Arc::new(EngineBackend::new(std::sync::Arc::clone(&e)));
    let sql = format!(
        "SELECT status, amount_received FROM capture_payment_intent('{}', amount_to_capture => 300);\n\\df attach_payment_method",
        ids[0]
    );
    let opts = ScriptOptions { format: OutputFormat::Csv, quiet: true, ..ScriptOptions::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_script(backend, &sql, &opts, &mut out, &mut err).await;
    let (out, err) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&err));
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("succeeded,300"), "{out}");
    assert!(out.contains("customer => text required"), "{out}");
}
