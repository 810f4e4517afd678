//! Classifies one filter (a conjunct DataFusion offers) into the few shapes the
//! planner understands. Anything else is `Pred::Other` and left to DataFusion.

use datafusion::logical_expr::{BinaryExpr, Expr, Like, Operator, expr::InList};

use super::literal::{self, ColumnRef, Lit};
use crate::catalog::{ColumnType, TableDef};

/// A comparison value in a column's own terms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Scalar {
    /// A string (ids, enums, free text).
    Str(String),
    /// An integer; for timestamp columns, whole unix seconds.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// One side of an integer range (units of the column's integer domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// `> v`
    Gt(i64),
    /// `>= v`
    Gte(i64),
    /// `< v`
    Lt(i64),
    /// `<= v`
    Lte(i64),
}

/// What one filter means, as far as the planner is concerned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pred {
    /// A constant filter: `true` keeps every row, `false` none.
    Const(bool),
    /// `column` equals one of `values` (equality, OR-chain or IN; sorted, deduplicated).
    OneOf { column: String, values: Vec<Scalar>, cast: bool },
    /// `column` compared with an integer bound.
    Range { column: String, bound: Bound, cast: bool },
    /// `column LIKE pattern` (case-sensitive, not negated).
    Like { column: String, pattern: String, escape: char },
    /// `column['key'] = value` on a string map.
    MapEq { column: String, key: String, value: String },
    /// Anything else.
    Other,
}

impl Pred {
    /// The column the predicate constrains, if any.
    pub fn column(&self) -> Option<&str> {
        match self {
            Pred::OneOf { column, .. }
            | Pred::Range { column, .. }
            | Pred::Like { column, .. }
            | Pred::MapEq { column, .. } => Some(column),
            Pred::Const(_) | Pred::Other => None,
        }
    }
}

/// Classifies one filter of `table`.
pub(crate) fn classify(table: &TableDef, expr: &Expr) -> Pred {
    match expr {
        Expr::Literal(..) => match literal::literal(expr) {
            Some(Lit::Bool(b)) => Pred::Const(b),
            // A NULL filter keeps no row.
            Some(Lit::Null) => Pred::Const(false),
            _ => Pred::Other,
        },
        Expr::Column(_) | Expr::IsTrue(_) => boolean_column(table, strip_is_true(expr), true),
        Expr::Not(inner) | Expr::IsFalse(inner) => boolean_column(table, inner, false),
        Expr::BinaryExpr(b) if b.op == Operator::Or => or_chain(table, expr),
        Expr::BinaryExpr(b) => comparison(table, b),
        Expr::InList(list) => in_list(table, list),
        Expr::Like(like) => like_pattern(table, like),
        _ => Pred::Other,
    }
}

fn strip_is_true(expr: &Expr) -> &Expr {
    match expr {
        Expr::IsTrue(inner) => inner,
        other => other,
    }
}

/// `WHERE active`, `WHERE NOT livemode`, `active IS TRUE`, `active IS FALSE`.
fn boolean_column(table: &TableDef, expr: &Expr, value: bool) -> Pred {
    match literal::column(table, expr) {
        Some(ColumnRef { name, ty: ColumnType::Boolean, cast: false }) => {
            Pred::OneOf { column: name, values: vec![Scalar::Bool(value)], cast: false }
        }
        _ => Pred::Other,
    }
}

/// `col <op> lit` or `lit <op> col`, and `get_field(map, 'k') = lit`.
fn comparison(table: &TableDef, b: &BinaryExpr) -> Pred {
    let (col_side, lit, op) = match (literal::literal(&b.left), literal::literal(&b.right)) {
        (None, Some(lit)) => (&*b.left, lit, b.op),
        (Some(lit), None) => match b.op.swap() {
            Some(op) => (&*b.right, lit, op),
            None => return Pred::Other,
        },
        _ => return Pred::Other,
    };
    let is_comparison = matches!(op, Operator::Eq | Operator::Gt | Operator::GtEq | Operator::Lt | Operator::LtEq);
    if !is_comparison {
        return Pred::Other;
    }
    if lit == Lit::Null {
        // `x <op> NULL` is never true.
        return Pred::Const(false);
    }
    if let Some(pred) = map_access(table, col_side, op, &lit) {
        return pred;
    }
    let Some(col) = literal::column(table, col_side) else { return Pred::Other };
    if op == Operator::Eq {
        return equality(&col, &lit);
    }
    let Some(range) = literal::int_range(col.ty, &lit) else { return Pred::Other };
    // The column holds integers: tighten fractional literals to integer bounds.
    let bound = match op {
        Operator::Gt => Bound::Gt(range.floor),
        Operator::GtEq => Bound::Gte(range.ceil),
        Operator::Lt => Bound::Lt(range.ceil),
        _ => Bound::Lte(range.floor),
    };
    Pred::Range { column: col.name, bound, cast: col.cast }
}

/// `col = lit` for one value.
fn equality(col: &ColumnRef, lit: &Lit) -> Pred {
    match value_of(col, lit) {
        Some(Some(v)) => Pred::OneOf { column: col.name.clone(), values: vec![v], cast: col.cast },
        // A non-integral number never equals an integer column.
        Some(None) => Pred::Const(false),
        None => Pred::Other,
    }
}

