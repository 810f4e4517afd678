//! `DmlGuard`: a `QueryPlanner` wrapping DataFusion's default planner that
//! plans UPDATE and DELETE itself.
//!
//! DataFusion would hand a table's `update`/`delete_from` hooks an *empty*
//! filter list for `IN (SELECT …)`, `EXISTS`, `WHERE false`, `… AND 1 = 0`
//! and drop `LIMIT`, which would look like "all rows". The guard inspects the
//! optimized plan: a DML input of Projection / Filter / TableScan (one scan,
//! no fetch, no subquery) is a WHERE the table can see, and with no WHERE at
//! all it passes only when `stripe.allow_unfiltered_dml = true`.
//!
//! Every UPDATE/DELETE of a Stripe table is planned by [`crate::dml::exact`]:
//! its own input plan selects the rows (with the same pushdown as a SELECT),
//! so a hidden WHERE is not refused but exact; EXPLAIN shows that plan. What
//! stays refused: hidden WHEREs in DML on tables that are not Stripe tables,
//! and EXPLAIN ANALYZE of such statements. The table's own `update` /
//! `delete_from` hooks refuse, so a context without this planner cannot
//! write through them.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::display::{PlanType, StringifiedPlan};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::{DmlStatement, Expr, LogicalPlan, WriteOp};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::displayable;
use datafusion::physical_plan::explain::ExplainExec;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use crate::dml::exact;
use crate::settings::StripeOptions;

/// The query planner that checks DML plans before DataFusion's default planner runs.
#[derive(Debug, Default)]
pub struct DmlGuard;

#[async_trait]
impl QueryPlanner for DmlGuard {
    async fn create_physical_plan(&self, plan: &LogicalPlan, session: &dyn Session) -> Result<Arc<dyn ExecutionPlan>> {
        let allow_unfiltered = StripeOptions::from_session(session).allow_unfiltered_dml;
        if let Some(dml) = checked_update_or_delete(plan, allow_unfiltered)?
            && let Some(exact) = exact::plan(dml, session).await?
        {
            return Ok(exact);
        }
        if let LogicalPlan::Explain(explain) = plan
            && let Some(dml) = checked_update_or_delete(&explain.plan, allow_unfiltered)?
            && let Some((write, rows)) = exact::plan_with_rows(dml, session).await?
        {
            let text = format!(
                "{}  rows selected by the statement's own plan:\n{}",
                displayable(write.as_ref()).indent(true),
                displayable(rows.as_ref()).indent(true)
            );
            let mut plans = explain.stringified_plans.clone();
            plans.push(StringifiedPlan::new(PlanType::FinalPhysicalPlan, text));
            return Ok(Arc::new(ExplainExec::new(Arc::clone(explain.schema.inner()), plans, explain.verbose)));
        }
        check_plan(plan, allow_unfiltered)?;
        DefaultPhysicalPlanner::default().create_physical_plan(plan, session).await
    }
}

/// `plan` when it is an UPDATE/DELETE, which [`exact`] plans from its own
/// input (the one row-selection path). A WHERE the table can see must not be
/// missing unless `stripe.allow_unfiltered_dml` says so; a hidden one (a
/// subquery, `WHERE false`, `LIMIT`) is exact by construction.
fn checked_update_or_delete(plan: &LogicalPlan, allow_unfiltered: bool) -> Result<Option<&DmlStatement>> {
    let LogicalPlan::Dml(dml) = plan else { return Ok(None) };
    if !matches!(dml.op, WriteOp::Delete | WriteOp::Update) {
        return Ok(None);
    }
    let mut shape = Shape::default();
    let hidden = inspect(&dml.input, &mut shape).is_err() || shape.scans != 1;
    if !hidden {
        check_plan(plan, allow_unfiltered)?;
    }
    Ok(Some(dml))
}

/// Checks every UPDATE/DELETE in `plan`; returns whether the plan writes at all.
pub fn check_plan(plan: &LogicalPlan, allow_unfiltered: bool) -> Result<bool> {
    let mut has_dml = false;
    let mut refusal: Option<DataFusionError> = None;
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Dml(dml) = node {
            has_dml = true;
            let verb = match dml.op {
                WriteOp::Delete => "delete from",
                WriteOp::Update => "update",
                _ => return Ok(TreeNodeRecursion::Continue),
            };
            let mut shape = Shape::default();
            if let Err(why) = inspect(&dml.input, &mut shape) {
                refusal = Some(refuse(verb, dml.table_name.table(), &why));
                return Ok(TreeNodeRecursion::Stop);
            }
            if shape.scans != 1 {
                refusal = Some(refuse(verb, dml.table_name.table(), "its input is not a single scan of the table"));
                return Ok(TreeNodeRecursion::Stop);
            }
            if !shape.filtered && !allow_unfiltered {
                refusal = Some(DataFusionError::Plan(format!(
                    "{verb} {table} has no WHERE clause and would touch every row: add a WHERE clause, or SET stripe.allow_unfiltered_dml = true first",
                    table = dml.table_name.table()
                )));
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    match refusal {
        Some(e) => Err(e),
        None => Ok(has_dml),
    }
}

fn refuse(verb: &str, table: &str, why: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{verb} {table} refused: {why}; the table would be handed an empty filter list (= every row). Select the ids first and use WHERE id IN ('…', …)"
    ))
}

#[derive(Default)]
struct Shape {
    scans: usize,
    filtered: bool,
}

/// Walks the DML input; `Err` says why it is unsafe.
fn inspect(plan: &LogicalPlan, shape: &mut Shape) -> std::result::Result<(), String> {
    match plan {
        LogicalPlan::Projection(p) => {
            p.expr.iter().try_for_each(plain_expr)?;
            inspect(&p.input, shape)
        }
        LogicalPlan::Filter(f) => {
            plain_expr(&f.predicate)?;
            shape.filtered = true;
            inspect(&f.input, shape)
        }
        LogicalPlan::SubqueryAlias(a) => inspect(&a.input, shape),
        LogicalPlan::TableScan(scan) => {
            if scan.fetch.is_some() {
                return Err("LIMIT cannot be applied to UPDATE or DELETE".into());
            }
            scan.filters.iter().try_for_each(plain_expr)?;
            shape.filtered |= !scan.filters.is_empty();
            shape.scans += 1;
            Ok(())
        }
        LogicalPlan::Limit(_) => Err("LIMIT cannot be applied to UPDATE or DELETE".into()),
        LogicalPlan::EmptyRelation(_) => {
            Err("the WHERE clause can never be true (e.g. WHERE false or … AND 1 = 0)".into())
        }
        LogicalPlan::Join(_) | LogicalPlan::Subquery(_) => {
            Err("the WHERE clause uses a subquery (IN (SELECT …), EXISTS or a scalar subquery)".into())
        }
        other => Err(format!("its WHERE clause became a {} node the table cannot see", other.display())),
    }
}

/// Refuses expressions the provider cannot evaluate itself.
fn plain_expr(expr: &Expr) -> std::result::Result<(), String> {
    let has_subquery = expr
        .exists(|e| {
            Ok(matches!(
                e,
                Expr::ScalarSubquery(_) | Expr::InSubquery(_) | Expr::Exists(_) | Expr::OuterReferenceColumn(..)
            ))
        })
        .unwrap_or(true);
    if has_subquery {
        return Err("the statement uses a subquery (IN (SELECT …), EXISTS or a scalar subquery)".into());
    }
    Ok(())
}
