//! Reading a table from the mirror: which source `stripe.source` picks for a
//! table (the mirror when it holds the table and, under `auto`, is no staler
//! than `stripe.max_staleness`), and the scan over the Delta table's current
//! snapshot. Filters and LIMIT go into the Delta scan (file pruning by the
//! files' statistics) and are applied again exactly above it, since the table
//! declared them exact for the live API; timestamps come back in the live
//! table's unit. Under `stripe.accounts` the mirror of several accounts
//! answers when it holds every account asked for ([`choose_accounts`]).

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_expr::expressions::{CastExpr, Column};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use deltalake::DeltaTable;

use super::read_exec::MirrorScanExec;
use super::{fresh, location, store};
use crate::pushdown::accounts::AccountSet;
use crate::settings::{Source, StripeOptions};

/// Where tables may be read from the mirror (`--mirror DIR`): a mirror folder
/// or a root of `<account>/<api version>` folders. A session config extension;
/// without it every table is read live.
#[derive(Debug, Clone)]
pub struct MirrorReads(pub PathBuf);

/// The mirrored table a scan reads, as of one Delta snapshot.
#[derive(Debug)]
pub struct Picked {
    /// The table's name.
    pub name: String,
    /// The Delta table at the snapshot read.
    pub table: DeltaTable,
    /// Seconds since the table was last in step with Stripe (`None`: unknown).
    pub staleness: Option<i64>,
    /// The staleness `auto` accepts.
    pub max_staleness: i64,
}

/// The source chosen for one scan.
#[derive(Debug)]
pub enum Choice {
    /// The API; with a mirror configured, why not the mirror.
    Live(Option<String>),
    /// The mirror.
    Mirror(Box<Picked>),
}

/// The mirror folder under `root` for our API version (the only one, or
/// why there is none): a mirror of one account, whose tables have no account
/// column (a mirror of several is [`accounts_mirror`]'s).
pub fn mirror_dir(root: &std::path::Path) -> std::result::Result<PathBuf, String> {
    let version = crate::catalog::builtin().api_version.clone();
    let found: Vec<PathBuf> = location::find_mirrors(root)
        .into_iter()
        .filter(|(_, m)| m.api_version == version && m.accounts.is_none())
        .map(|(d, _)| d)
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no mirror at API version {version} under {}", root.display())),
        _ => Err(format!("several mirrors under {}: pass --mirror with one account's folder", root.display())),
    }
}

/// The mirror of several accounts under `root` for our API version, with its
/// marker (the only one, or why there is none).
pub fn accounts_mirror(root: &std::path::Path) -> std::result::Result<(PathBuf, location::Marker), String> {
    let version = crate::catalog::builtin().api_version.clone();
    let mut found: Vec<(PathBuf, location::Marker)> = location::find_mirrors(root)
        .into_iter()
        .filter(|(_, m)| m.api_version == version && m.accounts.is_some())
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "no mirror of several accounts at API version {version} under {} (make one with stripe-sql sync --accounts)",
            root.display()
        )),
        _ => Err(format!("several mirrors of accounts under {}: pass --mirror with one folder", root.display())),
    }
}

/// Which of the accounts `wanted` (the session's `stripe.accounts`) a
/// mirror holding `held` (its marker's selection) can answer for: `Ok(None)`
/// all it holds, `Ok(Some(ids))` only those ids (a filter to add), `Err(why)`
/// when it does not hold them all (the query then reads live, or fails under
/// `stripe.source = 'mirror'`).
pub fn covers(held: &str, wanted: &AccountSet) -> std::result::Result<Option<Vec<String>>, String> {
    let held_set = AccountSet::parse(held).ok().flatten().unwrap_or(AccountSet::Only(Default::default()));
    match (&held_set, wanted) {
        (AccountSet::All, AccountSet::All) => Ok(None),
        (AccountSet::All, AccountSet::Only(ids)) => Ok(Some(ids.iter().cloned().collect())),
        (AccountSet::Only(h), AccountSet::Only(w)) if w.is_subset(h) => {
            Ok((w != h).then(|| w.iter().cloned().collect()))
        }
        (AccountSet::Only(_), AccountSet::All) => {
            Err(format!("the mirror holds accounts {held}, not every account (stripe.accounts = 'all')"))
        }
        (AccountSet::Only(h), AccountSet::Only(w)) => {
            let missing: Vec<&str> = w.difference(h).map(String::as_str).collect();
            Err(format!("the mirror does not hold account {}", missing.join(", ")))
        }
    }
}

