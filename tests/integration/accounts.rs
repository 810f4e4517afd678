//! Connect platforms as one set of tables (`stripe.accounts`): exact totals
//! across accounts, an account failing mid-scan, `account = …` pushdown, and
//! the tables unchanged while the setting is off; writes and actions sent as
//! each row's account; one rate budget per account for every session.

mod budgets;
mod fanout;
mod pushdown;
mod warnings;
mod writes;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use stripe_sql::emulator::EmulatorConfig;
use stripe_sql::engine::Engine;

/// An engine over an emulator serving the demo platform with `accounts`
/// connected accounts.
pub fn platform(accounts: u32) -> Engine {
    Engine::with_emulator(EmulatorConfig { accounts, ..EmulatorConfig::demo() }, |_| {}).expect("emulator starts")
}

/// The rows of `sql` as strings, one `Vec` per row (NULL becomes "NULL").
pub async fn rows(engine: &Engine, sql: &str) -> Vec<Vec<String>> {
    let batches = engine.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = vec![];
    for b in &batches {
        let cols: Vec<_> = b.columns().iter().map(|c| cast(c, &DataType::Utf8).expect("cast")).collect();
        for r in 0..b.num_rows() {
            out.push(
                cols.iter()
                    .map(|c| if c.is_null(r) { "NULL".into() } else { c.as_string::<i32>().value(r).to_string() })
                    .collect(),
            );
        }
    }
    out
}

/// The one value of `sql` as an integer.
pub async fn number(engine: &Engine, sql: &str) -> i64 {
    rows(engine, sql).await[0][0].parse().unwrap_or_else(|e| panic!("{sql}: {e}"))
}
