//! Keys from a join. A hash join reads its build side first and publishes what
//! it found as a DataFusion dynamic filter on the probe side's key (an IN list
//! of the distinct keys when there are few, min/max bounds, a hash lookup).
//! A Stripe scan on the probe side waits for that filter when it runs (never
//! while planning), turns it back into ordinary filters over its own columns
//! (`customer IN ('cus_1', …)`, `customer >= … AND customer <= …`) and plans
//! its calls again with [`crate::pushdown`], so join keys follow exactly the
//! rules literal filters follow: `id` keys become retrieves, keys on a list
//! param one list per key, keys on a nested table's parent that parent's lists.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, Operator, col, lit};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CaseExpr, Column, DynamicFilterPhysicalExpr, InListExpr, Literal,
};

/// A hash join's dynamic filter bound to a scan as the source of its keys.
#[derive(Debug)]
pub struct JoinKeys {
    /// The join's filter, over this scan's output columns.
    pub filter: Arc<DynamicFilterPhysicalExpr>,
    /// The scan's key column (`customer`).
    pub column: String,
    /// Most keys pushed (`stripe.join_max_keys`); with more, the scan makes its
    /// own calls.
    pub max_keys: usize,
    /// What the last run did with the keys (shown by EXPLAIN ANALYZE).
    pub outcome: Mutex<Option<String>>,
}

impl JoinKeys {
    /// Binds `filter` when it is a single-key filter on a plain column of the
    /// scan (a key under a cast, or several keys, is not used).
    pub fn bind(filter: &Arc<DynamicFilterPhysicalExpr>, max_keys: usize) -> Option<Self> {
        let [key] = filter.children()[..] else { return None };
        let column = key.downcast_ref::<Column>()?.name().to_string();
        Some(Self { filter: Arc::clone(filter), column, max_keys, outcome: Mutex::new(None) })
    }

    /// Waits until the join has read its build side, then returns the key
    /// filters over the scan's columns.
    pub async fn wait(&self) -> datafusion::error::Result<KeyFilters> {
        self.filter.wait_complete().await;
        // A complete filter the join never updated means an empty build side
        // (DataFusion leaves `true` in place then): no row can match.
        let empty_build = self.filter.snapshot_generation() == 1;
        let current = self.filter.current()?;
        let keys = if empty_build { KeyFilters::none_match() } else { key_filters(&current, self.max_keys) };
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(keys.describe(&self.column, self.max_keys));
        Ok(keys)
    }
}

/// Filters implied by a join's build side, as literal filters on the scan.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFilters {
    /// Conjuncts to add to the scan's own filters.
    pub filters: Vec<Expr>,
    /// How many distinct keys the build side has, when the filter names them.
    pub keys: Option<usize>,
    /// The build side had more distinct keys than pushed: they were dropped.
    pub over_limit: bool,
}

impl KeyFilters {
    /// The build side is empty: no row of the scan can join.
    pub fn none_match() -> Self {
        Self { filters: vec![lit(false)], keys: Some(0), over_limit: false }
    }

    /// One line for EXPLAIN ANALYZE.
    pub fn describe(&self, column: &str, max_keys: usize) -> String {
        match self.keys {
            Some(0) => "no key from join: no call".to_string(),
            Some(n) if self.over_limit => {
                format!("{n} keys from join on {column}, more than {max_keys}: the requests above (full scan)")
            }
            Some(n) => format!("{n} key(s) from join on {column} pushed"),
            None if self.filters.is_empty() => "join gave no usable keys: the requests above (full scan)".to_string(),
            None => "join gave key bounds only: the requests above, filtered locally".to_string(),
        }
    }
}

/// Turns a completed join filter into conjuncts over the scan's columns. Shapes
/// not understood are left out (the join re-checks every row anyway); an IN list
/// of more than `max_keys` values is left out too (the scan then makes its own
/// calls, as without a join).
pub fn key_filters(expr: &Arc<dyn PhysicalExpr>, max_keys: usize) -> KeyFilters {
    let mut out = KeyFilters { filters: Vec::new(), keys: None, over_limit: false };
    for conjunct in conjuncts(expr) {
        match conjunct {
            Conjunct::Never => return KeyFilters::none_match(),
            Conjunct::Keys(column, values) => {
                out.keys = Some(out.keys.map_or(values.len(), |k| k.min(values.len())));
                if values.is_empty() {
                    return KeyFilters::none_match();
                }
                if values.len() > max_keys {
                    out.over_limit = true;
                    continue;
                }
                out.filters.push(col(column).in_list(values.into_iter().map(lit).collect(), false));
            }
            Conjunct::Compare(column, op, value) => out.filters.push(Expr::BinaryExpr(
                datafusion::logical_expr::BinaryExpr::new(Box::new(col(column)), op, Box::new(lit(value))),
            )),
        }
    }
    // Bounds with min = max name one key: `col = v` (a point is what list
    // params and retrieves take; a range of strings is not).
    if out.keys.is_none()
        && let Some((column, value)) = single_point(&out.filters)
    {
        out.keys = Some(1);
        if max_keys >= 1 {
            out.filters.push(col(column).eq(lit(value)));
        } else {
            out.over_limit = true;
        }
    }
    out
}