/// Picks the source of table `name` read across the accounts `wanted`
/// (`stripe.accounts`): the mirror of several accounts when it holds them all
/// (with the ids to keep when it holds more), else live as [`choose`] decides.
pub async fn choose_accounts(
    state: &dyn Session,
    name: &str,
    options: &StripeOptions,
    wanted: &AccountSet,
) -> Result<(Choice, Option<Vec<String>>)> {
    let source = options.source()?;
    let Some(root) = state.config().get_extension::<MirrorReads>() else {
        return choose(state, name, options).await.map(|c| (c, None));
    };
    if source == Source::Live {
        return Ok((Choice::Live(Some("stripe.source = 'live'".into())), None));
    }
    let not_mirrored = |why: String| match source {
        Source::Mirror => Err(DataFusionError::Plan(format!("stripe.source = 'mirror': {name} cannot be read: {why}"))),
        _ => Ok((Choice::Live(Some(why)), None)),
    };
    let (dir, marker) = match accounts_mirror(&root.0) {
        Ok(found) => found,
        Err(why) => return not_mirrored(why),
    };
    let only = match covers(marker.accounts.as_deref().unwrap_or_default(), wanted) {
        Ok(only) => only,
        Err(why) => return not_mirrored(why),
    };
    match pick(&dir, name, options, source).await? {
        Ok(picked) => Ok((Choice::Mirror(picked), only)),
        Err(why) => not_mirrored(why),
    }
}

/// The mirror a session reads, as found under its `--mirror` folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionMirror {
    /// The mirror of the key's own account.
    One(PathBuf),
    /// The mirror of several accounts (the session sets `stripe.accounts`).
    Accounts(PathBuf),
}

impl SessionMirror {
    /// The mirror's folder.
    pub fn dir(&self) -> &std::path::Path {
        match self {
            SessionMirror::One(d) | SessionMirror::Accounts(d) => d,
        }
    }
}

/// The mirror this session reads: the mirror of several accounts when it sets
/// `stripe.accounts`, else the one-account mirror (`None`: none configured
/// or found).
pub fn session_mirror(state: &dyn Session) -> Option<SessionMirror> {
    let root = state.config().get_extension::<MirrorReads>()?;
    match AccountSet::parse(&StripeOptions::from_session(state).accounts) {
        Ok(Some(_)) => accounts_mirror(&root.0).ok().map(|(dir, _)| SessionMirror::Accounts(dir)),
        _ => mirror_dir(&root.0).ok().map(SessionMirror::One),
    }
}

/// Seconds since each mirrored table was last in step with Stripe, for the
/// mirror the session reads (`None`: no mirror configured or found).
pub fn staleness(ctx: &datafusion::prelude::SessionContext) -> Option<std::collections::BTreeMap<String, i64>> {
    let mirror = session_mirror(&ctx.state())?;
    let now = fresh::now();
    Some(fresh::read(mirror.dir()).into_iter().map(|(t, at)| (t, (now - at).max(0))).collect())
}

/// Picks the source of table `name` for this session.
pub async fn choose(state: &dyn Session, name: &str, options: &StripeOptions) -> Result<Choice> {
    let source = options.source()?;
    let Some(root) = state.config().get_extension::<MirrorReads>() else {
        return match source {
            Source::Mirror => Err(DataFusionError::Plan(format!(
                "stripe.source = 'mirror' but no mirror is configured (pass --mirror DIR) to read {name}"
            ))),
            _ => Ok(Choice::Live(None)),
        };
    };
    // Under stripe.accounts the accounts' table has chosen already
    // (`choose_accounts`); the scans it runs per account are live.
    if AccountSet::parse(&options.accounts).ok().flatten().is_some() {
        return Ok(Choice::Live(None));
    }
    if source == Source::Live {
        return Ok(Choice::Live(Some("stripe.source = 'live'".into())));
    }
    let not_mirrored = |why: String| match source {
        Source::Mirror => Err(DataFusionError::Plan(format!("stripe.source = 'mirror': {name} cannot be read: {why}"))),
        _ => Ok(Choice::Live(Some(why))),
    };
    let dir = match mirror_dir(&root.0) {
        Ok(d) => d,
        Err(why) => return not_mirrored(why),
    };
    match pick(&dir, name, options, source).await? {
        Ok(picked) => Ok(Choice::Mirror(picked)),
        Err(why) => not_mirrored(why),
    }
}

/// Table `name` of the mirror in `dir` when `source` may read it (fresh enough
/// under `auto`), or why not.
async fn pick(
    dir: &std::path::Path,
    name: &str,
    options: &StripeOptions,
    source: Source,
) -> Result<std::result::Result<Box<Picked>, String>> {
    let max = options.max_staleness()?.as_secs() as i64;
    // Freshness first, then the snapshot: the snapshot is at least that fresh.
    let checked = fresh::read(dir).get(name).copied();
    let table = match store::open_existing(&dir.join(name)).await {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(Err("not mirrored".into())),
        Err(e) => return Ok(Err(format!("mirror unreadable: {e}"))),
    };
    let staleness = checked.map(|c| (fresh::now() - c).max(0));
    if source == Source::Auto {
        match staleness {
            None => return Ok(Err("the mirror has not completed a sync step".into())),
            Some(s) if s > max => return Ok(Err(format!("mirror {s}s stale, more than stripe.max_staleness {max}s"))),
            Some(_) => {}
        }
    }
    Ok(Ok(Box::new(Picked { name: name.to_string(), table, staleness, max_staleness: max })))
}

