//! `StripeScanExec`: the physical scan of a Stripe table. It holds the request
//! plan decided at planning time and makes the API calls only in `execute`,
//! streaming one RecordBatch per page.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SortOrderPushdownResult,
};

use crate::catalog::{FilterKind, TableDef};
use crate::provider::fetch;
use crate::provider::metrics::ScanCounters;
use crate::provider::residual::Residual;
use crate::pushdown::{self, RequestPlan};
use crate::settings::StripeOptions;
use crate::stripe;

/// Everything the scan needs at execution time, decided once at planning time.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    /// The API calls to make.
    pub plan: RequestPlan,
    /// Filters the chosen requests do not express exactly (e.g. with
    /// `stripe.use_search = false`, or next to `id IN (...)`); the scan applies
    /// them itself, whatever DataFusion was told.
    pub residual: Residual,
    /// Stop after this many output rows (DataFusion passes a limit only when
    /// every filter is Exact).
    pub limit: Option<usize>,
    /// Schema of the batches the scan emits (the projection).
    pub output_schema: SchemaRef,
    /// Whether the plan uses the Search API (eventually consistent).
    pub uses_search: bool,
    /// Requests in flight at once for a list walk split into `created` ranges;
    /// 1 walks the list sequentially by cursor (newest first).
    pub concurrency: usize,
    /// How long list and retrieve responses may be served from the client's
    /// cache (`stripe.cache_ttl`); zero disables it.
    pub cache_ttl: std::time::Duration,
}

impl ScanSpec {
    /// Decides the requests for `filters` with the session's `options`.
    pub fn build(
        def: &TableDef,
        schema: &SchemaRef,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        options: &StripeOptions,
    ) -> Result<Self> {
        let actual = pushdown::plan(def, filters, limit, &pushdown::Options::from_settings(options));
        if let RequestPlan::MissingParent { table, column } = &actual.plan {
            return Err(DataFusionError::Plan(format!(
                "table {table} lists the children of one parent object: add a filter such as WHERE {column} = '...' (or {column} IN (...))"
            )));
        }
        // Every filter the calls do not express exactly is applied here, not only
        // those `declared` Exact for this whole set: DataFusion asks about the
        // filters of each Filter node separately (e.g. `status = 'x'` alone, which
        // a list expresses exactly) and drops the node, but combined with
        // `id IN (...)` the scan retrieves by id and `status` must still be checked.
        let residual_filters: Vec<Expr> = filters
            .iter()
            .zip(actual.support.iter())
            .filter(|(_, a)| **a != TableProviderFilterPushDown::Exact)
            .map(|(f, _)| f.clone())
            .collect();
        let projection: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..schema.fields().len()).collect(),
        };
        let residual = Residual::new(schema, &projection, residual_filters)?;
        let output_schema = Arc::new(schema.project(&projection)?);
        let uses_search = matches!(actual.plan, RequestPlan::Search { .. });
        let splittable = limit.is_none() && splittable(def, &actual.plan);
        let concurrency = if splittable { options.max_concurrency.max(1) as usize } else { 1 };
        let cache_ttl = options.cache_ttl()?;
        Ok(Self { plan: actual.plan, residual, limit, output_schema, uses_search, concurrency, cache_ttl })
    }

    /// The same scan walking its list sequentially, newest first.
    pub fn sequential(mut self) -> Self {
        self.concurrency = 1;
        self
    }
}

/// Whether `plan` is one unbounded list walk of a top-level table whose list
/// takes a `created` range, so it can be split into `created` ranges.
fn splittable(def: &TableDef, plan: &RequestPlan) -> bool {
    let ranged = def.list_filters.iter().any(|f| f.param == "created" && matches!(f.kind, FilterKind::Range));
    let one_walk = matches!(plan, RequestPlan::List { requests, max_rows: None } if requests.len() == 1);
    def.parent.is_none() && ranged && one_walk
}

/// The physical scan node.
#[derive(Debug)]
pub struct StripeScanExec {
    def: Arc<TableDef>,
    client: stripe::Client,
    spec: ScanSpec,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
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
        Self { def, client, spec, properties, metrics: ExecutionPlanMetricsSet::new() }
    }

    /// The request plan this scan executes (for tests and EXPLAIN).
    pub fn request_plan(&self) -> &RequestPlan {
        &self.spec.plan
    }
}

/// Stripe lists top-level objects newest first. When the scan is one sequential
/// list walk (no fan-out merge, no search, no retrieve, not split into ranges)
/// of a table with a `created` range filter and `created` is projected, its rows
/// come ordered by `created DESC`: declaring it lets DataFusion drop
/// `ORDER BY created DESC` and push its LIMIT into the scan (see `with_fetch`).
/// A scan split into ranges declares no order; asked for `created DESC`
/// (`try_pushdown_sort`), it turns back into the sequential walk.
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

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
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
        Some(Arc::new(StripeScanExec::new(Arc::clone(&self.def), self.client.clone(), spec)))
    }

    fn fetch(&self) -> Option<usize> {
        self.spec.limit
    }

    /// `ORDER BY created DESC` over a scan split into ranges: the sequential
    /// walk gives that order, so DataFusion can drop the sort (and push its LIMIT).
    fn try_pushdown_sort(&self, order: &[PhysicalSortExpr]) -> Result<SortOrderPushdownResult<Arc<dyn ExecutionPlan>>> {
        if self.spec.concurrency <= 1 {
            return Ok(SortOrderPushdownResult::Unsupported);
        }
        let sequential =
            StripeScanExec::new(Arc::clone(&self.def), self.client.clone(), self.spec.clone().sequential());
        let Some([natural]) = natural_ordering(&self.def, &sequential.spec) else {
            return Ok(SortOrderPushdownResult::Unsupported);
        };
        let wanted = match order {
            [one] => one,
            _ => return Ok(SortOrderPushdownResult::Unsupported),
        };
        // `created` is never NULL, so where NULLs would sort does not matter.
        let same = wanted.expr.eq(&natural.expr) && wanted.options.descending;
        if !same {
            return Ok(SortOrderPushdownResult::Unsupported);
        }
        Ok(SortOrderPushdownResult::Exact { inner: Arc::new(sequential) })
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("StripeScanExec has one partition, asked for {partition}")));
        }
        let counters = ScanCounters::new(&self.metrics, partition);
        let client = self.client.with_cache_ttl(self.spec.cache_ttl).with_observer(counters.observer());
        let batches = fetch::batches(Arc::clone(&self.def), client, self.spec.clone());
        Ok(Box::pin(RecordBatchStreamAdapter::new(Arc::clone(&self.spec.output_schema), batches)))
    }
}

impl StripeScanExec {
    /// This scan as the sequential newest-first walk, when it is split into
    /// ranges and the walk declares `created DESC` (`None` otherwise).
    pub fn sequential(&self) -> Option<Arc<dyn ExecutionPlan>> {
        if self.spec.concurrency <= 1 {
            return None;
        }
        let walk = StripeScanExec::new(Arc::clone(&self.def), self.client.clone(), self.spec.clone().sequential());
        natural_ordering(&walk.def, &walk.spec)?;
        Some(Arc::new(walk))
    }

    /// Lets tests downcast a plan node.
    pub fn as_any(&self) -> &dyn Any {
        self
    }
}
