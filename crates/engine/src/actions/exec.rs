//! `ActionExec`: the physical node of an action. All Stripe calls happen in
//! `execute` (never while planning, never under plain EXPLAIN): it reads the
//! ids (running the id subquery if there is one), sends one request per id in
//! order, and emits Stripe's answers as one batch. The whole action runs
//! before the first batch, so a LIMIT above it cannot stop it half way.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, collect};

use super::args::check_id;
use super::call::PreparedCall;
use crate::catalog::TableDef;
use crate::decode::Decoder;
use crate::provider::accounts::Routing;
use crate::stripe;

/// Where the ids come from at execution time.
#[derive(Debug, Clone)]
pub enum IdSource {
    /// Known when the statement was planned.
    Fixed(Vec<String>),
    /// The physical plan of the id subquery, run first.
    Query(Arc<dyn ExecutionPlan>),
}

/// What the rows are.
#[derive(Debug, Clone)]
pub enum Output {
    /// Stripe's answers, decoded with the result table's (projected) schema.
    Rows(Decoder),
    /// `stripe.dry_run`: the requests that would be sent (projected schema and indices).
    DryRun(SchemaRef, Vec<usize>),
}

/// Under `stripe.accounts`: how an action picks the account of each id.
#[derive(Debug, Clone)]
pub struct AccountChoice {
    /// The session's routing.
    pub routing: Arc<Routing>,
    /// `account => 'acct_…'`, for ids whose row names none.
    pub named: Option<String>,
}

/// The physical node that performs an action.
#[derive(Debug)]
pub struct ActionExec {
    call: Arc<PreparedCall>,
    client: stripe::Client,
    ids: IdSource,
    output: Output,
    accounts: Option<AccountChoice>,
    properties: Arc<PlanProperties>,
    /// Where Stripe's answers are merged into the mirror (folder, table of the
    /// answers), when the session reads one: read-your-writes, as for DML.
    write_back: Option<(crate::mirror::read::SessionMirror, Arc<TableDef>)>,
}

impl ActionExec {
    /// A node performing `call` through `client` on `ids` (under
    /// `stripe.accounts`, as the accounts `accounts` picks).
    pub fn new(
        call: Arc<PreparedCall>,
        client: stripe::Client,
        ids: IdSource,
        output: Output,
        accounts: Option<AccountChoice>,
    ) -> Self {
        let schema = match &output {
            Output::Rows(d) => d.schema(),
            Output::DryRun(s, _) => Arc::clone(s),
        };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self { call, client, ids, output, accounts, properties, write_back: None }
    }

    /// Also merges Stripe's answers (objects of table `def`) into the mirror
    /// `target` before they are returned.
    pub fn with_write_back(mut self, target: crate::mirror::read::SessionMirror, def: Arc<TableDef>) -> Self {
        self.write_back = Some((target, def));
        self
    }
}

impl DisplayAs for ActionExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let def = &self.call.def;
        let path = match &def.id_param {
            Some(p) => format!("{} ({p}=id)", def.path),
            None => def.path.clone(),
        };
        write!(f, "ActionExec: {} {} {path}", def.name, def.method)?;
        match &self.ids {
            IdSource::Fixed(ids) => write!(f, ", ids=[{}]", ids.join(", "))?,
            IdSource::Query(_) => write!(f, ", ids=<from subquery, read at execution>")?,
        }
        let params = stripe::form::readable(&stripe::form::encode(&serde_json::Value::Object(self.call.body.clone())));
        if !params.is_empty() {
            write!(f, ", params=[{params}]")?;
        }
        if matches!(self.output, Output::DryRun(..)) {
            write!(f, ", dry_run")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for ActionExec {
    fn name(&self) -> &str {
        "ActionExec"
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
            return Err(DataFusionError::Internal(format!("ActionExec has one partition, asked for {partition}")));
        }
        let (call, client, ids, output, choice) =
            (Arc::clone(&self.call), self.client.clone(), self.ids.clone(), self.output.clone(), self.accounts.clone());
        let write_back = self.write_back.clone();
        let schema = self.properties.eq_properties.schema().clone();
        let work = async move {
            let name = call.def.name.as_str();
            let (ids, given): (Vec<String>, Vec<Option<String>>) = match ids {
                IdSource::Fixed(ids) => ids.into_iter().map(|id| (id, None)).unzip(),
                IdSource::Query(plan) => query_ids(name, plan, context).await?.into_iter().unzip(),
            };
            for id in &ids {
                check_id(name, id)?;
            }
            let accounts = account_of_each(name, choice.as_ref(), given).await?;
            match output {
                Output::Rows(decoder) => {
                    let mut clients = Vec::with_capacity(ids.len());
                    for account in &accounts {
                        clients.push(match (account, &choice) {
                            (Some(account), Some(choice)) => choice.routing.client(account).await?,
                            _ => client.clone(),
                        });
                    }
                    let objects = call.run_as(&clients, &ids).await?;
                    let answered: Vec<(Option<String>, serde_json::Value)> =
                        first_account_of_each(&ids, &accounts).into_iter().zip(objects.iter().cloned()).collect();
                    if let Some((target, def)) = &write_back
                        && let Err(e) = crate::mirror::write_back::apply(target, def, &answered).await
                    {
                        // The action reached Stripe: a mirror that cannot take its answer is reported, not fatal.
                        tracing::warn!(target: "stripe_sql::mirror", "{e}");
                    }
                    decoder.decode(&objects)
                }
                Output::DryRun(schema, projection) => dry_run_batch(&call, &ids, &accounts)?
                    .project(&projection)
                    .map_err(Into::into)
                    .and_then(|b| RecordBatch::try_new(schema, b.columns().to_vec()).map_err(Into::into)),
            }
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::once(work))))
    }
}

