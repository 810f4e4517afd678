//! `ActionTable`: what an action's table function returns at planning time.
//! It holds the validated call and sends nothing; its `scan` builds an
//! [`ActionExec`], which makes the calls when the plan executes.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::args::Ids;
use super::call::PreparedCall;
use super::exec::{AccountChoice, ActionExec, IdSource, Output};
use crate::catalog::ArrowSchema;
use crate::catalog::TableDef;
use crate::decode::Decoder;
use crate::stripe;

/// The rows of one planned action call.
#[derive(Debug)]
pub struct ActionTable {
    call: Arc<PreparedCall>,
    client: stripe::Client,
    ids: Ids,
    result: Arc<TableDef>,
    dry_run: bool,
    schema: SchemaRef,
    accounts: Option<AccountChoice>,
}

impl ActionTable {
    /// A table for `call` on `ids`, whose rows take `result`'s schema (or, when
    /// `dry_run`, describe the requests instead of sending them).
    pub fn new(call: PreparedCall, client: stripe::Client, ids: Ids, result: Arc<TableDef>, dry_run: bool) -> Self {
        let schema = if dry_run { dry_run_schema() } else { result.arrow_schema() };
        Self { call: Arc::new(call), client, ids, result, dry_run, schema, accounts: None }
    }

    /// The same call made as the accounts `accounts` picks (`stripe.accounts`).
    pub fn with_accounts(mut self, accounts: Option<AccountChoice>) -> Self {
        self.accounts = accounts;
        self
    }
}

/// Columns of a dry run: one row per request that would be sent (and, under
/// `stripe.accounts`, the account it would be sent as).
pub fn dry_run_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("method", DataType::Utf8, false),
        Field::new("path", DataType::Utf8, false),
        Field::new("params", DataType::Utf8, false),
        Field::new("idempotency_key", DataType::Utf8, true),
        Field::new("account", DataType::Utf8, true),
    ]))
}

#[async_trait]
impl TableProvider for ActionTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    /// Plans the calls; nothing is sent (EXPLAIN and unexecuted plans reach here).
    /// An id subquery is planned here and run by the exec.
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let ids = match &self.ids {
            Ids::One(id) => IdSource::Fixed(vec![id.clone()]),
            Ids::Many(ids) => IdSource::Fixed(ids.clone()),
            // The ids an action acts on are read live, as UPDATE/DELETE rows
            // are, not from a mirror up to `max_staleness` behind.
            Ids::Query(plan) => IdSource::Query(match crate::dml::exact::live_session(state) {
                Some(live) => live.create_physical_plan(plan).await?,
                None => state.create_physical_plan(plan).await?,
            }),
        };
        let output = if self.dry_run {
            let projection = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
            Output::DryRun(Arc::new(self.schema.project(&projection)?), projection)
        } else {
            Output::Rows(Decoder::new(&self.result, projection.map(|p| p.as_slice())))
        };
        let mut exec = ActionExec::new(Arc::clone(&self.call), self.client.clone(), ids, output, self.accounts.clone());
        if !self.dry_run
            && let Some(target) = crate::mirror::read::session_mirror(state)
        {
            exec = exec.with_write_back(target, Arc::clone(&self.result));
        }
        Ok(Arc::new(exec))
    }
}
