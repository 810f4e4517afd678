//! The embedded API example (examples/embedded.rs), compiled here as a module
//! so CI runs its body on demo data; `cargo test` also builds it as an example.

#[allow(dead_code)]
#[path = "../../examples/embedded.rs"]
mod example;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_example_runs_on_demo_data() {
    let report = example::run().await.expect("the embedded example runs");
    let engine = stripe_sql::engine::Engine::demo().unwrap();
    let batches = engine.sql("select count(*) from charges").await.unwrap();
    let charges =
        batches[0].column(0).as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().unwrap().value(0);
    assert!(report.customers > 0, "{report:?}");
    assert_eq!(report.customers, report.customers_in_own_context, "{report:?}");
    assert_eq!(report.charges_by_status.iter().map(|(_, n)| n).sum::<i64>(), charges, "{report:?}");
    assert!(report.charges_by_status.windows(2).all(|w| w[0].0 <= w[1].0), "{report:?}");
}
