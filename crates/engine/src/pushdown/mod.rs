//! Pure translation of DataFusion filter expressions into a Stripe request plan.
//!
//! [`plan`] decides, for one scan, both how each filter is pushed (Exact /
//! Inexact / Unsupported) and which calls are made ([`RequestPlan`]). The result
//! always equals filtering a full scan: what the calls cannot express exactly is
//! re-checked by DataFusion. It is cheap, pure and stable: planning again with
//! only the filters it pushed gives the same plan (the provider relies on this,
//! calling it from `supports_filters_pushdown` and again from `scan`).

pub mod accounts;
mod limit;
mod list;
mod literal;
mod parent;
mod predicate;
mod range;
mod request;
mod retrieve;
mod search;
#[cfg(test)]
mod tests;

use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};

pub use request::{ListRequest, RequestPlan, retrieve_path};

use crate::catalog::TableDef;
use parent::Parent;
use predicate::Pred;

/// Session options that change pushdown (`SET stripe.use_search = …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Use the Search API for predicates lists cannot express (eventually consistent).
    pub use_search: bool,
}

impl Options {
    /// The pushdown options the session's settings imply.
    pub fn from_settings(settings: &crate::settings::StripeOptions) -> Self {
        Options { use_search: settings.use_search }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options { use_search: true }
    }
}

/// The pushdown decision for one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushdown {
    /// One entry per input filter, in order.
    pub support: Vec<TableProviderFilterPushDown>,
    /// The calls to make.
    pub plan: RequestPlan,
}

/// How the chosen calls express one filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// Not at all: DataFusion applies it.
    None,
    /// Partly (the calls return a superset): DataFusion re-checks it.
    Inexact,
    /// Exactly.
    Exact,
}

impl From<Use> for TableProviderFilterPushDown {
    fn from(u: Use) -> Self {
        match u {
            Use::None => TableProviderFilterPushDown::Unsupported,
            Use::Inexact => TableProviderFilterPushDown::Inexact,
            Use::Exact => TableProviderFilterPushDown::Exact,
        }
    }
}

/// Plans the Stripe calls of a scan of `table` with `filters` (conjuncts, as
/// DataFusion offers them) and `limit` (as `scan` receives it).
pub fn plan(table: &TableDef, filters: &[Expr], limit: Option<usize>, opts: &Options) -> Pushdown {
    plan_with_fanout(table, filters, limit, opts, list::MAX_FANOUT)
}

/// [`plan`] allowing up to `max_fanout` lists for IN on list params (instead of
/// 32): a join's keys, already bounded by `stripe.join_max_keys`, become one
/// list per key.
pub fn plan_with_fanout(
    table: &TableDef,
    filters: &[Expr],
    limit: Option<usize>,
    opts: &Options,
    max_fanout: usize,
) -> Pushdown {
    let preds: Vec<Pred> = filters.iter().map(|f| predicate::classify(table, f)).collect();
    if predicate::contradicts(&preds) {
        return empty(preds.len());
    }
    if let Some(ids) = retrieve::ids(table, &preds) {
        if ids.ids.is_empty() {
            return empty(preds.len());
        }
        // Other filters are re-checked on the retrieved rows.
        let uses = (0..preds.len()).map(|i| if ids.used.contains(&i) { Use::Exact } else { Use::Inexact });
        return finish(&preds, uses.collect(), RequestPlan::Retrieve { path: ids.path, ids: ids.ids });
    }
    let parent = parent::resolve(table, &preds);
    let (bases, parent_column) = match &parent {
        Parent::None => (vec![(table.list_path.clone(), Vec::new())], None),
        Parent::Missing { column } => (Vec::new(), Some(column.as_str())),
        Parent::Paths { paths, column, .. } => {
            if paths.is_empty() {
                return empty(preds.len());
            }
            let bases = paths.iter().map(|(path, id)| (path.clone(), vec![(column.clone(), id.clone())]));
            (bases.collect(), Some(column.as_str()))
        }
    };
    let mut list = list::draft(table, &preds, parent_column, max_fanout.max(list::MAX_FANOUT));
    let search = match (&table.search, &parent) {
        (Some(def), Parent::None) if opts.use_search => Some(search::draft(def, &preds)),
        _ => None,
    };
    if let Some(search) = search.filter(|s| s.needed_over(&list.uses)) {
        let uses = finish_uses(&preds, search.uses.clone());
        let page = limit::page(limit, all_exact(&uses));
        if page.max_rows == Some(0) {
            return empty(preds.len());
        }
        let path = table.search.as_ref().map(|s| s.path.clone()).unwrap_or_default();
        let plan = RequestPlan::Search { path, query: search.query(), page_size: page.size, max_rows: page.max_rows };
        return finish(&preds, uses, plan);
    }
    match parent {
        Parent::Missing { column } => {
            let plan = RequestPlan::MissingParent { table: table.name.clone(), column };
            return finish(&preds, list.uses, plan);
        }
        Parent::Paths { used, .. } => used.into_iter().for_each(|i| list.uses[i] = Use::Exact),
        Parent::None => {}
    }
    let uses = finish_uses(&preds, list.uses.clone());
    let page = limit::page(limit, all_exact(&uses));
    if page.max_rows == Some(0) {
        return empty(preds.len());
    }
    let mut requests = list.requests(&bases, page.size);
    if !table.paginated {
        // These lists return everything at once and refuse `limit`.
        requests.iter_mut().for_each(|r| r.params.retain(|(k, _)| k != "limit"));
    }
    let plan = RequestPlan::List { requests, max_rows: page.max_rows };
    finish(&preds, uses, plan)
}

/// No call: every filter counts as exact (there is no row to re-check).
fn empty(n: usize) -> Pushdown {
    Pushdown { support: vec![TableProviderFilterPushDown::Exact; n], plan: RequestPlan::Empty }
}

/// `WHERE true` needs nothing.
fn finish_uses(preds: &[Pred], mut uses: Vec<Use>) -> Vec<Use> {
    for (u, p) in uses.iter_mut().zip(preds) {
        if *p == Pred::Const(true) {
            *u = Use::Exact;
        }
    }
    uses
}

fn all_exact(uses: &[Use]) -> bool {
    uses.iter().all(|u| *u == Use::Exact)
}

fn finish(preds: &[Pred], uses: Vec<Use>, plan: RequestPlan) -> Pushdown {
    let support = finish_uses(preds, uses).into_iter().map(Into::into).collect();
    Pushdown { support, plan }
}