/// A filter on the live schema rewritten for the stored one (timestamps in
/// microseconds), or `None` when it cannot be (it is then applied above only).
fn stored_filter(e: &Expr) -> Option<Expr> {
    let mut ok = true;
    let out = e
        .clone()
        .transform(|e| {
            Ok(match e {
                Expr::Literal(ScalarValue::TimestampSecond(v, tz), m) => {
                    Transformed::yes(Expr::Literal(ScalarValue::TimestampMicrosecond(v.map(|s| s * 1_000_000), tz), m))
                }
                Expr::Cast(_) | Expr::TryCast(_) | Expr::ScalarFunction(_) => {
                    ok = false;
                    Transformed::no(e)
                }
                other => Transformed::no(other),
            })
        })
        .data()
        .ok()?;
    ok.then_some(out)
}

/// The plan reading `picked` as the live table `live` would be scanned.
pub async fn scan(
    state: &dyn Session,
    picked: Box<Picked>,
    live: &SchemaRef,
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let delta_err = |e: &dyn std::fmt::Display| DataFusionError::Execution(format!("mirror of {}: {e}", picked.name));
    picked.table.update_datafusion_session(state).map_err(|e| delta_err(&e))?;
    let provider = picked.table.table_provider().await.map_err(|e| delta_err(&e))?;
    let stored = provider.schema();
    // Columns read: the projection and whatever the filters name.
    let wanted: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..live.fields().len()).collect());
    let mut needed = wanted.clone();
    for f in filters {
        for c in f.column_refs() {
            if let Ok(i) = live.index_of(&c.name)
                && !needed.contains(&i)
            {
                needed.push(i);
            }
        }
    }
    let stored_idx: Vec<usize> =
        needed.iter().map(|&i| stored.index_of(live.field(i).name())).collect::<std::result::Result<_, _>>()?;
    let pushed: Vec<Expr> = filters.iter().filter_map(stored_filter).collect();
    let delta_limit = if filters.is_empty() { limit } else { None };
    let input = provider.scan(state, Some(&stored_idx), &pushed, delta_limit).await?;
    // Back to the live types, by name.
    let in_schema = input.schema();
    let mut exprs = Vec::with_capacity(needed.len());
    for &i in &needed {
        let field = live.field(i);
        let at = in_schema.index_of(field.name())?;
        let col = Arc::new(Column::new(field.name(), at));
        let expr: Arc<dyn datafusion::physical_expr::PhysicalExpr> =
            if in_schema.field(at).data_type() == field.data_type() {
                col
            } else {
                Arc::new(CastExpr::new(col, field.data_type().clone(), None))
            };
        exprs.push((expr, field.name().clone()));
    }
    let mut plan: Arc<dyn ExecutionPlan> = Arc::new(ProjectionExec::try_new(exprs, input)?);
    if let Some(predicate) = conjunction(filters.iter().cloned()) {
        let fields: Vec<Field> = needed.iter().map(|&i| live.field(i).clone()).collect();
        let df_schema = DFSchema::try_from(Schema::new(fields))?;
        let physical = state.create_physical_expr(predicate, &df_schema)?;
        plan = Arc::new(FilterExec::try_new(physical, plan)?);
    }
    if needed.len() != wanted.len() {
        let schema = plan.schema();
        let exprs = wanted
            .iter()
            .map(|&i| {
                let name = live.field(i).name();
                let at = schema.index_of(name)?;
                Ok((Arc::new(Column::new(name, at)) as Arc<dyn datafusion::physical_expr::PhysicalExpr>, name.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        plan = Arc::new(ProjectionExec::try_new(exprs, plan)?);
    }
    if let Some(n) = limit {
        plan = Arc::new(CoalescePartitionsExec::new(plan).with_fetch(Some(n)));
    }
    Ok(Arc::new(MirrorScanExec::new(*picked, plan, pushed.len(), filters.len(), limit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> AccountSet {
        AccountSet::parse(s).unwrap().unwrap()
    }

    #[test]
    fn a_mirror_answers_only_for_accounts_it_holds() {
        assert_eq!(covers("all", &set("all")), Ok(None));
        assert_eq!(covers("all", &set("acct_2,acct_1")), Ok(Some(vec!["acct_1".into(), "acct_2".into()])));
        assert_eq!(covers("acct_1,acct_2", &set("acct_2,acct_1")), Ok(None));
        assert_eq!(covers("acct_1,acct_2", &set("acct_2")), Ok(Some(vec!["acct_2".into()])));
        let err = covers("acct_1,acct_2", &set("all")).unwrap_err();
        assert!(err.contains("not every account"), "{err}");
        let err = covers("acct_1", &set("acct_1,acct_3")).unwrap_err();
        assert!(err.contains("does not hold account acct_3"), "{err}");
    }
}
