//! The user's watched query: one `SELECT … FROM <table> [WHERE …]` over a table
//! with `id` and `created`. It is parsed (sqlparser, as DataFusion re-exports
//! it), checked, and recomposed for each poll with `created >= <high-water>`
//! added to the WHERE clause, so the engine pushes the bound down to Stripe
//! (`created[gte]=…`), plus two hidden columns (`id`, `created`) the watcher
//! reads and strips before printing.

use datafusion::sql::sqlparser::ast::{GroupByExpr, ObjectNamePart, SetExpr, Statement, TableFactor, TableWithJoins};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::catalog::{self, ColumnType, TableDef};
pub use crate::time::rfc3339;
use crate::{Error, Result};

/// Hidden column carrying each row's id.
pub const ID_COLUMN: &str = "__watch_id";
/// Hidden column carrying each row's `created`.
pub const CREATED_COLUMN: &str = "__watch_created";

/// A query `stripe-sql watch` can repeat.
#[derive(Debug, Clone)]
pub struct WatchQuery {
    /// The catalog table the query reads.
    pub table: TableDef,
    /// The select list as written.
    projection: String,
    /// The FROM clause as written (`charges`, `stripe.charges AS c`).
    from: String,
    /// How columns of the table are qualified (`c`, `stripe.charges`).
    qualifier: String,
    /// The name the table is visible under inside the query (alias or table name).
    visible_name: String,
    /// The WHERE condition as written.
    selection: Option<String>,
}

fn refuse(why: &str) -> Error {
    Error::Plan(format!(
        "cannot watch this query: {why}; watch takes one `SELECT … FROM <table> [WHERE …]` over a table with \
         `id` and `created` columns, e.g. `SELECT id, amount FROM charges WHERE currency = 'usd'`"
    ))
}

impl WatchQuery {
    /// Parses and checks `sql`; the error says what cannot be watched and why.
    pub fn parse(sql: &str) -> Result<Self> {
        let mut statements = Parser::parse_sql(&GenericDialect {}, sql)
            .map_err(|e| Error::Plan(format!("could not parse the watched query: {e}")))?;
        let statement = match (statements.pop(), statements.is_empty()) {
            (Some(s), true) => s,
            (None, _) => return Err(refuse("it is empty")),
            (Some(_), false) => return Err(refuse("it has more than one statement")),
        };
        let Statement::Query(query) = statement else { return Err(refuse("it is not a SELECT")) };
        if query.with.is_some() {
            return Err(refuse("WITH is not supported"));
        }
        if query.order_by.is_some() {
            return Err(refuse("ORDER BY is not supported (rows are printed oldest first, as they appear)"));
        }
        if query.limit_clause.is_some() || query.fetch.is_some() {
            return Err(refuse("LIMIT/OFFSET/FETCH is not supported (every new row is printed)"));
        }
        let SetExpr::Select(select) = *query.body else {
            return Err(refuse("UNION, VALUES and nested queries are not supported"));
        };
        if select.distinct.is_some() || select.top.is_some() {
            return Err(refuse("DISTINCT/TOP is not supported"));
        }
        let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
        if grouped || select.having.is_some() {
            return Err(refuse("GROUP BY/HAVING is not supported (aggregates have no new rows)"));
        }
        if select.into.is_some() || !select.named_window.is_empty() || select.qualify.is_some() {
            return Err(refuse("INTO, WINDOW and QUALIFY are not supported"));
        }
        if !select.lateral_views.is_empty() || !select.sort_by.is_empty() || !select.cluster_by.is_empty() {
            return Err(refuse("LATERAL VIEW, SORT BY and CLUSTER BY are not supported"));
        }
        let [TableWithJoins { relation, joins }] = select.from.as_slice() else {
            return Err(refuse("it must read exactly one table (no FROM-less query, no comma join)"));
        };
        if !joins.is_empty() {
            return Err(refuse("joins are not supported"));
        }
        let TableFactor::Table { name, alias, args: None, .. } = relation else {
            return Err(refuse("FROM must name a table (not a subquery or table function)"));
        };
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => Ok(i.value.clone()),
                ObjectNamePart::Function(_) => Err(refuse("FROM must name a table")),
            })
            .collect::<Result<_>>()?;
        let table_name = parts.last().cloned().unwrap_or_default();
        let schema_ok = match parts.as_slice() {
            [_] => true,
            [s, _] => s == crate::catalog::SCHEMA,
            [c, s, _] => c == crate::catalog::CATALOG && s == crate::catalog::SCHEMA,
            _ => false,
        };
        let table = catalog::builtin()
            .table(&table_name)
            .filter(|_| schema_ok)
            .ok_or_else(|| refuse(&format!("{name} is not a stripe table")))?;
        if table.column("id").is_none() {
            return Err(refuse(&format!("table {table_name} has no id column")));
        }
        if table.column("created").is_none_or(|c| c.ty != ColumnType::Timestamp) {
            return Err(refuse(&format!(
                "table {table_name} has no created timestamp, so new rows cannot be told apart"
            )));
        }
        let projection = select.projection.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let (qualifier, visible_name) = match alias {
            Some(a) => (a.name.to_string(), a.name.to_string()),
            None => (name.to_string(), table_name.clone()),
        };
        Ok(WatchQuery {
            table: table.clone(),
            projection,
            from: relation.to_string(),
            qualifier,
            visible_name,
            selection: select.selection.as_ref().map(ToString::to_string),
        })
    }

    /// The query of one poll: the user's query restricted to `created >= since`
    /// (unix seconds), with the hidden id/created columns, oldest first.
    pub fn rows_sql(&self, since: i64) -> String {
        let bound = format!("{q}.created >= '{}'", rfc3339(since), q = self.qualifier);
        let condition = match &self.selection {
            Some(user) => format!("({user}) AND {bound}"),
            None => bound,
        };
        format!(
            "SELECT {proj}, {q}.id AS {ID_COLUMN}, {q}.created AS {CREATED_COLUMN} FROM {from} WHERE {condition} \
             ORDER BY {CREATED_COLUMN}, {ID_COLUMN}",
            proj = self.projection,
            q = self.qualifier,
            from = self.from,
        )
    }

    /// The user's projection and WHERE over another table with this table's
    /// schema (`name`, e.g. objects taken from events), visible under the same
    /// alias, with the hidden columns.
    pub fn over_sql(&self, name: &str) -> String {
        let q = quote_ident(&self.visible_name);
        let condition = self.selection.as_deref().map(|w| format!(" WHERE {w}")).unwrap_or_default();
        format!(
            "SELECT {proj}, {q}.id AS {ID_COLUMN}, {q}.created AS {CREATED_COLUMN} FROM {name} AS {q}{condition}",
            proj = self.projection,
        )
    }
}

