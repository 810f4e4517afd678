//! `INSERT/UPDATE/DELETE … RETURNING …`, which DataFusion's planner rejects:
//! the engine strips the clause, runs the write, then evaluates the RETURNING
//! list over the objects Stripe returned for the written rows (deleted
//! objects come back as `{id, deleted}` only; canceled subscriptions in full).
//! [`crate::engine::Engine::sql`] and the Postgres extended protocol (which
//! plans the write with its parameters first) go through here.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::empty::EmptyTable;
use datafusion::error::Result;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::catalog;
use crate::decode::Decoder;
use crate::dml::journal;
use crate::dml::params::invalid;

/// Name of the temporary table the RETURNING list is evaluated on.
const RESULT_TABLE: &str = "__stripe_returning";

/// A write statement with its RETURNING list split off.
#[derive(Debug, Clone, PartialEq)]
pub struct Returning {
    /// The statement without RETURNING.
    pub statement: String,
    /// The RETURNING items as SQL (`*`, `id, email`).
    pub items: String,
}

/// Splits `sql` when it is one INSERT/UPDATE/DELETE with a RETURNING clause.
pub fn split(sql: &str) -> Option<Returning> {
    // Every statement of every front end passes here: parse only the few that
    // can have the clause at all.
    if !sql.to_ascii_lowercase().contains("returning") {
        return None;
    }
    let mut statements = Parser::parse_sql(&GenericDialect {}, sql).ok()?;
    if statements.len() != 1 {
        return None;
    }
    take(&mut statements[0])
}

/// The RETURNING list of a parsed write, removed from it (the statement
/// pipeline's AST pass, see `engine::passes`).
pub fn take(statement: &mut Statement) -> Option<Returning> {
    let items = match statement {
        Statement::Insert(insert) => insert.returning.take(),
        Statement::Update(update) => update.returning.take(),
        Statement::Delete(delete) => delete.returning.take(),
        _ => None,
    }?;
    let items = items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    Some(Returning { statement: statement.to_string(), items })
}

/// Runs the write, then the RETURNING list over the written objects.
pub async fn run(ctx: &SessionContext, returning: &Returning) -> Result<Vec<RecordBatch>> {
    let write = ctx.state().create_logical_plan(&returning.statement).await?;
    run_planned(ctx, write, &returning.items).await
}

/// Runs a planned write (its parameters already bound, as the Postgres
/// extended protocol does), then the RETURNING list `items` over the written
/// objects.
pub async fn run_planned(ctx: &SessionContext, write: LogicalPlan, items: &str) -> Result<Vec<RecordBatch>> {
    let journal = journal::of_context(ctx);
    let before = journal.generation();
    ctx.execute_logical_plan(write).await?.collect().await?;
    let report = journal
        .last()
        .filter(|_| journal.generation() != before)
        .ok_or_else(|| invalid("RETURNING is only supported on INSERT, UPDATE and DELETE of stripe tables"))?;
    let def =
        catalog::builtin().table(&report.table).ok_or_else(|| invalid(format!("unknown table {}", report.table)))?;
    let batch = Decoder::new(def, None).decode(&report.written_objects())?;
    ctx.register_batch(RESULT_TABLE, batch)?;
    let result = async { ctx.sql(&format!("SELECT {items} FROM {RESULT_TABLE}")).await?.collect().await }.await;
    ctx.deregister_table(RESULT_TABLE)?;
    result
}

/// The columns the RETURNING list `items` of the planned write `write` will
/// have, known before anything is sent (a Postgres client asks at Describe).
pub async fn result_schema(write: &LogicalPlan, items: &str) -> Result<SchemaRef> {
    let LogicalPlan::Dml(dml) = write else {
        return Err(invalid("RETURNING is only supported on INSERT, UPDATE and DELETE of stripe tables"));
    };
    let scratch = SessionContext::new();
    scratch.register_table(RESULT_TABLE, Arc::new(EmptyTable::new(dml.target.schema())))?;
    let plan = scratch.sql(&format!("SELECT {items} FROM {RESULT_TABLE}")).await?;
    Ok(Arc::new(plan.schema().as_arrow().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returning_is_split_off_write_statements_only() {
        let r = split("INSERT INTO customers (email) VALUES ('a') RETURNING id, email").unwrap();
        assert_eq!(r.items, "id, email");
        assert!(!r.statement.to_lowercase().contains("returning"), "{}", r.statement);
        assert_eq!(split("DELETE FROM customers WHERE id = 'x' RETURNING *").unwrap().items, "*");
        assert!(split("UPDATE customers SET name = 'n' WHERE id = 'x'").is_none());
        assert!(split("SELECT 1").is_none());
        let r = split("INSERT INTO customers (metadata) VALUES (MAP {'a': 'b'}) RETURNING metadata['a']").unwrap();
        assert!(r.statement.contains("MAP {'a': 'b'}"), "{}", r.statement);
        assert_eq!(r.items, "metadata['a']");
    }
}
