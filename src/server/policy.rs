//! What a statement does, as far as the server cares: `--read-only` refuses
//! writes (INSERT/UPDATE/DELETE/MERGE/TRUNCATE, DDL) and action table
//! functions (`refund_charge(...)`), and DML answers with a command tag.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Statement, TableFactor, Visit, Visitor};

use crate::server::errors;
use datafusion_postgres::pgwire;
use stripe_sql::catalog;

/// The DML kind of a statement, for its command tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dml {
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl Dml {
    /// The DML kind of `statement`, if it is INSERT, UPDATE or DELETE.
    pub fn of(statement: &Statement) -> Option<Self> {
        match statement {
            Statement::Insert(_) => Some(Self::Insert),
            Statement::Update { .. } => Some(Self::Update),
            Statement::Delete(_) => Some(Self::Delete),
            _ => None,
        }
    }

    /// The command tag word (`INSERT`, `UPDATE`, `DELETE`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// Refuses (SQLSTATE 25006) what a read-only server must not run.
pub fn check_read_only(statement: &Statement) -> Result<(), pgwire::error::PgWireError> {
    if let Some(what) = write_kind(statement) {
        return Err(errors::user_error(
            errors::READ_ONLY,
            format!("cannot run {what} on a read-only server (started with --read-only)"),
        ));
    }
    if let Some(action) = action_called(statement) {
        return Err(errors::user_error(
            errors::READ_ONLY,
            format!(
                "cannot call action {action}() on a read-only server (started with --read-only); reads and stripe_get() still work"
            ),
        ));
    }
    Ok(())
}

/// A human name for a statement that writes, or None for reads.
fn write_kind(statement: &Statement) -> Option<&'static str> {
    Some(match statement {
        Statement::Insert(_) => "INSERT",
        Statement::Update { .. } => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Merge { .. } => "MERGE",
        Statement::Truncate { .. } => "TRUNCATE",
        Statement::CreateTable(_) | Statement::CreateView { .. } | Statement::CreateSchema { .. } => "CREATE",
        Statement::Drop { .. } => "DROP",
        Statement::AlterTable { .. } => "ALTER",
        Statement::Copy { .. } => "COPY",
        _ => return None,
    })
}

/// The first action table function the statement calls, if any.
fn action_called(statement: &Statement) -> Option<String> {
    struct Finder(Option<String>);
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            let name = match factor {
                TableFactor::Table { name, args: Some(_), .. } => Some(name),
                TableFactor::Function { name, .. } => Some(name),
                _ => None,
            };
            if let Some(name) = name
                && let Some(last) = name.0.last()
            {
                let ident = last.to_string().trim_matches('"').to_lowercase();
                if catalog::builtin().action(&ident).is_some() {
                    self.0 = Some(ident);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut finder = Finder(None);
    let _ = statement.visit(&mut finder);
    finder.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn parse(sql: &str) -> Statement {
        Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap().remove(0)
    }

    #[test]
    fn read_only_refuses_writes_and_actions_but_not_reads() {
        assert!(check_read_only(&parse("select * from customers where email = 'a'")).is_ok());
        assert!(check_read_only(&parse("select * from stripe_get('cus_1')")).is_ok());
        assert!(check_read_only(&parse("delete from customers where id = 'cus_1'")).is_err());
        assert!(check_read_only(&parse("insert into customers (email) values ('a')")).is_err());
        assert!(check_read_only(&parse("update customers set name = 'x' where id = 'cus_1'")).is_err());
        let action = catalog::builtin().actions.first().expect("the catalog has actions").name.clone();
        let err = check_read_only(&parse(&format!("select * from {action}('x_1')"))).unwrap_err();
        assert!(err.to_string().contains(&action) || format!("{err:?}").contains(&action), "{err:?}");
    }

    #[test]
    fn dml_kind_names_the_tag() {
        assert_eq!(Dml::of(&parse("delete from customers where id = 'c'")), Some(Dml::Delete));
        assert_eq!(Dml::of(&parse("select 1")), None);
    }
}
