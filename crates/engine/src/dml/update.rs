//! UPDATE → one update call per targeted row.
//!
//! The targeted rows come from the statement's own plan ([`crate::dml::exact`]); each assignment is
//! evaluated on the scanned row, so `SET description = description || ' (vip)'`
//! uses the old value. `SET metadata = MAP {…}` merges keys (Stripe's update
//! semantics); a key mapped to NULL or '' is removed. `SET col = NULL` sends
//! `""` where Stripe can unset the field, and is refused otherwise.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{ExecutionPlan, collect};
use serde_json::{Map, Value};

use crate::catalog::TableDef;
use crate::dml::exec::{WriteExec, WriteJob};
use crate::dml::params::{self, NullMeaning, RAW_COLUMN, invalid};
use crate::dml::policy::WriteContext;
use crate::dml::report::Call;
use crate::pushdown;

/// An UPDATE over the rows `rows` yields (full table rows with an `id`),
/// setting each column to its expression evaluated on the row.
pub fn plan_rows(
    ctx: WriteContext,
    rows: Arc<dyn ExecutionPlan>,
    assignments: Vec<(String, Arc<dyn PhysicalExpr>)>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let what = format!("update {}", ctx.def.name);
    let Some(update) = ctx.def.update.as_ref() else {
        return Err(invalid(format!("{what} is not possible: stripe has no update endpoint for it")));
    };
    if ctx.routing.is_some()
        && assignments.iter().any(|(c, _)| c == crate::pushdown::accounts::account_column(&ctx.def))
    {
        return Err(invalid(format!(
            "{what}: the account column cannot be changed (an object stays in the account it was created in)"
        )));
    }
    for (column, _) in &assignments {
        if column == "id" {
            return Err(invalid(format!("{what}: column id cannot be changed")));
        }
        if column != RAW_COLUMN {
            params::writable(update, &what, column)?;
        }
    }
    let routed = ctx.routing.is_some();
    let job = UpdateJob { def: Arc::clone(&ctx.def), rows, assignments, routed };
    Ok(Arc::new(WriteExec::new(Arc::new(job), ctx)))
}

#[derive(Debug)]
struct UpdateJob {
    def: Arc<TableDef>,
    rows: Arc<dyn ExecutionPlan>,
    assignments: Vec<(String, Arc<dyn PhysicalExpr>)>,
    /// Each row's call goes to the row's `account` (`stripe.accounts`).
    routed: bool,
}

#[async_trait]
impl WriteJob for UpdateJob {
    fn statement(&self) -> String {
        format!("update {}", self.def.name)
    }

    async fn calls(&self, ctx: Arc<TaskContext>) -> Result<Vec<Call>> {
        let update = self.def.update.as_ref().ok_or_else(|| invalid("the table has no update endpoint"))?;
        let what = self.statement();
        let mut calls = Vec::new();
        for batch in collect(Arc::clone(&self.rows), ctx).await? {
            let ids = crate::dml::exec::ids(&batch, &self.def.name)?;
            let accounts = crate::dml::exec::accounts(&batch, self.routed, &self.def)?;
            let mut values = Vec::with_capacity(self.assignments.len());
            for (column, expr) in &self.assignments {
                values.push((column, expr.evaluate(&batch)?.into_array(batch.num_rows())?));
            }
            for (row, (id, account)) in ids.into_iter().zip(accounts).enumerate() {
                let mut body = Map::new();
                for (column, array) in &values {
                    let value = params::cell_json(array, row)?;
                    params::add_column(&mut body, update, &what, column, value, NullMeaning::Unset)?;
                }
                calls.push(Call {
                    row: calls.len() + 1,
                    method: "POST".into(),
                    path: pushdown::retrieve_path(&update.path, &id),
                    params: Value::Object(body),
                    target: Some(id),
                    account,
                });
            }
        }
        Ok(calls)
    }
}
