//! The one statement pipeline. Every front end — the REPL and `-c`/`-f`, the
//! Postgres simple and extended protocols, `watch` and the embedded API —
//! runs its SQL through these methods, so each statement is parsed once,
//! marked for `stripe_last_requests()`, passed through the AST passes (named
//! action arguments, `RETURNING`: [`passes`]), answered (`DESCRIBE` with SQL
//! type names) and explained (the dry-run hint) the same way wherever it
//! comes from.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast;

use super::{Engine, passes};
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
    /// `sql` after the named-arguments pass ([`passes::named_arguments`]), as
    /// SQL again, for front ends that plan the text with a parser of their own
    /// (the Postgres server's extended protocol, which types `$n`
    /// parameters). Text the pass does not change (no action call with named
    /// arguments, or text that does not parse) is returned as it was, so a
    /// dialect's own syntax is never re-rendered. Applying it twice changes
    /// nothing.
    pub fn rewrite(sql: &str) -> String {
        let Ok(mut statements) = DFParser::parse_sql(sql) else { return sql.to_string() };
        let is_action = |name: &str| crate::catalog::builtin().action(name).is_some();
        let changed = statements.iter_mut().fold(false, |c, s| passes::named_arguments(s, &is_action) | c);
        if !changed || statements.len() != 1 {
            return sql.to_string();
        }
        statements.pop_front().map(|s| s.to_string()).unwrap_or_else(|| sql.to_string())
    }

    /// Plans one SQL statement as a DataFrame (nothing is fetched until it runs).
    pub async fn dataframe(&self, sql: &str) -> Result<DataFrame> {
        self.statement_started();
        let prepared = self.parse_one(sql)?;
        if prepared.returning.is_some() {
            return Err(crate::Error::Plan(
                "RETURNING is answered when the statement runs (Engine::sql), not as a DataFrame".into(),
            ));
        }
        let plan = self.plan_prepared(prepared.statement, sql).await?;
        Ok(self.context().execute_logical_plan(plan).await.map_err(|e| self.explain(e, sql))?)
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
        let prepared = passes::apply(Statement::Statement(Box::new(statement)));
        self.plan_prepared(prepared.statement, text).await
    }

    /// The pass every plan of a parsed statement gets, for front ends that
    /// plan with a parser of their own (the Postgres server's extended
    /// protocol, with typed `$n` parameters): `DESCRIBE t` with SQL type names.
    pub fn finish_plan(&self, statement: &ast::Statement, plan: LogicalPlan) -> Result<LogicalPlan> {
        Ok(describe::with_sql_types(self.context(), plan, describe::described(statement))?)
    }

    /// Runs one SQL statement and collects its result. A result without rows
    /// still carries its schema (one empty batch), so callers can show the
    /// columns. `INSERT … RETURNING` (which DataFusion refuses) is answered
    /// by the write path itself.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        self.statement_started();
        let prepared = self.parse_one(sql)?;
        if let Some(returning) = prepared.returning {
            return Ok(dml::returning::run(self.context(), &returning).await.map_err(|e| self.explain(e, sql))?);
        }
        let plan = self.plan_prepared(prepared.statement, sql).await?;
        let frame = self.context().execute_logical_plan(plan).await.map_err(|e| self.explain(e, sql))?;
        Ok(collect_with_schema(frame).await?)
    }

    /// `error` with what the engine knows about it added: under
    /// `stripe.dry_run`, why an action's object columns are missing.
    pub fn explain(&self, error: DataFusionError, sql: &str) -> DataFusionError {
        let state = self.context().state();
        let dry_run = state.config().options().extensions.get::<StripeOptions>().is_some_and(|o| o.dry_run);
        actions::dry_run_hint::explain(error, sql, dry_run)
    }

    /// Parses `sql` (the session's dialect) into its one statement, after the passes.
    fn parse_one(&self, sql: &str) -> Result<passes::Prepared> {
        let state = self.context().state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(sql, &dialect).map_err(|e| self.explain(e, sql))?;
        Ok(passes::apply(statement))
    }

    /// Plans a statement the passes have seen (`DESCRIBE` with SQL types).
    async fn plan_prepared(&self, statement: Statement, text: &str) -> Result<LogicalPlan> {
        let described = match &statement {
            Statement::Statement(inner) => describe::described(inner).cloned(),
            _ => None,
        };
        let plan = self
            .context()
            .state()
            .statement_to_plan(statement)
            .await
            .and_then(|plan| describe::with_sql_types(self.context(), plan, described.as_ref()));
        plan.map_err(|e| self.explain(e, text).into())
    }
}