/// `"name"` unless it is a plain lower-case identifier.
fn quote_ident(name: &str) -> String {
    let plain = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit());
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_created_bound_and_hidden_columns() {
        let q = WatchQuery::parse("select id, amount from charges where currency = 'usd' or amount > 5").unwrap();
        assert_eq!(q.table.name, "charges");
        let sql = q.rows_sql(1_700_000_000);
        assert!(
            sql.contains("WHERE (currency = 'usd' OR amount > 5) AND charges.created >= '2023-11-14T22:13:20Z'"),
            "{sql}"
        );
        assert!(
            sql.starts_with("SELECT id, amount, charges.id AS __watch_id, charges.created AS __watch_created"),
            "{sql}"
        );
        let q = WatchQuery::parse("SELECT * FROM stripe.customers AS c").unwrap();
        let sql = q.rows_sql(0);
        assert!(sql.contains("FROM stripe.customers AS c WHERE c.created >= '1970-01-01T00:00:00Z'"), "{sql}");
        assert!(q.over_sql("__watch_objects").contains("FROM __watch_objects AS c"));
    }

    #[test]
    fn refuses_what_it_cannot_watch_with_the_reason() {
        let cases = [
            ("SELECT count(*) FROM charges GROUP BY currency", "GROUP BY"),
            ("SELECT * FROM charges ORDER BY amount", "ORDER BY"),
            ("SELECT * FROM charges LIMIT 3", "LIMIT"),
            ("SELECT * FROM charges c JOIN customers u ON c.customer = u.id", "joins"),
            ("SELECT * FROM charges, customers", "exactly one table"),
            ("SELECT * FROM (SELECT * FROM charges)", "subquery"),
            ("SELECT * FROM balance", "not a stripe table"),
            ("SELECT * FROM tax_codes", "no created"),
            ("INSERT INTO customers (email) VALUES ('a@b.c')", "not a SELECT"),
            ("SELECT 1; SELECT 2", "more than one"),
            ("SELECT DISTINCT currency FROM charges", "DISTINCT"),
            ("SELECT * FROM charges UNION SELECT * FROM charges", "UNION"),
        ];
        for (sql, why) in cases {
            let err = WatchQuery::parse(sql).unwrap_err().to_string();
            assert!(err.starts_with("cannot watch this query") && err.contains(why), "{sql}: {err}");
        }
        assert!(WatchQuery::parse("SELEC").unwrap_err().to_string().contains("could not parse"));
    }
}