/// One understood part of a join filter.
#[derive(Debug, Clone, PartialEq)]
enum Conjunct {
    /// No row can pass.
    Never,
    /// `column IN (values)` (distinct, non-null, sorted).
    Keys(String, Vec<ScalarValue>),
    /// `column <op> value`.
    Compare(String, Operator, ScalarValue),
}

fn conjuncts(expr: &Arc<dyn PhysicalExpr>) -> Vec<Conjunct> {
    if let Some(value) = literal(expr) {
        return match value {
            ScalarValue::Boolean(Some(false)) | ScalarValue::Boolean(None) => vec![Conjunct::Never],
            _ => Vec::new(),
        };
    }
    if let Some(binary) = expr.downcast_ref::<BinaryExpr>() {
        if *binary.op() == Operator::And {
            let mut out = conjuncts(binary.left());
            out.extend(conjuncts(binary.right()));
            return out;
        }
        return comparison(binary).into_iter().collect();
    }
    if let Some((column, values)) = in_list(expr) {
        return vec![Conjunct::Keys(column, values)];
    }
    if let Some(case) = expr.downcast_ref::<CaseExpr>() {
        return partitioned(case).into_iter().collect();
    }
    Vec::new()
}

/// `column <op> literal` for the comparison operators bounds use.
fn comparison(binary: &BinaryExpr) -> Option<Conjunct> {
    let ok = matches!(binary.op(), Operator::GtEq | Operator::LtEq | Operator::Gt | Operator::Lt | Operator::Eq);
    let column = binary.left().downcast_ref::<Column>()?;
    let value = literal(binary.right())?;
    (ok && !value.is_null()).then(|| Conjunct::Compare(column.name().to_string(), *binary.op(), value))
}

/// `column IN (literals)`, not negated; NULLs dropped (they never equal a key).
fn in_list(expr: &Arc<dyn PhysicalExpr>) -> Option<(String, Vec<ScalarValue>)> {
    let list = expr.downcast_ref::<InListExpr>()?;
    if list.negated() {
        return None;
    }
    let column = list.expr().downcast_ref::<Column>()?.name().to_string();
    let mut values = BTreeSet::new();
    for item in list.list() {
        let value = literal(item)?;
        if !value.is_null() {
            values.insert(OrdScalar(value));
        }
    }
    Some((column, values.into_iter().map(|v| v.0).collect()))
}

/// A partitioned join's filter: `CASE hash(key) % n WHEN i THEN filter_i … END`.
/// Usable when every branch names its keys; the union of them is the key set.
fn partitioned(case: &CaseExpr) -> Option<Conjunct> {
    let mut column: Option<String> = None;
    let mut values = BTreeSet::new();
    let branches = case.when_then_expr().iter().map(|(_, then)| then).chain(case.else_expr());
    for branch in branches {
        match branch_keys(branch)? {
            None => {}
            Some((c, vs)) => {
                if column.as_ref().is_some_and(|known| *known != c) {
                    return None;
                }
                column = Some(c);
                values.extend(vs.into_iter().map(OrdScalar));
            }
        }
    }
    match column {
        Some(c) => Some(Conjunct::Keys(c, values.into_iter().map(|v| v.0).collect())),
        None => Some(Conjunct::Never),
    }
}

/// The keys of one partition's filter: `Some(None)` for `false` (no key),
/// `Some(Some(..))` for an IN list (possibly under bounds), `None` otherwise.
type BranchKeys = Option<Option<(String, Vec<ScalarValue>)>>;

fn branch_keys(expr: &Arc<dyn PhysicalExpr>) -> BranchKeys {
    let parts = conjuncts(expr);
    if parts.contains(&Conjunct::Never) {
        return Some(None);
    }
    parts.into_iter().find_map(|p| match p {
        Conjunct::Keys(c, vs) => Some(Some((c, vs))),
        _ => None,
    })
}

/// `col >= v AND col <= v` among `filters`: the one key `v`.
fn single_point(filters: &[Expr]) -> Option<(String, ScalarValue)> {
    let bound = |op: Operator| {
        filters.iter().find_map(|f| match f {
            Expr::BinaryExpr(b) if b.op == op => match (&*b.left, &*b.right) {
                (Expr::Column(c), Expr::Literal(v, _)) => Some((c.name.clone(), v.clone())),
                _ => None,
            },
            _ => None,
        })
    };
    let (low_col, low) = bound(Operator::GtEq)?;
    let (high_col, high) = bound(Operator::LtEq)?;
    (low_col == high_col && low == high).then_some((low_col, low))
}

fn literal(expr: &Arc<dyn PhysicalExpr>) -> Option<ScalarValue> {
    expr.downcast_ref::<Literal>().map(|l| l.value().clone())
}

/// ScalarValue ordered by its partial order (values of one column share a type).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OrdScalar(ScalarValue);

impl PartialOrd for OrdScalar {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdScalar {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.partial_cmp(&other.0).unwrap_or_else(|| self.0.to_string().cmp(&other.0.to_string()))
    }
}

#[cfg(test)]
#[path = "join_keys_tests.rs"]
mod tests;
