//! INSERT → one create call per input row.
//!
//! DataFusion hands the provider every column in table order and fills the
//! columns the statement did not name with NULL, so NULL means "not sent".
//! `_raw` takes a JSON object of extra create params (those without a column).
//! Under `stripe.accounts` the `account` column says which account a row is
//! created in (required unless exactly one account is selected; it must be
//! one of the selected accounts) and is not sent as a param.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::{ExecutionPlan, collect};
use serde_json::{Map, Value};

use crate::catalog::TableDef;
use crate::dml::exec::{WriteExec, WriteJob};
use crate::dml::params::{self, NullMeaning, invalid};
use crate::dml::policy::WriteContext;
use crate::dml::report::Call;
use crate::provider::accounts::Routing;
use crate::provider::inserts::InsertPlanner;
use crate::stripe;

/// The [`InsertPlanner`] `engine::register` installs for the providers:
/// `INSERT INTO def …` with `input` rows becomes one create call per row when
/// the plan runs (planning sends nothing).
#[derive(Debug, Default)]
pub struct CreateCalls;

impl InsertPlanner for CreateCalls {
    fn plan(
        &self,
        def: Arc<TableDef>,
        client: stripe::Client,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let ctx = WriteContext::plan(def, client, state, "insert into")?;
        if op != InsertOp::Append {
            return Err(invalid(format!(
                "{op} into {} is not supported: stripe tables take plain INSERT INTO (one create call per row)",
                ctx.def.name
            )));
        }
        if ctx.def.create.is_none() {
            return Err(invalid(format!(
                "insert into {} is not possible: stripe has no create endpoint for it",
                ctx.def.name
            )));
        }
        let job = InsertJob { def: Arc::clone(&ctx.def), input, routing: ctx.routing.clone() };
        Ok(Arc::new(WriteExec::new(Arc::new(job), ctx)))
    }
}

#[derive(Debug)]
struct InsertJob {
    def: Arc<TableDef>,
    input: Arc<dyn ExecutionPlan>,
    /// Under `stripe.accounts`: each row goes to its `account` column's account.
    routing: Option<Arc<Routing>>,
}

#[async_trait]
impl WriteJob for InsertJob {
    fn statement(&self) -> String {
        format!("insert into {}", self.def.name)
    }

    async fn calls(&self, ctx: Arc<TaskContext>) -> Result<Vec<Call>> {
        let create = self.def.create.as_ref().ok_or_else(|| invalid("the table has no create endpoint"))?;
        let what = self.statement();
        let batches = collect(Arc::clone(&self.input), ctx).await?;
        let mut calls = Vec::new();
        for batch in batches {
            let schema = batch.schema();
            for row in 0..batch.num_rows() {
                let mut body = Map::new();
                let mut account: Option<String> = None;
                for (field, column) in schema.fields().iter().zip(batch.columns()) {
                    let value = params::cell_json(column, row)?;
                    if self.routing.is_some() && field.name() == crate::pushdown::accounts::account_column(&self.def) {
                        account = value.as_ref().and_then(|v| v.as_str()).map(String::from);
                        continue;
                    }
                    params::add_column(&mut body, create, &what, field.name(), value, NullMeaning::Omit)?;
                }
                let number = calls.len() + 1;
                params::check_required(&body, create, &what, number)?;
                let account = match &self.routing {
                    None => None,
                    Some(routing) => Some(match account {
                        Some(account) => {
                            routing.check_shape(&format!("{what}, row {number}"), &account)?;
                            account
                        }
                        None => routing.default_account(
                            &format!("{what}, row {number} has no account"),
                            "INSERT INTO … (account, …) VALUES ('acct_…', …)",
                        )?,
                    }),
                };
                calls.push(Call {
                    row: number,
                    method: "POST".into(),
                    path: create.path.clone(),
                    params: Value::Object(body),
                    target: None,
                    account,
                });
            }
        }
        Ok(calls)
    }
}
