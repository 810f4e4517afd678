//! DELETE → one delete call per targeted row, with the resource's meaning:
//! `DELETE /v1/customers/{id}` deletes, `DELETE /v1/subscriptions/{id}`
//! cancels. Tables Stripe cannot delete (prices, charges, …) get an error
//! naming the alternative (`delete_hint`).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{ExecutionPlan, collect};

use crate::catalog::TableDef;
use crate::dml::exec::{WriteExec, WriteJob, no_params};
use crate::dml::params::invalid;
use crate::dml::policy::WriteContext;
use crate::dml::report::Call;
use crate::pushdown;

/// A DELETE of the rows `rows` yields (rows with an `id` column).
pub fn plan_rows(ctx: WriteContext, rows: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    check_deletable(&ctx)?;
    let job = DeleteJob { def: Arc::clone(&ctx.def), rows, routed: ctx.routing.is_some() };
    Ok(Arc::new(WriteExec::new(Arc::new(job), ctx)))
}

fn check_deletable(ctx: &WriteContext) -> Result<()> {
    if ctx.def.delete.is_some() {
        return Ok(());
    }
    let hint = match &ctx.def.delete_hint {
        Some(h) => format!(": {h}"),
        None => String::new(),
    };
    Err(invalid(format!(
        "delete from {} is not possible: stripe has no delete for {}{hint}",
        ctx.def.name, ctx.def.name
    )))
}

#[derive(Debug)]
struct DeleteJob {
    def: Arc<TableDef>,
    rows: Arc<dyn ExecutionPlan>,
    /// Each row's call goes to the row's `account` (`stripe.accounts`).
    routed: bool,
}

#[async_trait]
impl WriteJob for DeleteJob {
    fn statement(&self) -> String {
        format!("delete from {}", self.def.name)
    }

    async fn calls(&self, ctx: Arc<TaskContext>) -> Result<Vec<Call>> {
        let delete = self.def.delete.as_ref().ok_or_else(|| invalid("the table has no delete endpoint"))?;
        let mut calls = Vec::new();
        for batch in collect(Arc::clone(&self.rows), ctx).await? {
            let ids = crate::dml::exec::ids(&batch, &self.def.name)?;
            let accounts = crate::dml::exec::accounts(&batch, self.routed, &self.def)?;
            for (id, account) in ids.into_iter().zip(accounts) {
                calls.push(Call {
                    row: calls.len() + 1,
                    method: delete.method.clone(),
                    path: pushdown::retrieve_path(&delete.path, &id),
                    params: no_params(),
                    target: Some(id),
                    account,
                });
            }
        }
        Ok(calls)
    }
}
