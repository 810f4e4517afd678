//! `AccountsScanExec`: one table's scan run once per account, as that account.
//! At most `concurrency` accounts are read at a time (`flatten_unordered`), each
//! with its own split scan, so memory stays bounded by the accounts in flight,
//! never one buffer per account. An account that fails is reported (see
//! [`super::Fanout::warn`]) and the others go on, unless the policy says fail.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use super::Fanout;
use crate::provider::scan::StripeScanExec;
use crate::pushdown::accounts::AccountSet;

/// How the fan-out behaves.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Fail the query when an account fails (`stripe.account_errors = 'fail'`).
    pub fail: bool,
    /// Accounts read at a time.
    pub concurrency: usize,
    /// Rows wanted in all (each account's scan stops there too).
    pub limit: Option<usize>,
}

/// The fanned-out scan.
#[derive(Debug)]
pub struct AccountsScanExec {
    scan: Arc<StripeScanExec>,
    schema: SchemaRef,
    /// Per output column: whether it is the `account` column.
    slots: Vec<bool>,
    accounts: AccountSet,
    fanout: Arc<Fanout>,
    policy: Policy,
    properties: Arc<PlanProperties>,
}

impl AccountsScanExec {
    /// Runs `scan` (planned for the platform) once per account of `accounts`.
    pub fn new(
        scan: Arc<StripeScanExec>,
        schema: SchemaRef,
        slots: Vec<bool>,
        accounts: AccountSet,
        fanout: Arc<Fanout>,
        policy: Policy,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { scan, schema, slots, accounts, fanout, policy, properties }
    }
}

impl DisplayAs for AccountsScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.accounts {
            AccountSet::All => write!(f, "AccountsScanExec: accounts=all")?,
            AccountSet::Only(ids) => {
                write!(f, "AccountsScanExec: accounts=[{}]", ids.iter().cloned().collect::<Vec<_>>().join(", "))?
            }
        }
        write!(f, " ({} at a time), each: ", self.policy.concurrency)?;
        self.scan.fmt_as(t, f)
    }
}

impl ExecutionPlan for AccountsScanExec {
    fn name(&self) -> &str {
        "AccountsScanExec"
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "AccountsScanExec has one partition, asked for {partition}"
            )));
        }
        let ids: BoxStream<'static, Result<String>> = match &self.accounts {
            AccountSet::All => self.fanout.every_account(),
            AccountSet::Only(ids) => futures::stream::iter(ids.clone().into_iter().map(Ok)).boxed(),
        };
        let (scan, fanout, schema, slots, policy) = (
            Arc::clone(&self.scan),
            Arc::clone(&self.fanout),
            Arc::clone(&self.schema),
            Arc::new(self.slots.clone()),
            self.policy,
        );
        let per_account = ids.map(move |id| {
            let (scan, fanout, schema, slots, context) =
                (Arc::clone(&scan), Arc::clone(&fanout), Arc::clone(&schema), Arc::clone(&slots), Arc::clone(&context));
            one_account(id, scan, fanout, schema, slots, context, policy.fail)
        });
        let mut left = policy.limit;
        let batches = per_account.flatten_unordered(policy.concurrency).map_ok(move |batch| match left.as_mut() {
            Some(n) => {
                let taken = batch.slice(0, batch.num_rows().min(*n));
                *n -= taken.num_rows();
                taken
            }
            None => batch,
        });
        let done = policy.limit == Some(0);
        let batches = batches.take_while(move |b| {
            let more = !done && !matches!(b, Ok(b) if b.num_rows() == 0 && policy.limit.is_some());
            futures::future::ready(more)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.schema), batches)))
    }
}

/// One account's rows with the `account` column filled in; its failure ends
/// its rows (reported) or, under `fail`, is the stream's error.
fn one_account(
    id: Result<String>,
    scan: Arc<StripeScanExec>,
    fanout: Arc<Fanout>,
    schema: SchemaRef,
    slots: Arc<Vec<bool>>,
    context: Arc<TaskContext>,
    fail: bool,
) -> BoxStream<'static, Result<RecordBatch>> {
    let id = match id {
        Ok(id) => id,
        Err(e) => return futures::stream::once(futures::future::ready(Err(e))).boxed(),
    };
    let (account, failed_id) = (id.clone(), id.clone());
    let warn_to = Arc::clone(&fanout);
    let started = async move {
        let platform = fanout.platform().await?;
        scan.with_client(fanout.client_for(&id, &platform)).execute(0, context)
    };
    let rows =
        futures::stream::once(started).try_flatten().map(move |batch| with_account(batch?, &account, &schema, &slots));
    rows.scan(false, move |failed, item| {
        let out = match item {
            _ if *failed => None,
            Ok(batch) => Some(Some(Ok(batch))),
            Err(e) if fail => {
                *failed = true;
                Some(Some(Err(DataFusionError::Context(format!("account {failed_id}"), Box::new(e)))))
            }
            Err(e) => {
                *failed = true;
                warn_to.warn(&failed_id, &e);
                Some(None)
            }
        };
        futures::future::ready(out)
    })
    .filter_map(futures::future::ready)
    .boxed()
}

/// `batch` (the table's own columns, in order) with the `account` column put
/// where `slots` says.
fn with_account(batch: RecordBatch, account: &str, schema: &SchemaRef, slots: &[bool]) -> Result<RecordBatch> {
    let rows = batch.num_rows();
    let mut own = batch.columns().iter();
    let ids: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(account, rows)));
    let mut columns = Vec::with_capacity(slots.len());
    for is_account in slots {
        let column = if *is_account { Some(Arc::clone(&ids)) } else { own.next().cloned() };
        columns.push(column.ok_or_else(|| DataFusionError::Internal("a scan gave fewer columns than planned".into()))?);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(Arc::clone(schema), columns, &options)?)
}
