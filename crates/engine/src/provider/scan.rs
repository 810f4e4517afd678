//! `StripeScanExec`: the physical scan of a Stripe table. It holds the request
//! plan decided at planning time and makes the API calls only in `execute`,
//! streaming one RecordBatch per page.

use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::common::Statistics;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::{Column, DynamicFilterPhysicalExpr};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation, PushedDown,
};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};

use crate::catalog::{FilterKind, TableDef};
use crate::provider::join_keys::JoinKeys;
use crate::provider::metrics::ScanCounters;
pub use crate::provider::spec::ScanSpec;
use crate::provider::{estimate, fetch};
use crate::pushdown::RequestPlan;
use crate::stripe;
use futures::TryStreamExt;

/// The physical scan node.
#[derive(Debug)]
pub struct StripeScanExec {
    def: Arc<TableDef>,
    client: stripe::Client,
    spec: ScanSpec,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    /// Dynamic filters DataFusion pushed into the scan (a hash join's keys, a
    /// TopK's threshold); unused until `provider::join_rule` binds a join's.
    offered: Vec<Arc<DynamicFilterPhysicalExpr>>,
    /// The join whose keys this scan waits for when it runs.
    join: Option<Arc<JoinKeys>>,
}

impl StripeScanExec {
    /// A scan of `def` through `client` following `spec`.
    pub fn new(def: Arc<TableDef>, client: stripe::Client, spec: ScanSpec) -> Self {
        let schema = Arc::clone(&spec.output_schema);
        let equivalences = match natural_ordering(&def, &spec) {
            Some(order) => EquivalenceProperties::new_with_orderings(schema, [order]),
            None => EquivalenceProperties::new(schema),
        };
        let properties = Arc::new(PlanProperties::new(
            equivalences,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { def, client, spec, properties, metrics: ExecutionPlanMetricsSet::new(), offered: Vec::new(), join: None }
    }

    /// A scan like this one (same offered and bound join filters) following `spec`.
    fn derive(&self, spec: ScanSpec) -> Self {
        let keep = spec.limit.is_none();
        let mut scan = StripeScanExec::new(Arc::clone(&self.def), self.client.clone(), spec);
        if keep {
            scan.offered = self.offered.clone();
            scan.join = self.join.clone();
        }
        scan
    }

    /// This scan fetching through `client` instead (a connected account's).
    pub fn with_client(&self, client: stripe::Client) -> Self {
        let mut scan = StripeScanExec::new(Arc::clone(&self.def), client, self.spec.clone());
        scan.offered = self.offered.clone();
        scan.join = self.join.clone();
        scan
    }

    /// What the scan does when it runs.
    pub fn spec(&self) -> &ScanSpec {
        &self.spec
    }

    /// The table this scan reads.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The join this scan takes its keys from, if any.
    pub fn join_keys(&self) -> Option<&JoinKeys> {
        self.join.as_deref()
    }

    /// This scan taking its keys from the join whose dynamic filter has one of
    /// `join_filters`' ids (at most `max_keys` keys); `None` when no offered
    /// filter is such a join's, or the scan cannot use one. A scan with a limit
    /// or a declared order does not: keys change which rows come first.
    pub fn bind_join(&self, join_filters: &HashSet<u64>, max_keys: usize) -> Option<Self> {
        if self.join.is_some() || self.spec.limit.is_some() || self.properties.output_ordering().is_some() {
            return None;
        }
        let keys = self.offered.iter().filter(|f| f.expression_id().is_some_and(|id| join_filters.contains(&id)));
        let usable: Vec<JoinKeys> = keys.filter_map(|f| JoinKeys::bind(f, max_keys)).collect();
        // Several joins may reach one scan; the parent column of a nested table
        // first (without it the scan cannot run), else `id`, else the first.
        let parent = self.def.parent.as_ref().map(|p| p.column.as_str());
        let rank = |k: &JoinKeys| match k.column.as_str() {
            c if Some(c) == parent => 0,
            "id" => 1,
            _ => 2,
        };
        let best = usable.into_iter().min_by_key(rank)?;
        let mut scan = self.derive(self.spec.clone());
        scan.join = Some(Arc::new(best));
        Some(scan)
    }
}

/// Stripe lists top-level objects newest first. When the scan is one sequential
/// list walk (no fan-out merge, no search, no retrieve, not split into ranges)
/// of a table with a `created` range filter and `created` is projected, its rows
/// come ordered by `created DESC`: declaring it lets DataFusion drop
/// `ORDER BY created DESC` and push its LIMIT into the scan (see `with_fetch`).
/// A scan split into ranges declares no order; under `ORDER BY created DESC`
/// the optimizer rule [`crate::provider::order`] turns it back into the
/// sequential walk (the one mechanism for sort order).
fn natural_ordering(def: &TableDef, spec: &ScanSpec) -> Option<[PhysicalSortExpr; 1]> {
    let ranged = def.list_filters.iter().any(|f| f.param == "created" && matches!(f.kind, FilterKind::Range));
    let one_walk = matches!(&spec.plan, RequestPlan::List { requests, .. } if requests.len() == 1);
    if def.parent.is_some() || !ranged || !one_walk || spec.concurrency > 1 {
        return None;
    }
    let index = spec.output_schema.index_of("created").ok()?;
    let created = Arc::new(Column::new("created", index));
    Some([PhysicalSortExpr::new(created, SortOptions { descending: true, nulls_first: true })])
}

impl DisplayAs for StripeScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "StripeScanExec: table={}, requests=[{}]", self.def.name, self.spec.plan)?;
        if let Some(join) = &self.join {
            write!(
                f,
                ", keys from join on {} (up to {} keys, at run time: one call per key; more keys: the requests above)",
                join.column, join.max_keys
            )?;
            if let Some(outcome) = join.outcome.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                write!(f, " [last run: {outcome}]")?;
            }
        }
        if !self.spec.residual.is_empty() {
            write!(f, ", local_filters=[{}]", self.spec.residual)?;
        }
        if let Some(limit) = self.spec.limit {
            write!(f, ", limit={limit}")?;
        }
        if self.spec.concurrency > 1 {
            write!(f, ", split into created ranges (concurrency {})", self.spec.concurrency)?;
        }
        if !self.spec.cache_ttl.is_zero() {
            write!(f, ", cache_ttl={}s", self.spec.cache_ttl.as_secs_f64())?;
        }
        if let Some(note) = &self.spec.source_note {
            write!(f, ", source=live ({note})")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for StripeScanExec {
    fn name(&self) -> &str {
        "StripeScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    /// Shows DataFusion the bound join filter: a hash join computes its filter
    /// only when a consumer in its probe side holds it.
    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        match &self.join {
            Some(join) => f(&(Arc::clone(&join.filter) as Arc<dyn PhysicalExpr>)),
            None => Ok(TreeNodeRecursion::Continue),
        }
    }

    /// Keeps the dynamic filters pushed here (see `offered`); reports them as
    /// not applied, so DataFusion keeps whatever checks it planned.
    fn handle_child_pushdown_result(
        &self,
        phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        let filters = &child_pushdown_result.parent_filters;
        let not_applied = vec![PushedDown::No; filters.len()];
        let dynamic: Vec<Arc<DynamicFilterPhysicalExpr>> = filters
            .iter()
            .filter_map(|f| (Arc::clone(&f.filter) as Arc<dyn Any + Send + Sync>).downcast().ok())
            .collect();
        let mut propagation = FilterPushdownPropagation::with_parent_pushdown_result(not_applied);
        if phase == FilterPushdownPhase::Post && !dynamic.is_empty() && self.spec.limit.is_none() {
            let mut scan = self.derive(self.spec.clone());
            scan.offered.extend(dynamic);
            propagation = propagation.with_updated_node(Arc::new(scan) as Arc<dyn ExecutionPlan>);
        }
        Ok(propagation)
    }

    /// A plan reused from scratch (recursive queries) gets a join without its
    /// filter: the scan then makes its own calls instead of waiting for keys.
    fn reset_state(self: Arc<Self>) -> Result<Arc<dyn ExecutionPlan>> {
        let mut scan = StripeScanExec::new(Arc::clone(&self.def), self.client.clone(), self.spec.clone());
        scan.offered = Vec::new();
        Ok(Arc::new(scan))
    }

    /// The estimated rows (see `provider::estimate`), so that DataFusion reads
    /// the smaller side of a join first.
    fn partition_statistics(&self, _partition: Option<usize>) -> Result<Arc<Statistics>> {
        let rows = estimate::rows(&self.def, &self.spec.plan);
        Ok(Arc::new(estimate::statistics(rows, self.spec.output_schema.fields().len())))
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    /// Takes a LIMIT DataFusion pushes down (e.g. `ORDER BY created DESC LIMIT n`
    /// once the sort is dropped): the scan stops after `n` output rows, and when it
    /// filters nothing itself its requests shrink to `n` rows as well.
    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        let n = limit?;
        let mut spec = self.spec.clone().sequential();
        spec.limit = Some(spec.limit.map_or(n, |l| l.min(n)));
        if spec.residual.is_empty() {
            spec.plan = spec.plan.with_row_limit(n);
        }
        Some(Arc::new(self.derive(spec)))
    }

    fn fetch(&self) -> Option<usize> {
        self.spec.limit
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    /// Makes the calls as the stream is pulled. A scan bound to a join first
    /// waits (in the stream, never here) for the join's build side, then plans
    /// its calls again with the keys.
    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("StripeScanExec has one partition, asked for {partition}")));
        }
        let counters = ScanCounters::new(&self.metrics, partition);
        let client = self.client.with_cache_ttl(self.spec.cache_ttl).with_observer(counters.observer());
        let schema = Arc::clone(&self.spec.output_schema);
        // The join fills the filter only while DataFusion's option is on.
        let join = self
            .join
            .clone()
            .filter(|_| context.session_config().options().optimizer.enable_join_dynamic_filter_pushdown);
        let Some(join) = join else {
            if let Some(e) = self.spec.missing_parent() {
                return Err(e);
            }
            let batches = fetch::batches(Arc::clone(&self.def), client, self.spec.clone());
            return Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)));
        };
        let def = Arc::clone(&self.def);
        let inputs = Arc::clone(&self.spec.inputs);
        let keyed = async move {
            let keys = join.wait().await?;
            let spec = ScanSpec::with_keys(&def, inputs, &keys.filters, join.max_keys)?;
            if let Some(e) = spec.missing_parent() {
                let hint = format!(
                    "; the join gave {} keys on {}, more than stripe.join_max_keys = {}",
                    keys.keys.map_or("unknown".to_string(), |n| n.to_string()),
                    join.column,
                    join.max_keys
                );
                return Err(DataFusionError::Plan(format!("{e}{hint}")));
            }
            Ok(fetch::batches(def, client, spec))
        };
        let batches = futures::stream::once(keyed).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }
}

impl StripeScanExec {
    /// This scan as the sequential newest-first walk, when it is split into
    /// ranges and the walk declares `created DESC` (`None` otherwise).
    pub fn sequential(&self) -> Option<Arc<dyn ExecutionPlan>> {
        if self.spec.concurrency <= 1 {
            return None;
        }
        let walk = self.derive(self.spec.clone().sequential());
        natural_ordering(&walk.def, &walk.spec)?;
        Some(Arc::new(walk))
    }
}
