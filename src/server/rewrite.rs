//! Makes drivers' catalog queries plannable: SQLAlchemy's column reflection
//! selects correlated scalar subqueries (defaults, identity, collation) that
//! DataFusion cannot run. In queries over `pg_catalog`, such projection items
//! become NULL (we have no defaults, identities or collations); the `$n`
//! placeholders they held stay referenced by a always-true filter so the
//! client's parameter numbering still lines up.
//!
//! `pg_type`'s `regproc` columns (`typreceive`, `typsend`, ...) hold function
//! names here; Postgres compares them with `0` as oids (the ADBC PostgreSQL
//! driver asks `typreceive != 0`). Such comparisons become comparisons with
//! `'-'`, the name Postgres shows for oid 0.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, SelectItem, SetExpr, Statement, Value, visit_expressions, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// The `regproc` columns of `pg_type` and `pg_proc`.
const REGPROC_COLUMNS: [&str; 8] =
    ["typreceive", "typsend", "typinput", "typoutput", "typmodin", "typmodout", "typanalyze", "typsubscript"];

/// `sql` made answerable by the emulated catalog (both rewrites of this
/// module), or None when it needs neither.
pub fn driver_query(sql: &str) -> Option<String> {
    match catalog_query(sql) {
        Some(rewritten) => Some(regproc_comparisons(&rewritten).unwrap_or(rewritten)),
        None => regproc_comparisons(sql),
    }
}

/// `sql` with `regproc_column = 0` (or `!=`, `<>`) compared with `'-'`.
pub fn regproc_comparisons(sql: &str) -> Option<String> {
    let lower = sql.to_lowercase();
    if !lower.contains("pg_type") || !REGPROC_COLUMNS.iter().any(|c| lower.contains(c)) {
        return None;
    }
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    let mut changed = false;
    for statement in &mut statements {
        let _ = visit_expressions_mut(statement, |e| {
            if let Expr::BinaryOp { left, op: BinaryOperator::Eq | BinaryOperator::NotEq, right } = e {
                let dash = || Expr::value(Value::SingleQuotedString("-".to_owned()));
                if is_regproc(left) && is_zero(right) {
                    **right = dash();
                    changed = true;
                } else if is_regproc(right) && is_zero(left) {
                    **left = dash();
                    changed = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
    changed.then(|| statements.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
}

fn is_regproc(expr: &Expr) -> bool {
    let name = match expr {
        Expr::Identifier(i) => Some(&i.value),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| &i.value),
        _ => None,
    };
    name.is_some_and(|n| REGPROC_COLUMNS.contains(&n.to_lowercase().as_str()))
}

fn is_zero(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n == "0"))
}

/// `sql` with correlated projection subqueries of a pg_catalog query nulled,
/// or None when nothing needed rewriting (or the SQL does not parse here).
pub fn catalog_query(sql: &str) -> Option<String> {
    if !sql.contains("pg_catalog") || !sql.to_lowercase().contains("(select") {
        return None;
    }
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    if statements.len() != 1 {
        return None;
    }
    let Statement::Query(query) = &mut statements[0] else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let mut orphans = Vec::new();
    for item in &mut select.projection {
        let expr = match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
            _ => continue,
        };
        if contains_subquery(expr) {
            orphans.extend(placeholders(expr));
            *expr = Expr::value(Value::Null);
        }
    }
    if orphans.is_empty() && !query_changed(&select.projection) {
        return None;
    }
    for p in orphans {
        let keep = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&format!("COALESCE(CAST({p} AS VARCHAR), '') IS NOT NULL"))
            .ok()?
            .parse_expr()
            .ok()?;
        select.selection = Some(match select.selection.take() {
            Some(existing) => {
                Expr::BinaryOp { left: Box::new(existing), op: BinaryOperator::And, right: Box::new(keep) }
            }
            None => keep,
        });
    }
    Some(statements[0].to_string())
}

fn query_changed(projection: &[SelectItem]) -> bool {
    projection.iter().any(|item| {
        matches!(item, SelectItem::UnnamedExpr(Expr::Value(v)) | SelectItem::ExprWithAlias { expr: Expr::Value(v), .. } if v.value == Value::Null)
    })
}

fn contains_subquery(expr: &Expr) -> bool {
    visit_expressions(expr, |e| match e {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

fn placeholders(expr: &Expr) -> Vec<String> {
    let mut found = Vec::new();
    let _ = visit_expressions(expr, |e| {
        if let Expr::Value(v) = e
            && let Value::Placeholder(p) = &v.value
        {
            found.push(p.clone());
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regproc_columns_compare_with_zero_as_postgres_does() {
        let sql = "SELECT oid, typname, typreceive FROM pg_catalog.pg_type WHERE (typreceive != 0 OR typsend != 0) \
                   AND typtype != 'r' AND typreceive::TEXT != 'array_recv'";
        let out = driver_query(sql).expect("rewritten");
        assert!(out.contains("typreceive <> '-'") && out.contains("typsend <> '-'"), "{out}");
        assert!(out.contains("'array_recv'"), "{out}");
        assert_eq!(driver_query("SELECT typname FROM pg_catalog.pg_type WHERE oid = 0"), None);
    }

    #[test]
    fn correlated_projection_subqueries_become_null_and_keep_their_placeholders() {
        let sql = "SELECT a.attname AS name, (SELECT d.x FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid AND d.y = $1::VARCHAR) AS \"default\" \
                   FROM pg_catalog.pg_attribute a WHERE a.attnum > $2::SMALLINT";
        let out = catalog_query(sql).expect("rewritten");
        assert!(out.contains("NULL AS \"default\""), "{out}");
        assert!(!out.contains("pg_attrdef"), "{out}");
        assert!(out.contains("$1") && out.contains("$2"), "{out}");
        assert_eq!(catalog_query("SELECT relname FROM pg_catalog.pg_class"), None);
        assert_eq!(catalog_query("SELECT (SELECT 1) FROM customers"), None);
    }
}
