//! `ActionExec`: the physical node of an action. All Stripe calls happen in
//! `execute` (never while planning, never under plain EXPLAIN): it reads the
//! ids (running the id subquery if there is one), sends one request per id in
//! order, and emits Stripe's answers as one batch. The whole action runs
//! before the first batch, so a LIMIT above it cannot stop it half way.

use std::any::Any;
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

/// The physical node that performs an action.
#[derive(Debug)]
pub struct ActionExec {
    call: Arc<PreparedCall>,
    client: stripe::Client,
    ids: IdSource,
    output: Output,
    properties: Arc<PlanProperties>,
    /// Where Stripe's answers are merged into the mirror (folder, table of the
    /// answers), when the session reads one: read-your-writes, as for DML.
    write_back: Option<(std::path::PathBuf, Arc<TableDef>)>,
}

impl ActionExec {
    /// A node performing `call` through `client` on `ids`.
    pub fn new(call: Arc<PreparedCall>, client: stripe::Client, ids: IdSource, output: Output) -> Self {
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
        Self { call, client, ids, output, properties, write_back: None }
    }

    /// Also merges Stripe's answers (objects of table `def`) into the mirror
    /// in `dir` before they are returned.
    pub fn with_write_back(mut self, dir: std::path::PathBuf, def: Arc<TableDef>) -> Self {
        self.write_back = Some((dir, def));
        self
    }

    /// Lets tests downcast a plan node.
    pub fn as_any(&self) -> &dyn Any {
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
        let (call, client, ids, output) =
            (Arc::clone(&self.call), self.client.clone(), self.ids.clone(), self.output.clone());
        let write_back = self.write_back.clone();
        let schema = self.properties.eq_properties.schema().clone();
        let work = async move {
            let ids = match ids {
                IdSource::Fixed(ids) => ids,
                IdSource::Query(plan) => query_ids(&call.def.name, plan, context).await?,
            };
            for id in &ids {
                check_id(&call.def.name, id)?;
            }
            match output {
                Output::Rows(decoder) => {
                    let objects = call.run_all(&client, &ids).await?;
                    if let Some((dir, def)) = &write_back
                        && let Err(e) = crate::mirror::write_back::apply(dir, def, &objects).await
                    {
                        // The action reached Stripe: a mirror that cannot take its answer is reported, not fatal.
                        tracing::warn!(target: "stripe_sql::mirror", "{e}");
                    }
                    decoder.decode(&objects)
                }
                Output::DryRun(schema, projection) => dry_run_batch(&call, &ids)?
                    .project(&projection)
                    .map_err(Into::into)
                    .and_then(|b| RecordBatch::try_new(schema, b.columns().to_vec()).map_err(Into::into)),
            }
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::once(work))))
    }
}

/// Runs the id subquery and reads its ids: one text column, or arrays of text.
async fn query_ids(name: &str, plan: Arc<dyn ExecutionPlan>, context: Arc<TaskContext>) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for batch in collect(plan, context).await? {
        let column = batch.column(0);
        let parts: Vec<ArrayRef> = match column.data_type() {
            // An array per row (array_agg): a NULL array means no ids.
            DataType::List(_) => column.as_list::<i32>().iter().flatten().collect(),
            DataType::LargeList(_) => column.as_list::<i64>().iter().flatten().collect(),
            _ => vec![Arc::clone(column)],
        };
        for part in parts {
            let texts = cast(&part, &DataType::Utf8)?;
            let texts = texts.as_string::<i32>();
            for i in 0..texts.len() {
                if texts.is_null(i) {
                    return Err(DataFusionError::Execution(format!(
                        "{name}: the id subquery returned a NULL id; nothing was sent"
                    )));
                }
                ids.push(texts.value(i).to_string());
            }
        }
    }
    Ok(ids)
}

fn dry_run_batch(call: &PreparedCall, ids: &[String]) -> Result<RecordBatch> {
    let requests: Vec<_> = ids.iter().map(|id| call.request(id)).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(requests.iter().map(|r| r.method.clone()))),
        Arc::new(StringArray::from_iter_values(requests.iter().map(|r| r.path.clone()))),
        Arc::new(StringArray::from_iter_values(
            requests.iter().map(|r| stripe::form::readable(&stripe::form::encode(&r.params))),
        )),
        Arc::new(StringArray::from_iter(requests.iter().map(|r| r.idempotency_key.clone()))),
    ];
    Ok(RecordBatch::try_new(super::table::dry_run_schema(), columns)?)
}
