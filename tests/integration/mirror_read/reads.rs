//! Reading mirrored tables: equal to live, no calls, EXPLAIN says which
//! source and how stale, `auto` falls back when stale, joins push keys live.

use super::support::{explain, last_calls, mirrored, rows, sql};

const AGG: &str = "SELECT status, count(*), sum(amount) FROM charges GROUP BY 1";

#[tokio::test]
async fn a_mirrored_table_answers_like_live_without_a_call() {
    let (account, _dir, _) = mirrored(&["charges", "customers"]).await;
    let e = &account.engine;
    let queries = [
        AGG,
        "SELECT id, amount, created FROM charges WHERE amount > 2500",
        "SELECT id FROM charges WHERE created >= TIMESTAMP '2024-01-01T00:03:00Z' AND amount < 5000",
        "SELECT email FROM customers",
    ];
    for q in queries {
        let mirror = rows(e, q).await;
        assert_eq!(last_calls(e).await, Vec::<String>::new(), "{q}: answered from the mirror, no API call");
        sql(e, "SET stripe.source = 'live'").await;
        let live = rows(e, q).await;
        assert!(!last_calls(e).await.is_empty(), "{q}: live makes calls");
        sql(e, "SET stripe.source = 'auto'").await;
        assert_eq!(mirror, live, "{q}: mirror and live differ");
        assert!(!mirror.is_empty(), "{q}: some rows");
    }
    let limited = rows(e, "SELECT id FROM charges WHERE amount >= 2000 LIMIT 2").await;
    assert_eq!(limited.len(), 2);
    let plan = explain(e, "SELECT id FROM charges WHERE amount >= 2000 LIMIT 2").await;
    assert!(plan.contains("MirrorScanExec: table=charges, source=mirror"), "{plan}");
    assert!(plan.contains("s stale, max_staleness 60s") && plan.contains("filters pushed to Delta 1/1"), "{plan}");
    assert!(!plan.contains("StripeScanExec"), "{plan}");
}

#[tokio::test]
async fn auto_reads_live_when_the_mirror_is_stale_and_mirror_insists() {
    let (account, dir, _) = mirrored(&["charges"]).await;
    let e = &account.engine;
    let old = stripe_sql::mirror::fresh::now() - 3_600;
    stripe_sql::mirror::fresh::record(dir.path(), &["charges"], old);
    let plan = explain(e, AGG).await;
    assert!(plan.contains("StripeScanExec: table=charges") && plan.contains("source=live (mirror 360"), "{plan}");
    rows(e, AGG).await;
    assert!(!last_calls(e).await.is_empty(), "a stale mirror is not read under auto");
    sql(e, "SET stripe.max_staleness = '2h'").await;
    assert!(explain(e, AGG).await.contains("MirrorScanExec"), "within a 2h max_staleness the mirror is read");
    sql(e, "SET stripe.max_staleness = '60s'").await;
    sql(e, "SET stripe.source = 'mirror'").await;
    let plan = explain(e, AGG).await;
    assert!(plan.contains("MirrorScanExec") && plan.contains(", 360"), "{plan}");
    let err = e.sql("SELECT * FROM customers").await.unwrap_err().to_string();
    assert!(err.contains("stripe.source = 'mirror'") && err.contains("customers"), "{err}");
    sql(e, "SET stripe.source = 'cache'").await;
    let bad = e.sql("SELECT id FROM charges").await.unwrap_err().to_string();
    assert!(bad.contains("stripe.source must be"), "{bad}");
}

#[tokio::test]
async fn a_join_of_mirrored_and_live_pushes_keys_to_the_live_side() {
    let (account, _dir, _) = mirrored(&["charges"]).await;
    let e = &account.engine;
    let q = "SELECT ch.id, cu.email FROM charges ch JOIN customers cu ON ch.customer = cu.id WHERE ch.amount >= 4000";
    let plan = explain(e, q).await;
    assert!(plan.contains("MirrorScanExec: table=charges"), "{plan}");
    assert!(plan.contains("StripeScanExec: table=customers") && plan.contains("keys from join on id"), "{plan}");
    let mirrored = rows(e, q).await;
    let calls = last_calls(e).await;
    assert_eq!(mirrored.len(), 2, "{mirrored:?}");
    assert!(calls.iter().all(|c| c.starts_with("GET /v1/customers/")), "retrieves by the pushed keys only: {calls:?}");
    assert!(!calls.is_empty() && calls.len() <= 2, "{calls:?}");
    sql(e, "SET stripe.source = 'live'").await;
    assert_eq!(rows(e, q).await, mirrored);
}

