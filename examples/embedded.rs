//! stripe-sql embedded in a Rust program, on the built-in emulator's demo
//! data (no Stripe key needed): `cargo run --example embedded`.
//!
//! With a real account use `StripeSql::builder().api_key("sk_test_...").build()`.
//! The integration tests compile this file as a module and call [`run`].

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use stripe_sql::StripeSql;

/// What the example found.
#[derive(Debug)]
pub struct Report {
    /// `count(*)` of customers through `StripeSql::sql`.
    pub customers: i64,
    /// Charges per status through a DataFrame, sorted by status.
    pub charges_by_status: Vec<(String, i64)>,
    /// `count(*)` of `stripe.customers` in a SessionContext of our own.
    pub customers_in_own_context: i64,
}

/// Runs the three ways of using the embedded API.
pub async fn run() -> stripe_sql::Result<Report> {
    // 1. A session over the demo data; SQL in, Arrow record batches out.
    let stripe = StripeSql::builder().demo().build()?;
    let batches = stripe.sql("SELECT count(*) AS n FROM customers").await?;
    let customers = batches[0].column(0).as_primitive::<Int64Type>().value(0);

    // 2. A DataFusion DataFrame, collected when we want the rows.
    let df = stripe.dataframe("SELECT status, count(*) AS n FROM charges GROUP BY status ORDER BY status").await?;
    let mut charges_by_status = Vec::new();
    for batch in df.collect().await? {
        let status = batch.column(0).as_string::<i32>();
        let n = batch.column(1).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            let name = if status.is_null(i) { "(null)".to_owned() } else { status.value(i).to_owned() };
            charges_by_status.push((name, n.value(i)));
        }
    }

    // 3. The `stripe` schema registered into a context the program already has.
    let ctx = SessionContext::new();
    stripe_sql::embedded::register(&ctx, stripe.engine().client())?;
    let own = ctx.sql("SELECT count(*) FROM stripe.customers").await?.collect().await?;
    let customers_in_own_context = own[0].column(0).as_primitive::<Int64Type>().value(0);

    Ok(Report { customers, charges_by_status, customers_in_own_context })
}

#[tokio::main]
async fn main() {
    match run().await {
        Ok(report) => {
            println!("customers: {}", report.customers);
            for (status, n) in &report.charges_by_status {
                println!("charges {status}: {n}");
            }
            println!("customers (own SessionContext): {}", report.customers_in_own_context);
        }
        Err(e) => {
            eprintln!("embedded example failed: {e}");
            std::process::exit(1);
        }
    }
}
