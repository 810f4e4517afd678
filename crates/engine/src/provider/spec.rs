//! `ScanSpec`: what a scan does when it runs (its calls, local filters,
//! limit, concurrency), decided from the filters DataFusion pushed, and again
//! from those plus a join's keys (see `provider::join_keys`).

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};

use crate::catalog::{FilterKind, TableDef};
use crate::provider::residual::Residual;
use crate::pushdown::{self, RequestPlan};
use crate::settings::StripeOptions;

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
    /// Requests in flight at once for a list walk split into `created` ranges;
    /// 1 walks the list sequentially by cursor (newest first).
    pub concurrency: usize,
    /// How long list and retrieve responses may be served from the client's
    /// cache (`stripe.cache_ttl`); zero disables it.
    pub cache_ttl: std::time::Duration,
    /// What the plan was decided from, to decide it again with a join's keys.
    pub inputs: Arc<ScanInputs>,
    /// Why the table is read live although a mirror is configured (EXPLAIN).
    pub source_note: Option<String>,
}

/// The arguments `scan` received, kept to plan again when a join's keys arrive.
#[derive(Debug, Clone)]
pub struct ScanInputs {
    /// The table's full schema.
    pub schema: SchemaRef,
    /// The projected column indexes.
    pub projection: Vec<usize>,
    /// The filters DataFusion pushed into the scan.
    pub filters: Vec<Expr>,
    /// The session's settings at planning time.
    pub options: StripeOptions,
}

impl ScanSpec {
    /// Decides the requests for `filters` with the session's `options`. A nested
    /// table without its parent filter still plans (as
    /// [`RequestPlan::MissingParent`]): a join may supply the parent
    /// keys at run time (see `provider::join_rule`, which raises the error when
    /// none can).
    pub fn deferred(
        def: &TableDef,
        schema: &SchemaRef,
        projection: Option<&[usize]>,
        filters: &[Expr],
        limit: Option<usize>,
        options: &StripeOptions,
    ) -> Result<Self> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.to_vec(),
            None => (0..schema.fields().len()).collect(),
        };
        let inputs =
            ScanInputs { schema: Arc::clone(schema), projection, filters: filters.to_vec(), options: options.clone() };
        Self::plan(def, Arc::new(inputs), &[], limit, pushdown::plan)
    }

    /// The scan of `inputs` with a join's key filters added (planned with one
    /// list per key, up to `max_keys` lists).
    pub fn with_keys(def: &TableDef, inputs: Arc<ScanInputs>, keys: &[Expr], max_keys: usize) -> Result<Self> {
        Self::plan(def, inputs, keys, None, |t, f, l, o| pushdown::plan_with_fanout(t, f, l, o, max_keys))
    }

    /// The error a nested table without any parent id raises.
    pub fn missing_parent(&self) -> Option<DataFusionError> {
        self.missing_parent_message().map(DataFusionError::Plan)
    }

    /// The message of [`ScanSpec::missing_parent`].
    pub fn missing_parent_message(&self) -> Option<String> {
        let RequestPlan::MissingParent { table, column } = &self.plan else { return None };
        Some(format!(
            "table {table} lists the children of one parent object: add a filter such as WHERE {column} = '...' (or {column} IN (...)), or join it to its parent"
        ))
    }

    fn plan(
        def: &TableDef,
        inputs: Arc<ScanInputs>,
        extra: &[Expr],
        limit: Option<usize>,
        decide: impl Fn(&TableDef, &[Expr], Option<usize>, &pushdown::Options) -> pushdown::Pushdown,
    ) -> Result<Self> {
        let options = &inputs.options;
        let all: Vec<Expr> = inputs.filters.iter().chain(extra).cloned().collect();
        let filters = all.as_slice();
        let schema = &inputs.schema;
        let actual = decide(def, filters, limit, &crate::pushdown::Options::from_settings(options));
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
        let residual = Residual::new(schema, &inputs.projection, residual_filters)?;
        let output_schema = Arc::new(schema.project(&inputs.projection)?);
        let splittable = limit.is_none() && splittable(def, &actual.plan);
        let concurrency = if splittable { options.max_concurrency.max(1) as usize } else { 1 };
        let cache_ttl = options.cache_ttl()?;
        Ok(Self {
            plan: actual.plan,
            residual,
            limit,
            output_schema,
            concurrency,
            cache_ttl,
            inputs,
            source_note: None,
        })
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
