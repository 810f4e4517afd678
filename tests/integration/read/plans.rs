//! Read-path behaviour that `.slt` files cannot express well: EXPLAIN text,
//! COPY TO files, SHOW/DESCRIBE, and that planning alone makes no API call.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::record_batch::RecordBatch;
use stripe_sql::engine::Engine;

fn first_i64(batches: &[RecordBatch]) -> i64 {
    let col = batches[0].column(0);
    match col.data_type() {
        datafusion::arrow::datatypes::DataType::Int64 => col.as_primitive::<Int64Type>().value(0),
        datafusion::arrow::datatypes::DataType::UInt64 => {
            col.as_primitive::<datafusion::arrow::datatypes::UInt64Type>().value(0) as i64
        }
        other => panic!("expected an integer count, got {other}"),
    }
}

fn plan_text(batches: &[RecordBatch]) -> String {
    let mut out = String::new();
    for b in batches {
        let plans = b.column(1).as_string::<i32>();
        for i in 0..plans.len() {
            out.push_str(plans.value(i));
            out.push('\n');
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_shows_the_request_plan_and_makes_no_call() {
    let engine = Engine::demo().expect("demo engine");
    let log = engine.client().request_log();
    let before = log.len();
    let plan = plan_text(&engine.sql("EXPLAIN SELECT id FROM customers WHERE name = 'Jenny Rosen'").await.unwrap());
    assert!(plan.contains("search GET /v1/customers/search"), "{plan}");
    assert!(plan.contains("eventually consistent"), "{plan}");
    let plan = plan_text(
        &engine
            .sql("EXPLAIN SELECT id FROM charges WHERE customer = 'cus_1' AND created >= '2024-01-01'")
            .await
            .unwrap(),
    );
    assert!(plan.contains("list GET /v1/charges?"), "{plan}");
    assert!(plan.contains("created[gte]=1704067200") && plan.contains("customer=cus_1"), "{plan}");
    // planning a query without running it sends nothing either
    let _df = engine.dataframe("SELECT * FROM charges WHERE customer = 'cus_1'").await.unwrap();
    assert_eq!(log.len(), before, "EXPLAIN and planning must not call Stripe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_search_false_filters_locally_with_the_same_rows() {
    let engine = Engine::demo().expect("demo engine");
    let q = "SELECT count(*) FROM customers WHERE name LIKE '%Matsumoto%' AND metadata['plan'] = 'pro'";
    let with_search = first_i64(&engine.sql(q).await.unwrap());
    let calls: Vec<String> = engine.client().request_log().entries().iter().map(|e| e.path.clone()).collect();
    assert!(calls.iter().all(|p| p == "/v1/customers/search"), "{calls:?}");
    engine.sql("SET stripe.use_search = false").await.unwrap();
    let start = engine.client().request_log().len() as u64;
    let without = first_i64(&engine.sql(q).await.unwrap());
    let paths: Vec<String> = engine.client().request_log().since(start).iter().map(|e| e.path.clone()).collect();
    // The split scan asks once per session when the account was created (its ranges' floor).
    let lists = paths.iter().filter(|p| *p != "/v1/account");
    assert!(paths.iter().filter(|p| *p == "/v1/account").count() <= 1, "{paths:?}");
    assert!(!paths.is_empty() && lists.clone().all(|p| p == "/v1/customers"), "{paths:?}");
    assert_eq!(with_search, without);
    assert!(with_search > 0, "the demo data has pro customers named Matsumoto");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_parquet_csv_and_json_round_trips() {
    let engine = Engine::demo().expect("demo engine");
    let dir = tempfile::tempdir().unwrap();
    let expected = first_i64(&engine.sql("SELECT count(*) FROM charges WHERE created >= '2026-06-01'").await.unwrap());
    assert!(expected > 0);
    for format in ["parquet", "csv", "json"] {
        let path = dir.path().join(format!("charges.{format}"));
        let copied = engine
            .sql(&format!(
                "COPY (SELECT id, amount, created FROM charges WHERE created >= '2026-06-01') TO '{}' STORED AS {}",
                path.display(),
                format.to_uppercase()
            ))
            .await
            .unwrap();
        assert_eq!(first_i64(&copied), expected, "{format}: rows written");
        let ctx = datafusion::prelude::SessionContext::new();
        let read_back = match format {
            "parquet" => ctx.read_parquet(path.to_str().unwrap(), Default::default()).await,
            "csv" => ctx.read_csv(path.to_str().unwrap(), Default::default()).await,
            _ => ctx.read_json(path.to_str().unwrap(), Default::default()).await,
        }
        .unwrap()
        .count()
        .await
        .unwrap();
        assert_eq!(read_back as i64, expected, "{format}: rows read back");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_tables_and_describe_list_the_catalog() {
    let engine = Engine::demo().expect("demo engine");
    let tables = engine.sql("SHOW TABLES").await.unwrap();
    let rows: usize = tables.iter().map(|b| b.num_rows()).sum();
    assert!(rows >= 65, "SHOW TABLES lists {rows} rows");
    let describe = engine.sql("DESCRIBE charges").await.unwrap();
    let names = describe[0].column(0).as_string::<i32>();
    let types = describe[0].column(1).as_string::<i32>();
    let arrow = describe[0].column(2).as_string::<i32>();
    let find = |n: &str| {
        (0..names.len())
            .find(|&i| names.value(i) == n)
            .map(|i| (types.value(i).to_string(), arrow.value(i).to_string()))
    };
    assert_eq!(find("amount"), Some(("bigint".into(), "Int64".into())));
    assert_eq!(find("created"), Some(("timestamptz".into(), "Timestamp(s, \"UTC\")".into())));
    assert_eq!(find("_raw"), Some(("json".into(), "Utf8".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_object_is_no_row_and_a_nested_table_needs_its_parent() {
    let engine = Engine::demo().expect("demo engine");
    let n = first_i64(&engine.sql("SELECT count(*) FROM charges WHERE id = 'ch_doesnotexist'").await.unwrap());
    assert_eq!(n, 0);
    let last = engine.client().request_log().entries();
    assert_eq!(last.last().and_then(|e| e.status), Some(404));
    let err = engine.sql("SELECT * FROM invoice_lines").await.unwrap_err().to_string();
    assert!(err.contains("WHERE invoice ="), "{err}");
}
