//! What a statement does, as far as the server cares: `--read-only` refuses
//! writes (INSERT/UPDATE/DELETE/MERGE/TRUNCATE, DDL) and action table
//! functions (`refund_charge(...)`), and DML answers with a command tag.
//!
//! Whatever the mode, a remote client never reaches the server's own files:
//! `COPY … TO 'file'`, `COPY … FROM`, `COPY … PROGRAM`, `CREATE EXTERNAL
//! TABLE` and file-path table references are refused with SQLSTATE 42501,
//! on the parsed statement and again on the plan (whichever parser made it).

use std::ops::ControlFlow;

use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::sql::sqlparser::ast::{CopyTarget, Statement, TableFactor, Visit, Visitor};

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

/// Refuses (SQLSTATE 42501) a statement that would read or write the
/// server's files: COPY to or from anything but the client, CREATE EXTERNAL
/// TABLE, and tables named by a path (`FROM '/etc/passwd'`).
pub fn check_file_access(statement: &Statement) -> Result<(), pgwire::error::PgWireError> {
    let refused = |what: &str| {
        Err(errors::user_error(
            errors::INSUFFICIENT_PRIVILEGE,
            format!(
                "{what} is not allowed: clients cannot reach the server's files; use COPY … TO STDOUT (psql: \\copy) to get rows into a local file"
            ),
        ))
    };
    match statement {
        Statement::Copy { to: false, .. } => return refused("COPY … FROM"),
        Statement::Copy { target: CopyTarget::File { .. }, .. } => return refused("COPY to a server file"),
        Statement::Copy { target: CopyTarget::Program { .. }, .. } => return refused("COPY … PROGRAM"),
        Statement::CopyIntoSnowflake { .. } => return refused("COPY INTO"),
        Statement::CreateTable(create) if create.external || create.location.is_some() => {
            return refused("CREATE EXTERNAL TABLE");
        }
        _ => {}
    }
    if let Some(path) = path_table(statement) {
        return refused(&format!("reading the file {path:?} as a table"));
    }
    Ok(())
}

/// Refuses (SQLSTATE 42501) SQL text that names a server file where the
/// Postgres parser would fail before [`check_file_access`] sees it:
/// DataFusion's `CREATE EXTERNAL TABLE` and `FROM '/path'`.
pub fn check_file_access_text(sql: &str) -> Result<(), pgwire::error::PgWireError> {
    let words: Vec<String> = sql.split_whitespace().map(str::to_lowercase).collect();
    let joined = words.join(" ");
    let what = if joined.contains("create external table") || joined.contains("create unbounded external table") {
        "CREATE EXTERNAL TABLE"
    } else if words.windows(2).any(|w| (w[0] == "from" || w[0] == "join") && w[1].starts_with('\'')) {
        "reading a file as a table"
    } else {
        return Ok(());
    };
    Err(errors::user_error(
        errors::INSUFFICIENT_PRIVILEGE,
        format!("{what} is not allowed: clients cannot reach the server's files"),
    ))
}

/// Refuses (SQLSTATE 42501) a plan that writes files (DataFusion's own
/// `COPY … TO 'path'`) or registers a file-backed table.
pub fn check_plan_file_access(plan: &LogicalPlan) -> Result<(), pgwire::error::PgWireError> {
    let what = match plan {
        LogicalPlan::Copy(_) => "COPY to a server file",
        LogicalPlan::Ddl(DdlStatement::CreateExternalTable(_)) => "CREATE EXTERNAL TABLE",
        _ => return Ok(()),
    };
    Err(errors::user_error(
        errors::INSUFFICIENT_PRIVILEGE,
        format!("{what} is not allowed: clients cannot reach the server's files"),
    ))
}

/// The first table reference that names a file (a quoted string or a path).
fn path_table(statement: &Statement) -> Option<String> {
    struct Finder(Option<String>);
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, .. } = factor {
                for part in &name.0 {
                    let Some(ident) = part.as_ident() else { continue };
                    let pathlike =
                        ident.value.contains('/') || ident.value.contains('\\') || ident.value.contains("://");
                    if ident.quote_style == Some('\'') || pathlike {
                        self.0 = Some(ident.value.clone());
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut finder = Finder(None);
    let _ = statement.visit(&mut finder);
    finder.0
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
        // COPY … TO STDOUT is a read; every other COPY is refused by `check_file_access`.
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
    fn file_access_is_refused_with_42501() {
        for sql in [
            "copy customers to '/tmp/x.csv'",
            "copy (select 1) to '/tmp/x'",
            "copy customers from stdin",
            "copy customers from '/etc/passwd'",
            "copy customers to program 'rm -rf /'",
            "select * from \"/etc/passwd\"",
        ] {
            let err = check_file_access(&parse(sql)).expect_err(sql);
            assert!(format!("{err:?}").contains("42501"), "{sql}: {err:?}");
        }
        assert!(check_file_access(&parse("copy (select 1) to stdout with (format csv, header)")).is_ok());
        assert!(check_file_access_text("CREATE  EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'").is_err());
        assert!(check_file_access_text("select * from '/etc/passwd'").is_err());
        assert!(check_file_access_text("select * from customers where email = 'a from b'").is_ok());
        assert!(check_file_access(&parse("copy customers to stdout")).is_ok());
        assert!(check_file_access(&parse("select * from stripe.customers")).is_ok());
    }

    #[test]
    fn dml_kind_names_the_tag() {
        assert_eq!(Dml::of(&parse("delete from customers where id = 'c'")), Some(Dml::Delete));
        assert_eq!(Dml::of(&parse("select 1")), None);
    }
}