/// The column-typed value of a literal compared for equality: `Some(None)` when the
/// comparison can never be true, `None` when it is not understood.
fn value_of(col: &ColumnRef, lit: &Lit) -> Option<Option<Scalar>> {
    match (col.ty, lit) {
        (ColumnType::Utf8, Lit::Str(s)) => Some(Some(Scalar::Str(s.clone()))),
        (ColumnType::Boolean, Lit::Bool(b)) if !col.cast => Some(Some(Scalar::Bool(*b))),
        (ColumnType::Int64 | ColumnType::Timestamp, _) => {
            let range = literal::int_range(col.ty, lit)?;
            Some(range.is_integral().then_some(Scalar::Int(range.floor)))
        }
        _ => None,
    }
}

/// `get_field(metadata, 'k') = 'v'`.
fn map_access(table: &TableDef, expr: &Expr, op: Operator, lit: &Lit) -> Option<Pred> {
    let Expr::ScalarFunction(f) = expr else { return None };
    if f.func.name() != "get_field" {
        return None;
    }
    let pred = (|| {
        let [map, key] = f.args.as_slice() else { return None };
        let col = literal::column(table, map)?;
        let (Some(Lit::Str(key)), Lit::Str(value)) = (literal::literal(key), lit) else {
            return None;
        };
        (col.ty == ColumnType::StringMap && !col.cast && op == Operator::Eq).then(|| Pred::MapEq {
            column: col.name,
            key,
            value: value.clone(),
        })
    })();
    Some(pred.unwrap_or(Pred::Other))
}

/// `a = 'x' OR a = 'y' OR …` on one column.
fn or_chain(table: &TableDef, expr: &Expr) -> Pred {
    let mut disjuncts = Vec::new();
    flatten_or(expr, &mut disjuncts);
    let mut column: Option<(String, bool)> = None;
    let mut values = Vec::new();
    for d in disjuncts {
        match classify(table, d) {
            Pred::Const(false) => {}
            Pred::OneOf { column: c, values: v, cast } => {
                if column.as_ref().is_some_and(|(name, _)| *name != c) {
                    return Pred::Other;
                }
                let was_cast = column.as_ref().is_some_and(|(_, k)| *k);
                column = Some((c, cast || was_cast));
                values.extend(v);
            }
            _ => return Pred::Other,
        }
    }
    match column {
        Some((column, cast)) => one_of(column, values, cast),
        None => Pred::Const(false),
    }
}

fn flatten_or<'a>(expr: &'a Expr, out: &mut Vec<&'a Expr>) {
    match expr {
        Expr::BinaryExpr(b) if b.op == Operator::Or => {
            flatten_or(&b.left, out);
            flatten_or(&b.right, out);
        }
        other => out.push(other),
    }
}

/// `a IN (…)` with literal items.
fn in_list(table: &TableDef, list: &InList) -> Pred {
    if list.negated {
        return Pred::Other;
    }
    let Some(col) = literal::column(table, &list.expr) else { return Pred::Other };
    let mut values = Vec::new();
    for item in &list.list {
        match literal::literal(item) {
            // NULL items never match.
            Some(Lit::Null) => {}
            Some(lit) => match value_of(&col, &lit) {
                Some(Some(v)) => values.push(v),
                Some(None) => {}
                None => return Pred::Other,
            },
            None => return Pred::Other,
        }
    }
    if values.is_empty() {
        return Pred::Const(false);
    }
    one_of(col.name, values, col.cast)
}

fn one_of(column: String, mut values: Vec<Scalar>, cast: bool) -> Pred {
    values.sort();
    values.dedup();
    Pred::OneOf { column, values, cast }
}

/// `col LIKE 'pattern'`, case-sensitive and not negated.
fn like_pattern(table: &TableDef, like: &Like) -> Pred {
    if like.negated || like.case_insensitive {
        return Pred::Other;
    }
    let Some(col) = literal::column(table, &like.expr) else { return Pred::Other };
    match (col.ty, literal::literal(&like.pattern)) {
        (ColumnType::Utf8, Some(Lit::Str(pattern))) => {
            Pred::Like { column: col.name, pattern, escape: like.escape_char.unwrap_or('\\') }
        }
        _ => Pred::Other,
    }
}

/// The values allowed by every `OneOf` on `column` (their intersection, sorted),
/// with the indexes of those filters; `None` when no filter constrains it that way.
pub(crate) fn intersect_one_of(preds: &[Pred], column: &str) -> Option<(Vec<Scalar>, Vec<usize>)> {
    let mut acc: Option<Vec<Scalar>> = None;
    let mut used = Vec::new();
    for (i, p) in preds.iter().enumerate() {
        if let Pred::OneOf { column: c, values, .. } = p
            && c == column
        {
            acc = Some(match acc {
                None => values.clone(),
                Some(prev) => prev.into_iter().filter(|v| values.contains(v)).collect(),
            });
            used.push(i);
        }
    }
    acc.map(|values| (values, used))
}

/// Whether the filters together admit no row: a `false`, two equalities with no
/// common value, or bounds with no integer between them.
pub(crate) fn contradicts(preds: &[Pred]) -> bool {
    if preds.contains(&Pred::Const(false)) {
        return true;
    }
    let mut columns: Vec<&str> = preds.iter().filter_map(Pred::column).collect();
    columns.sort_unstable();
    columns.dedup();
    columns.into_iter().any(|column| {
        let no_common_value = intersect_one_of(preds, column).is_some_and(|(values, _)| values.is_empty());
        let mut range = super::range::Range::default();
        for p in preds {
            match p {
                Pred::Range { column: c, bound, .. } if c == column => range.add(*bound),
                Pred::OneOf { column: c, values, .. } if c == column => {
                    if let [Scalar::Int(v)] = values.as_slice() {
                        range.add_point(*v);
                    }
                }
                _ => {}
            }
        }
        no_common_value || range.is_empty()
    })
}
