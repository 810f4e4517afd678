//! `WriteExec`: the physical plan of INSERT/UPDATE/DELETE. Planning builds it
//! without any API call; `execute` computes the calls (reading rows through
//! the job's input), validates all of them, then sends them (or, in dry run,
//! only records them) and yields one row `count: UInt64`.
//!
//! Rows are sent concurrently (`stripe.max_concurrency`). After the first
//! failure no further row is started (rows already in flight finish); the
//! statement then fails with a report of written / failed / not attempted rows.
//! Each row's POST carries its own idempotency key, fixed for the statement's
//! execution, so the client's retries of that row reuse it.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::StreamExt;
use serde_json::{Map, Value};

use crate::catalog::TableDef;
use crate::dml::params::invalid;
use crate::dml::policy::WriteContext;
use crate::dml::report::{Call, RowOutcome, WriteReport};
use crate::stripe;

/// What one write statement does, computed only at execution time.
#[async_trait]
pub trait WriteJob: fmt::Debug + Send + Sync {
    /// `insert into customers`, `update customers`, `delete from customers`.
    fn statement(&self) -> String;
    /// The calls to make, validated (an error here means nothing was sent).
    async fn calls(&self, ctx: Arc<TaskContext>) -> Result<Vec<Call>>;
}

/// The plan node returned by the DML hooks.
#[derive(Debug)]
pub struct WriteExec {
    job: Arc<dyn WriteJob>,
    ctx: WriteContext,
    properties: Arc<PlanProperties>,
}

impl WriteExec {
    /// A write node for `job` in context `ctx`.
    pub fn new(job: Arc<dyn WriteJob>, ctx: WriteContext) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(count_schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self { job, ctx, properties }
    }
}

/// The one-column schema every DML plan yields.
pub fn count_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("count", DataType::UInt64, false)]))
}

impl DisplayAs for WriteExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "StripeWriteExec: {}", self.job.statement())?;
        if self.ctx.options.dry_run {
            write!(f, " (dry run)")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for WriteExec {
    fn name(&self) -> &str {
        "StripeWriteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("StripeWriteExec has one partition, asked for {partition}")));
        }
        let job = Arc::clone(&self.job);
        let ctx = self.ctx.clone();
        let run = async move {
            let calls = job.calls(context).await?;
            let count = run_calls(&ctx, job.statement(), calls).await?;
            let column = Arc::new(UInt64Array::from(vec![count]));
            Ok(RecordBatch::try_new(count_schema(), vec![column])?)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(count_schema(), futures::stream::once(run))))
    }
}

/// Sends `calls` (or records them in dry run) and returns the number of rows written.
async fn run_calls(ctx: &WriteContext, statement: String, calls: Vec<Call>) -> Result<u64> {
    if ctx.options.dry_run {
        for call in &calls {
            tracing::info!(target: "stripe_sql::dml", "dry run: {} {} {}", call.method, call.path, call.encoded_params());
        }
        let rows = calls.into_iter().map(|c| (c, RowOutcome::Planned)).collect();
        ctx.journal.record(WriteReport { statement, table: ctx.def.name.clone(), rows });
        return Ok(0);
    }
    let clients = clients(ctx, &calls).await?;
    let statement_key = format!("stripe-sql-{:032x}", rand::random::<u128>());
    let failed = Arc::new(AtomicBool::new(false));
    let concurrency = (ctx.options.max_concurrency.max(1)) as usize;
    let mut rows: Vec<(Call, RowOutcome)> = futures::stream::iter(calls)
        .map(|call| {
            let client = match &call.account {
                Some(account) => clients.get(account).cloned().unwrap_or_else(|| ctx.client.clone()),
                None => ctx.client.clone(),
            };
            let failed = Arc::clone(&failed);
            let key = format!("{statement_key}-{}", call.row);
            async move {
                if failed.load(Ordering::SeqCst) {
                    return (call, RowOutcome::NotAttempted);
                }
                let result = send(&client, &call, &key).await;
                let outcome = RowOutcome::from_result(&call, result);
                if matches!(outcome, RowOutcome::Failed { .. }) {
                    failed.store(true, Ordering::SeqCst);
                }
                (call, outcome)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    rows.sort_by_key(|(c, _)| c.row);
    if let Some(target) = &ctx.mirror {
        let objects: Vec<(Option<String>, Value)> = rows
            .iter()
            .filter_map(|(call, o)| match o {
                RowOutcome::Written { object, .. } => Some((call.account.clone(), object.clone())),
                _ => None,
            })
            .collect();
        // The write reached Stripe: a mirror that cannot take it is reported, not fatal.
        if let Err(e) = crate::mirror::write_back::apply(target, &ctx.def, &objects).await {
            tracing::warn!(target: "stripe_sql::mirror", "{e}");
        }
    }
    let report = WriteReport { statement, table: ctx.def.name.clone(), rows };
    ctx.journal.record(report.clone());
    if report.has_failures() {
        return Err(DataFusionError::Execution(report.failure_summary()));
    }
    Ok(report.count("written") as u64)
}

/// One client per account the calls name, acting as it (checked against the
/// selection first: nothing is sent when one is not selected).
async fn clients(ctx: &WriteContext, calls: &[Call]) -> Result<HashMap<String, stripe::Client>> {
    let mut out = HashMap::new();
    let Some(routing) = &ctx.routing else { return Ok(out) };
    let accounts: BTreeSet<&str> = calls.iter().filter_map(|c| c.account.as_deref()).collect();
    routing.check_selected(&format!("write to {}", ctx.def.name), accounts.iter().copied()).await?;
    for account in accounts {
        out.insert(account.to_string(), routing.client(account).await?);
    }
    Ok(out)
}

async fn send(client: &stripe::Client, call: &Call, key: &str) -> std::result::Result<Value, stripe::ApiError> {
    match call.method.as_str() {
        "DELETE" => client.delete(&call.path, &call.params).await,
        _ => client.post_with_key(&call.path, &call.params, key).await,
    }
}

/// An empty params object.
pub fn no_params() -> Value {
    Value::Object(Map::new())
}

/// The account of each row of a targeted batch under `stripe.accounts`
/// (`None` per row when the session has no account routing).
pub fn accounts(batch: &RecordBatch, ctx_routing: bool, def: &TableDef) -> Result<Vec<Option<String>>> {
    if !ctx_routing {
        return Ok(vec![None; batch.num_rows()]);
    }
    let table = &def.name;
    let column = batch
        .schema()
        .index_of(crate::pushdown::accounts::account_column(def))
        .map(|i| Arc::clone(batch.column(i)))
        .map_err(|_| invalid(format!("table {table}: the rows to change have no account column")))?;
    let strings = column
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| invalid(format!("table {table}: the account column is not text")))?;
    Ok((0..strings.len()).map(|i| strings.is_valid(i).then(|| strings.value(i).to_string())).collect())
}

/// The `id` column of a targeted batch.
pub fn ids(batch: &RecordBatch, table: &str) -> Result<Vec<String>> {
    let index = batch
        .schema()
        .index_of("id")
        .map_err(|_| invalid(format!("table {table} has no id column: its rows cannot be updated or deleted")))?;
    let column = batch.column(index);
    let strings = column
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| invalid(format!("table {table}: the id column is not text")))?;
    Ok((0..strings.len()).map(|i| strings.value(i).to_string()).collect())
}
