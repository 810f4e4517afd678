//! `JoinKeysRule`, a physical optimizer rule run after DataFusion's own: it
//! binds each Stripe scan on the probe side of a hash join to that join's
//! dynamic filter, so the scan waits for the build side's keys and turns them
//! into calls (see `provider::join_keys`). Which side is the build side was
//! decided before, by DataFusion's join selection from the scans' estimates
//! (`provider::estimate`): the selective side, whatever the written order.
//!
//! Only filters a `HashJoinExec` produces are bound (a TopK's dynamic filter,
//! also pushed into scans, is complete only once the scan's rows are sorted:
//! waiting for it would never end). The rule also raises the error of a nested
//! table that has neither a parent filter nor a join supplying parent keys, at
//! planning time as before.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::HashJoinExec;

use crate::provider::StripeScanExec;
use crate::settings::StripeOptions;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct JoinKeysRule;

impl PhysicalOptimizerRule for JoinKeysRule {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        let options = config.extensions.get::<StripeOptions>().cloned().unwrap_or_default();
        let max_keys = options.join_key_limit().min(config.optimizer.hash_join_inlist_pushdown_max_distinct_values);
        // `join_max_keys = 0` pushes no key: the same as turning pushdown off.
        let joins = if max_keys > 0 { join_filter_ids(&plan)? } else { HashSet::new() };
        plan.transform_up(|node| {
            let Some(scan) = node.downcast_ref::<StripeScanExec>() else { return Ok(Transformed::no(node)) };
            let bound = scan.bind_join(&joins, max_keys);
            let scan = bound.as_ref().unwrap_or(scan);
            if let Some(parent) = &scan.def().parent {
                let keyed = scan.join_keys().is_some_and(|k| k.column == parent.column);
                if let (Some(message), false) = (scan.spec().missing_parent_message(), keyed) {
                    return Err(missing_parent(message, &options));
                }
            }
            Ok(match bound {
                Some(scan) => Transformed::yes(Arc::new(scan) as Arc<dyn ExecutionPlan>),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "stripe_join_keys"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Ids of the dynamic filters the plan's hash joins produce.
fn join_filter_ids(plan: &Arc<dyn ExecutionPlan>) -> Result<HashSet<u64>> {
    let mut ids = HashSet::new();
    plan.apply(|node| {
        if node.downcast_ref::<HashJoinExec>().is_some() {
            ids.extend(node.dynamic_expressions_produced().iter().filter_map(|e| e.expression_id()));
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(ids)
}

fn missing_parent(message: String, options: &StripeOptions) -> DataFusionError {
    if options.join_pushdown {
        return DataFusionError::Plan(message);
    }
    DataFusionError::Plan(format!("{message} (joins give no parent keys while stripe.join_pushdown is false)"))
}
