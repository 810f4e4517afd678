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
//! `'-'`, the name Postgres shows for oid 0, and a `'name'::regproc` literal
//! becomes the name (DBeaver asks `typinput='pg_catalog.array_in'::regproc`).
//!
//! DataGrip reads the `xmin` system column of catalog rows (`N.xmin as
//! state_number`): it becomes `0`, and the tables `pg_extra.rs` adds are
//! found when named without `pg_catalog.`.
//!
//! A scalar subquery over the catalog that Postgres trusts to return at most
//! one row (Npgsql's `(SELECT rngtypid FROM pg_range WHERE rngmultitypid =
//! typ.oid)`) is aggregated with `max`, which is the same answer for zero or
//! one row and lets DataFusion decorrelate it.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Ident, ObjectNamePart, SelectItem, SetExpr, Statement, Value, visit_expressions,
    visit_expressions_mut, visit_relations_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// The `regproc` columns of `pg_type` and `pg_proc`.
const REGPROC_COLUMNS: [&str; 8] =
    ["typreceive", "typsend", "typinput", "typoutput", "typmodin", "typmodout", "typanalyze", "typsubscript"];

/// `sql` made answerable by the emulated catalog (both rewrites of this
/// module), or None when it needs neither.
pub fn driver_query(sql: &str) -> Option<String> {
    let system = system_columns(sql);
    let sql = system.as_deref().unwrap_or(sql);
    match catalog_query(sql) {
        Some(rewritten) => Some(regproc_comparisons(&rewritten).unwrap_or(rewritten)),
        None => regproc_comparisons(sql).or(system),
    }
}

/// `sql` with Postgres's `xmin` system column (`alias.xmin`, which DataGrip
/// reads as a change counter) as the constant `0`, and the tables
/// `pg_extra` adds named unqualified (`from pg_stat_ssl`) as `pg_catalog`
/// ones; None when it has neither.
pub fn system_columns(sql: &str) -> Option<String> {
    let lower = sql.to_lowercase();
    if !lower.contains(".xmin") && !crate::server::pg_extra::TABLES.iter().any(|t| lower.contains(t)) {
        return None;
    }
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    let zero = Parser::new(&PostgreSqlDialect {}).try_with_sql("0::bigint").and_then(|mut p| p.parse_expr()).ok()?;
    let mut changed = false;
    for statement in &mut statements {
        let _ = visit_expressions_mut(statement, |e| {
            if let Expr::CompoundIdentifier(parts) = e
                && parts.len() == 2
                && parts[1].value.eq_ignore_ascii_case("xmin")
            {
                *e = zero.clone();
                changed = true;
            }
            ControlFlow::<()>::Continue(())
        });
        let _ = visit_relations_mut(statement, |name| {
            if let [ObjectNamePart::Identifier(table)] = name.0.as_slice()
                && crate::server::pg_extra::TABLES.iter().any(|t| table.value.eq_ignore_ascii_case(t))
            {
                name.0.insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
                changed = true;
            }
            ControlFlow::<()>::Continue(())
        });
    }
    changed.then(|| statements.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
}

/// `sql` with `regproc_column = 0` (or `!=`, `<>`) compared with `'-'`,
/// `'name'::regproc` literals as names and catalog scalar subqueries aggregated.
pub fn regproc_comparisons(sql: &str) -> Option<String> {
    let lower = sql.to_lowercase();
    let catalog = ["pg_type", "pg_range", "pg_class", "pg_namespace", "pg_attribute", "pg_proc"];
    if !catalog.iter().any(|t| lower.contains(t)) {
        return None;
    }
    let regproc = lower.contains("pg_type") && REGPROC_COLUMNS.iter().any(|c| lower.contains(c));
    let subquery = lower.contains("(select") || lower.contains("( select");
    if !regproc && !subquery && !lower.contains("::regproc") {
        return None;
    }
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).ok()?;
    let mut changed = false;
    for statement in &mut statements {
        let _ = visit_expressions_mut(statement, |e| {
            if let Expr::Cast { expr, data_type, .. } = e
                && data_type.to_string().eq_ignore_ascii_case("regproc")
                && let Expr::Value(v) = expr.as_ref()
                && let Value::SingleQuotedString(name) = &v.value
            {
                let name = name.trim_start_matches("pg_catalog.").to_owned();
                *e = Expr::value(Value::SingleQuotedString(name));
                changed = true;
                return ControlFlow::<()>::Continue(());
            }
            if let Expr::Subquery(query) = e
                && let SetExpr::Select(select) = query.body.as_mut()
                && select.projection.len() == 1
                && matches!(&select.group_by, datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(g, _) if g.is_empty())
                && query.limit_clause.is_none()
                && let SelectItem::UnnamedExpr(item) | SelectItem::ExprWithAlias { expr: item, .. } =
                    &mut select.projection[0]
                && !matches!(item, Expr::Function(_))
                && let Ok(aggregated) = Parser::new(&PostgreSqlDialect {})
                    .try_with_sql(&format!("max({item})"))
                    .and_then(|mut p| p.parse_expr())
            {
                *item = aggregated;
                changed = true;
            }
            if let Expr::BinaryOp { left, op: BinaryOperator::Eq | BinaryOperator::NotEq, right } = e {
                let dash = || Expr::value(Value::SingleQuotedString("-".to_owned()));
                // `proc.oid = typ.typreceive`: the function is joined by its name here.
                if is_regproc(left) && is_oid_column(right) {
                    rename_oid(right);
                    changed = true;
                } else if is_regproc(right) && is_oid_column(left) {
                    rename_oid(left);
                    changed = true;
                } else if is_regproc(left) && is_zero(right) {
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

fn is_oid_column(expr: &Expr) -> bool {
    matches!(expr, Expr::CompoundIdentifier(parts) if parts.len() == 2 && parts[1].value.eq_ignore_ascii_case("oid"))
}

/// `alias.oid` → `alias.proname`.
fn rename_oid(expr: &mut Expr) {
    if let Expr::CompoundIdentifier(parts) = expr {
        parts[1] = datafusion::sql::sqlparser::ast::Ident::new("proname");
    }
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
    fn regproc_literals_and_catalog_scalar_subqueries() {
        let dbeaver = "SELECT typinput='pg_catalog.array_in'::regproc as is_array FROM pg_catalog.pg_type";
        assert!(driver_query(dbeaver).unwrap().contains("typinput = 'array_in'"));
        let npgsql = "SELECT CASE WHEN typ.typtype='m' THEN (SELECT rngtypid FROM pg_range WHERE rngmultitypid = typ.oid) END FROM pg_type AS typ";
        assert!(driver_query(npgsql).unwrap().contains("SELECT max(rngtypid) FROM pg_range"));
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

    #[test]
    fn xmin_is_zero_and_extra_tables_are_qualified() {
        let sql = "select N.oid, N.xmin as state_number from pg_catalog.pg_namespace N";
        let out = system_columns(sql).unwrap();
        assert!(out.contains("0::BIGINT AS state_number") && !out.contains("xmin"), "{out}");
        let out = system_columns("select ssl from pg_stat_ssl where pid = pg_backend_pid()").unwrap();
        assert!(out.contains("FROM pg_catalog.pg_stat_ssl"), "{out}");
        assert_eq!(system_columns("select xmin from customers"), None);
        assert_eq!(system_columns("select * from pg_catalog.pg_locks"), None, "already qualified");
    }
}