/// The account of each distinct id, in first-seen order: how
/// [`PreparedCall::run_as`] orders its answers.
fn first_account_of_each(ids: &[String], accounts: &[Option<String>]) -> Vec<Option<String>> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().zip(accounts).filter(|(id, _)| seen.insert(id.as_str())).map(|(_, a)| a.clone()).collect()
}

/// The account each id is acted on as: its row's (`(SELECT id, account …)`),
/// else `account => …`, else the selection's only account; all checked
/// against `stripe.accounts` before anything is sent. Without the setting,
/// no account may be named.
async fn account_of_each(
    name: &str,
    choice: Option<&AccountChoice>,
    given: Vec<Option<String>>,
) -> Result<Vec<Option<String>>> {
    let Some(choice) = choice else {
        if given.iter().any(Option::is_some) {
            return Err(DataFusionError::Plan(format!(
                "{name}: the id subquery names accounts, but stripe.accounts is off (SET stripe.accounts = 'all' first)"
            )));
        }
        return Ok(given);
    };
    let mut out = Vec::with_capacity(given.len());
    for account in given {
        out.push(Some(match account.or_else(|| choice.named.clone()) {
            Some(account) => account,
            None => choice.routing.default_account(name, &format!("{name}('…', account => 'acct_…')"))?,
        }));
    }
    choice.routing.check_selected(name, out.iter().flatten().map(String::as_str)).await?;
    Ok(out)
}

/// Runs the id subquery and reads its ids (one text column, or arrays of
/// text) with, when it selects a second column `account`, each id's account.
async fn query_ids(
    name: &str,
    plan: Arc<dyn ExecutionPlan>,
    context: Arc<TaskContext>,
) -> Result<Vec<(String, Option<String>)>> {
    let mut ids = Vec::new();
    for batch in collect(plan, context).await? {
        let accounts = match batch.num_columns() {
            1 => None,
            _ => Some(cast(batch.column(1), &DataType::Utf8)?),
        };
        let account_at = |row: usize| {
            let accounts = accounts.as_ref()?.as_string::<i32>();
            accounts.is_valid(row).then(|| accounts.value(row).to_string())
        };
        let column = batch.column(0);
        // (row, its ids): an array per row (array_agg), a NULL array meaning no ids.
        let parts: Vec<(usize, ArrayRef)> = match column.data_type() {
            DataType::List(_) => {
                column.as_list::<i32>().iter().enumerate().filter_map(|(r, a)| Some((r, a?))).collect()
            }
            DataType::LargeList(_) => {
                column.as_list::<i64>().iter().enumerate().filter_map(|(r, a)| Some((r, a?))).collect()
            }
            _ => (0..batch.num_rows()).map(|r| (r, column.slice(r, 1))).collect(),
        };
        for (row, part) in parts {
            let texts = cast(&part, &DataType::Utf8)?;
            let texts = texts.as_string::<i32>();
            for i in 0..texts.len() {
                if texts.is_null(i) {
                    return Err(DataFusionError::Execution(format!(
                        "{name}: the id subquery returned a NULL id; nothing was sent"
                    )));
                }
                ids.push((texts.value(i).to_string(), account_at(row)));
            }
        }
    }
    Ok(ids)
}

fn dry_run_batch(call: &PreparedCall, ids: &[String], accounts: &[Option<String>]) -> Result<RecordBatch> {
    let requests: Vec<_> = ids.iter().map(|id| call.request(id)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(requests.iter().map(|r| r.method.clone()))),
        Arc::new(StringArray::from_iter_values(requests.iter().map(|r| r.path.clone()))),
        Arc::new(StringArray::from_iter_values(
            requests.iter().map(|r| stripe::form::readable(&stripe::form::encode(&r.params))),
        )),
        Arc::new(StringArray::from_iter(requests.iter().map(|r| r.idempotency_key.clone()))),
        Arc::new(StringArray::from_iter(accounts.iter().cloned())),
    ];
    Ok(RecordBatch::try_new(super::table::dry_run_schema(), columns)?)
}
