//! The one statement pipeline. Every front end — the REPL and `-c`/`-f`, the
//! Postgres simple and extended protocols, `watch` and the embedded API —
//! runs its SQL through these methods, so each statement is marked for
//! `stripe_last_requests()`, rewritten (named action arguments), answered
//! (`RETURNING`, `DESCRIBE` with SQL type names) and explained (the dry-run
//! hint) the same way wherever it comes from.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast;

use super::Engine;
use crate::catalog::describe;
use crate::settings::StripeOptions;
use crate::{Result, actions, dml};

/// Collects `frame`; a result without rows still carries its schema (one
/// empty batch), so callers can show the columns.
pub async fn collect_with_schema(frame: DataFrame) -> datafusion::error::Result<Vec<RecordBatch>> {
    let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
    let mut batches = frame.collect().await?;
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(schema));
    }
    Ok(batches)
}

impl Engine {
    /// The text pass every statement gets before it is parsed: named action
    /// arguments (`name => value`) become a form DataFusion accepts. Applying
    /// it twice changes nothing.
    pub fn rewrite(sql: &str) -> String {
        actions::rewrite_sql(sql)
    }

    /// Plans one SQL statement as a DataFrame (nothing is fetched until it runs).
    pub async fn dataframe(&self, sql: &str) -> Result<DataFrame> {
        self.statement_started();
        self.plan_text(&Self::rewrite(sql)).await
    }

    /// Plans one statement a front end has already parsed (the Postgres
    /// server parses with its own dialect); `text` is its SQL, for hints.
    pub async fn plan_statement(&self, statement: ast::Statement, text: &str) -> Result<LogicalPlan> {
        self.statement_started();
        self.plan_statement_unmarked(statement, text).await
    }

    /// [`Self::plan_statement`] without marking a new statement, for front
    /// ends that plan a statement before they run it (Flight SQL plans at
    /// GetFlightInfo, which a client may send more than once, and runs at
    /// DoGet): they call [`Self::statement_started`] when it runs.
    pub async fn plan_statement_unmarked(&self, statement: ast::Statement, text: &str) -> Result<LogicalPlan> {
        let described = describe::described(&statement).cloned();
        let state = self.context().state();
        let plan = state
            .statement_to_plan(Statement::Statement(Box::new(statement)))
            .await
            .and_then(|plan| describe::with_sql_types(self.context(), plan, described.as_ref()));
        plan.map_err(|e| self.explain(e, text).into())
    }

    /// Runs one SQL statement and collects its result. A result without rows
    /// still carries its schema (one empty batch), so callers can show the
    /// columns. `INSERT … RETURNING` (which DataFusion refuses) is answered
    /// by the write path itself.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        self.statement_started();
        let sql = Self::rewrite(sql);
        if let Some(returning) = dml::returning::split(&sql) {
            return Ok(dml::returning::run(self.context(), &returning).await?);
        }
        Ok(collect_with_schema(self.plan_text(&sql).await?).await?)
    }

    /// `error` with what the engine knows about it added: under
    /// `stripe.dry_run`, why an action's object columns are missing.
    pub fn explain(&self, error: DataFusionError, sql: &str) -> DataFusionError {
        let state = self.context().state();
        let dry_run = state.config().options().extensions.get::<StripeOptions>().is_some_and(|o| o.dry_run);
        actions::dry_run_hint::explain(error, sql, dry_run)
    }

    async fn plan_text(&self, sql: &str) -> Result<DataFrame> {
        describe::sql(self.context(), sql).await.map_err(|e| self.explain(e, sql).into())
    }
}