#[tokio::test]
async fn writes_go_to_stripe_and_are_read_back_from_the_mirror_at_once() {
    let (account, _dir, _) = mirrored(&["charges", "customers"]).await;
    let e = &account.engine;
    let id = rows(e, "SELECT id FROM customers WHERE email = 'a@example.com'").await[0][0].clone();
    sql(e, &format!("UPDATE customers SET email = 'new@example.com' WHERE id = '{id}'")).await;
    assert!(last_calls(e).await.iter().any(|c| c == &format!("POST /v1/customers/{id}")), "the write went to Stripe");
    let q = format!("SELECT email FROM customers WHERE id = '{id}'");
    assert_eq!(rows(e, &q).await, vec![vec!["new@example.com".to_string()]], "read your write from the mirror");
    assert!(last_calls(e).await.is_empty() && explain(e, &q).await.contains("MirrorScanExec"));
    sql(e, "INSERT INTO customers (email) VALUES ('added@example.com')").await;
    assert_eq!(
        rows(e, "SELECT count(*) FROM customers WHERE email = 'added@example.com'").await,
        vec![vec!["1".to_string()]]
    );
    sql(e, &format!("DELETE FROM customers WHERE id = '{id}'")).await;
    assert_eq!(rows(e, &q).await, Vec::<Vec<String>>::new(), "a deleted customer leaves the mirror");
}

#[tokio::test]
async fn update_and_delete_select_their_rows_live_under_auto() {
    let (account, _dir, _) = mirrored(&["charges", "customers"]).await;
    let e = &account.engine;
    // Created after the sync step: Stripe has it, the (fresh) mirror does not.
    let late = account.customer("late@example.com").await;
    let q = "SELECT count(*) FROM customers WHERE email = 'late@example.com'";
    assert_eq!(rows(e, q).await, vec![vec!["0".to_string()]], "auto reads the mirror, which lacks it");
    let update = "UPDATE customers SET name = 'Found' WHERE email = 'late@example.com'";
    assert!(explain(e, update).await.contains("StripeScanExec"), "{}", explain(e, update).await);
    assert_eq!(rows(e, update).await, vec![vec!["1".to_string()]], "the row to change is selected live");
    assert!(last_calls(e).await.iter().any(|c| c == &format!("POST /v1/customers/{late}")));
    let name = format!("SELECT name FROM customers WHERE id = '{late}'");
    assert_eq!(rows(e, &name).await, vec![vec!["Found".to_string()]], "the write landed in the mirror too");
    let other = account.customer("later@example.com").await;
    assert_eq!(rows(e, "DELETE FROM customers WHERE email = 'later@example.com'").await, vec![vec!["1".to_string()]]);
    assert!(last_calls(e).await.iter().any(|c| c == &format!("DELETE /v1/customers/{other}")));
}

#[tokio::test]
async fn an_actions_id_subquery_reads_live_under_auto() {
    let (account, _dir, _) = mirrored(&["charges", "customers"]).await;
    let e = &account.engine;
    // Created after the sync step: Stripe has it, the (fresh) mirror does not.
    let body = serde_json::json!({"amount": 4321, "currency": "usd", "source": "tok_visa", "capture": false});
    let ch = crate::sync::support::id(&account.post("/v1/charges", body).await);
    let q = "SELECT count(*) FROM charges WHERE amount = 4321";
    assert_eq!(rows(e, q).await, vec![vec!["0".to_string()]], "auto reads the mirror, which lacks it");
    let action = "SELECT id, captured FROM capture_charge((SELECT id FROM charges WHERE amount = 4321))";
    assert_eq!(rows(e, action).await, vec![vec![ch.clone(), "true".to_string()]], "the ids are read live");
    assert!(last_calls(e).await.iter().any(|c| c == &format!("POST /v1/charges/{ch}/capture")));
}

#[tokio::test]
async fn an_actions_answer_is_merged_into_the_mirror() {
    let (account, _dir, _) = mirrored(&["charges", "customers"]).await;
    let e = &account.engine;
    let body = serde_json::json!({"amount": 4200, "currency": "usd", "source": "tok_visa", "capture": false});
    let ch = crate::sync::support::id(&account.post("/v1/charges", body).await);
    let q = format!("SELECT captured, amount_captured FROM charges WHERE id = '{ch}'");
    assert_eq!(rows(e, &q).await, Vec::<Vec<String>>::new(), "created after the sync step: not mirrored yet");
    let captured = rows(e, &format!("SELECT captured FROM capture_charge('{ch}')")).await;
    assert_eq!(captured, vec![vec!["true".to_string()]]);
    assert_eq!(rows(e, &q).await, vec![vec!["true".to_string(), "4200".to_string()]], "the answer is in the mirror");
    assert!(last_calls(e).await.is_empty() && explain(e, &q).await.contains("MirrorScanExec"));
}
