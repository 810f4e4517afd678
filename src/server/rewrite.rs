//! Makes drivers' catalog queries plannable: SQLAlchemy's column reflection
//! selects correlated scalar subqueries (defaults, identity, collation) that
//! DataFusion cannot run. In queries over `pg_catalog`, such projection items
//! become NULL (we have no defaults, identities or collations); the `$n`
//! placeholders they held stay referenced by a always-true filter so the
//! client's parameter numbering still lines up.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, SelectItem, SetExpr, Statement, Value, visit_expressions};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

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
