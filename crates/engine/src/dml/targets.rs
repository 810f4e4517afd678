//! The rows an UPDATE or DELETE touches: the same pushdown and scan as a
//! SELECT with that WHERE (so `WHERE email = …` is one list call), plus a
//! local filter over every predicate so a filter the API cannot express
//! never widens the set. Built while planning; it fetches only when executed.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;

use crate::catalog::ArrowSchema;
use crate::dml::params::invalid;
use crate::dml::policy::WriteContext;
use crate::provider::scan::{ScanSpec, StripeScanExec};

/// `expr` with table qualifiers removed (the scan's schema is unqualified).
pub fn unqualified(expr: Expr) -> Result<Expr> {
    Ok(expr
        .transform(|e| {
            Ok(match e {
                Expr::Column(c) if c.relation.is_some() => {
                    Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))
                }
                other => Transformed::no(other),
            })
        })?
        .data)
}

/// The table's schema as a DFSchema (for turning exprs into physical exprs).
pub fn df_schema(ctx: &WriteContext) -> Result<DFSchema> {
    DFSchema::try_from(ctx.def.arrow_schema().as_ref().clone())
}

/// A plan producing every full row the statement targets (no API call yet).
pub fn plan(ctx: &WriteContext, state: &dyn Session, filters: &[Expr]) -> Result<Arc<dyn ExecutionPlan>> {
    let schema = ctx.def.arrow_schema();
    let filters = filters.iter().cloned().map(unqualified).collect::<Result<Vec<_>>>()?;
    let spec = ScanSpec::build(&ctx.def, &schema, None, &filters, None, &ctx.options)?;
    let scan: Arc<dyn ExecutionPlan> = Arc::new(StripeScanExec::new(Arc::clone(&ctx.def), ctx.client.clone(), spec));
    let Some(predicate) = conjunction(filters) else { return Ok(scan) };
    let predicate = state.create_physical_expr(predicate, &df_schema(ctx)?)?;
    Ok(Arc::new(FilterExec::try_new(predicate, scan)?))
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
