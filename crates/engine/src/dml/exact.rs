//! Makes UPDATE/DELETE exact when DataFusion would hide their WHERE from the
//! table (`IN (SELECT …)`, `EXISTS`, a scalar subquery, `WHERE false`,
//! `… AND 1 = 0`, `LIMIT`): instead of the `update`/`delete_from` hooks (which
//! would get an empty filter list), the DML's own optimized input plan is
//! planned and, when the statement executes, run to collect exactly the rows
//! it selects. Planning still sends nothing.

use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::datasource::source_as_provider;
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{DmlStatement, Expr, LogicalPlan, WriteOp};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};

use crate::dml::params::invalid;
use crate::dml::policy::WriteContext;
use crate::dml::{delete, update};
use crate::provider::StripeTable;
use crate::provider::accounts::AccountsTable;
use crate::settings::{Source, StripeOptions};

/// Plans `dml` from its input plan; `None` when the target is not a Stripe table.
pub async fn plan(dml: &DmlStatement, session: &dyn Session) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    Ok(plan_with_rows(dml, session).await?.map(|(write, _)| write))
}

/// Like [`plan`], also returning the plan that selects the rows (for EXPLAIN).
pub async fn plan_with_rows(
    dml: &DmlStatement,
    session: &dyn Session,
) -> Result<Option<(Arc<dyn ExecutionPlan>, Arc<dyn ExecutionPlan>)>> {
    let provider = source_as_provider(&dml.target)?;
    let table = match provider.downcast_ref::<AccountsTable>() {
        Some(across) => across.inner(),
        None => match provider.downcast_ref::<StripeTable>() {
            Some(table) => table,
            None => return Ok(None),
        },
    };
    let verb = if dml.op == WriteOp::Delete { "delete from" } else { "update" };
    let ctx = WriteContext::plan(Arc::new(table.def().clone()), table.client().clone(), session, verb)?;
    let rows = match live_session(session) {
        Some(live) => DefaultPhysicalPlanner::default().create_physical_plan(&dml.input, &live).await?,
        None => DefaultPhysicalPlanner::default().create_physical_plan(&dml.input, session).await?,
    };
    if rows.schema().index_of("id").is_err() {
        return Err(invalid(format!("{verb} {}: the rows to change have no id column", ctx.def.name)));
    }
    let plan = match dml.op {
        WriteOp::Delete => delete::plan_rows(ctx, Arc::clone(&rows))?,
        WriteOp::Update => update::plan_rows(ctx, Arc::clone(&rows), assignments(&dml.input)?)?,
        _ => return Ok(None),
    };
    Ok(Some((plan, rows)))
}

/// Under `stripe.source = 'auto'` with a mirror configured, the session with
/// `stripe.source = 'live'`: the rows a write changes are selected from Stripe,
/// not from a mirror up to `max_staleness` behind (a row created since would be
/// missed). `None` when the session already reads live, or when the user chose
/// `'mirror'` explicitly.
pub(crate) fn live_session(session: &dyn Session) -> Option<SessionState> {
    let options = StripeOptions::from_session(session);
    if options.source().ok()? != Source::Auto
        || session.config().get_extension::<crate::mirror::read::MirrorReads>().is_none()
    {
        return None;
    }
    let mut state = session.as_any().downcast_ref::<SessionState>()?.clone();
    let mut live = options;
    live.source = "live".into();
    state.config_mut().options_mut().extensions.insert(live);
    Some(state)
}

/// The changed columns of an UPDATE input (`Projection` of `expr AS column`,
/// identity `column AS column` skipped), as references to the input's output.
fn assignments(input: &LogicalPlan) -> Result<Vec<(String, Arc<dyn PhysicalExpr>)>> {
    // `… AND 1 = 0` leaves an empty relation: no row, nothing to assign.
    if matches!(input, LogicalPlan::EmptyRelation(_)) {
        return Ok(vec![]);
    }
    let LogicalPlan::Projection(projection) = input else {
        return Err(invalid("update refused: its input is not a projection of the new values"));
    };
    let mut out: Vec<(String, Arc<dyn PhysicalExpr>)> = Vec::new();
    for (index, expr) in projection.expr.iter().enumerate() {
        let Expr::Alias(alias) = expr else { continue };
        let identity = matches!(alias.expr.as_ref(), Expr::Column(c) if c.name == alias.name);
        if !identity {
            out.push((alias.name.clone(), Arc::new(Column::new(&alias.name, index))));
        }
    }
    Ok(out)
}
