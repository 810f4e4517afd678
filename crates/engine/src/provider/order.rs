//! A physical optimizer rule, run before DataFusion's own: a scan split into
//! `created` ranges has no order, so under `ORDER BY created DESC` it is turned
//! back into the sequential newest-first walk. DataFusion then sees the walk's
//! declared order, drops the sort and pushes a LIMIT into the scan, also through
//! filters DataFusion re-checks (`WHERE amount > 100 ORDER BY created DESC LIMIT 5`
//! stops after the pages it needs instead of reading every page).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::error::Result;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;

use crate::provider::StripeScanExec;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct SequentialScanForCreatedOrder;

impl PhysicalOptimizerRule for SequentialScanForCreatedOrder {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_down(|node| {
            let Some(sort) = node.downcast_ref::<SortExec>() else { return Ok(Transformed::no(node)) };
            let first = sort.expr().first();
            if !first.options.descending {
                return Ok(Transformed::no(node));
            }
            match sequential_under(sort.input(), &first.expr) {
                Some(input) => Ok(Transformed::yes(replace_children_if_necessary(Arc::clone(&node), vec![input])?)),
                None => Ok(Transformed::no(node)),
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "stripe_sequential_scan_for_created_order"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` with its split scan made sequential, when `key` (an expression over
/// `plan`'s output) is the scan's `created` column reached through projections
/// and filters; `None` when nothing changes.
fn sequential_under(plan: &Arc<dyn ExecutionPlan>, key: &Arc<dyn PhysicalExpr>) -> Option<Arc<dyn ExecutionPlan>> {
    let column = key.downcast_ref::<Column>()?;
    if let Some(scan) = plan.downcast_ref::<StripeScanExec>() {
        let created = plan.schema().index_of("created").ok()?;
        return (column.index() == created).then(|| scan.sequential()).flatten();
    }
    if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        let inner = Arc::clone(&projection.expr().get(column.index())?.expr);
        let input = sequential_under(projection.input(), &inner)?;
        return replace_children_if_necessary(Arc::clone(plan), vec![input]).ok();
    }
    if let Some(filter) = plan.downcast_ref::<FilterExec>() {
        if filter.projection().is_some() {
            return None;
        }
        let input = sequential_under(filter.input(), key)?;
        return replace_children_if_necessary(Arc::clone(plan), vec![input]).ok();
    }
    None
}
