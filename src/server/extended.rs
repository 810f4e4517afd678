//! The extended query protocol (Parse/Bind/Describe/Execute): statements are
//! planned at Parse with `$n` placeholders; Execute binds the values into the
//! plan, so the Stripe tables see plain `column = literal` filters and push
//! them down exactly as for a simple query. A prepared `COPY (query) TO
//! STDOUT` (as tokio-postgres and connectorx send it) plans its query the
//! same way and answers Execute with COPY data.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, DFSchemaRef, ParamValues, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::df::deserialize_parameters;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::pgwire;
use futures::{Sink, SinkExt};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::ExtendedQueryHandler;
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::Execute;

use crate::server::copy::CopyOut;
use crate::server::encode::WireSchema;
use crate::server::errors;
use crate::server::policy::{self, Dml};
use crate::server::session::Session;
use stripe_sql::engine::Engine;
use stripe_sql::engine::returning;

/// A prepared statement: its SQL and, unless empty, the parsed statement and
/// its plan. For a write with `RETURNING` (which DataFusion does not plan)
/// the plan is the write's and the SQL keeps the clause, which the engine
/// answers after the write. (datafusion-postgres' hooks require this shape.)
pub type Prepared = (String, Option<(Statement, LogicalPlan)>);

/// The `RETURNING` items of a prepared write, if it has any.
fn returning_items(prepared: &Prepared) -> Option<String> {
    match prepared {
        (sql, Some((_, LogicalPlan::Dml(_)))) => returning::split(sql).map(|r| r.items),
        _ => None,
    }
}

/// Parses and plans statements for the extended protocol, refusing writes
/// at Parse time on a read-only server.
pub struct StatementParser {
    inner: Arc<datafusion_postgres::Parser>,
    engine: Arc<Engine>,
    compat: PostgresCompatibilityParser,
    read_only: bool,
}

impl StatementParser {
    /// Wraps the catalog-aware parser of `session`.
    pub fn new(session: &Session) -> Self {
        Self {
            inner: Arc::clone(&session.parser),
            engine: Arc::clone(&session.engine),
            compat: PostgresCompatibilityParser::new(),
            read_only: session.read_only,
        }
    }
}

impl StatementParser {
    /// A planning error as a Postgres error, with what the engine adds to it
    /// (the dry-run hint), as the simple protocol reports it.
    fn explained(&self, e: PgWireError, sql: &str) -> PgWireError {
        let PgWireError::ApiError(inner) = e else {
            return e;
        };
        match inner.downcast::<DataFusionError>() {
            Ok(df) => errors::from_datafusion(&self.engine.explain(*df, sql)),
            Err(other) => errors::relabel(PgWireError::ApiError(other)),
        }
    }
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Prepared;

    async fn parse_sql<C>(&self, client: &C, sql: &str, types: &[Option<Type>]) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        policy::check_file_access_text(sql)?;
        let mut sql = Engine::rewrite(sql);
        if let Some(rewritten) = crate::server::rewrite::driver_query(&sql) {
            sql = rewritten;
        }
        let statements = self
            .compat
            .parse(&sql)
            .map_err(|e| errors::user_error(errors::SYNTAX_ERROR, format!("could not parse the query: {e}")))?;
        for statement in &statements {
            policy::check_file_access(statement)?;
            if self.read_only {
                policy::check_read_only(statement)?;
            }
        }
        if let [statement] = statements.as_slice()
            && let Some(copy) = CopyOut::of(statement)?
        {
            // The query inside is planned (and its `$n` typed) as a query; the
            // prepared statement keeps the COPY so Execute answers with COPY data.
            if self.read_only {
                policy::check_read_only(&copy.query)?;
            }
            let inner = copy.query.to_string();
            let parsed = self.inner.parse_sql(client, &inner, types).await.map_err(|e| self.explained(e, &inner))?;
            return Ok(parsed.map(|(_, planned)| (sql.clone(), planned.map(|(_, plan)| (statement.clone(), plan)))));
        }
        let explained = |e| self.explained(e, &sql);
        let Some(returning) = returning::split(&sql) else {
            let parsed = self.inner.parse_sql(client, &sql, types).await.map_err(explained)?;
            let Some((text, Some((statement, plan)))) = parsed else { return Ok(parsed) };
            let plan = self.engine.finish_plan(&statement, plan).map_err(errors::from_crate)?;
            return Ok(Some((text, Some((statement, plan)))));
        };
        let parsed = self.inner.parse_sql(client, &returning.statement, types).await.map_err(explained)?;
        Ok(parsed.map(|(_, planned)| (sql, planned)))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        self.inner.get_parameter_types(stmt).map_err(errors::relabel)
    }

    fn get_result_schema(&self, stmt: &Prepared, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        let format = format.unwrap_or(&Format::UnifiedText);
        match (stmt, returning_items(stmt)) {
            ((_, Some((_, plan))), Some(items)) => {
                let schema = returning_schema(plan, &items)?;
                WireSchema::of(&schema).fields(format, None)
            }
            ((_, Some((Statement::Copy { .. }, _))), _) => Ok(vec![]),
            ((_, Some((_, plan))), None) if !matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Dml(_)) => {
                WireSchema::of(plan.schema()).fields(format, None)
            }
            _ => Ok(vec![]),
        }
    }
}

/// The columns of the `RETURNING` list `items` of the planned write `plan`.
fn returning_schema(plan: &LogicalPlan, items: &str) -> PgWireResult<DFSchemaRef> {
    // Describe is synchronous in pgwire. The schema is planned on a scratch
    // context holding one empty in-memory table: every await in it is ready
    // at once, so this blocks for no longer than the planning itself.
    let schema =
        futures::executor::block_on(returning::result_schema(plan, items)).map_err(|e| errors::from_datafusion(&e))?;
    DFSchema::try_from(schema.as_ref().clone()).map(Arc::new).map_err(|e| errors::from_datafusion(&e))
}

/// Parameter values of `portal`, typed by the client's hints or else by
/// what DataFusion inferred from the plan. Text arrays sent in text format
/// are read as Postgres reads them (`array_text`).
fn bind_parameters(plan: &LogicalPlan, portal: &Portal<Prepared>) -> PgWireResult<ParamValues> {
    let types = plan.get_parameter_types().map_err(|e| errors::from_datafusion(&e))?;
    let mut ordered: Vec<(u32, Option<DataType>)> =
        types.into_iter().map(|(k, v)| (k.trim_start_matches('$').parse::<u32>().unwrap_or(u32::MAX), v)).collect();
    ordered.sort_by_key(|(k, _)| *k);
    let inferred: Vec<Option<&DataType>> = ordered.iter().map(|(_, t)| t.as_ref()).collect();
    let mut values = deserialize_parameters(portal, &inferred)?;
    if let ParamValues::List(list) = &mut values {
        for (i, param) in list.iter_mut().enumerate() {
            let ScalarValue::List(array) = &param.value else { continue };
            if !matches!(array.value_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                || portal.parameter_format.is_binary(i)
            {
                continue;
            }
            let Some(Some(raw)) = portal.parameters.get(i) else { continue };
            let items = std::str::from_utf8(raw).ok().and_then(crate::server::array_text::parse).ok_or_else(|| {
                errors::user_error(
                    errors::INVALID_TEXT_REPRESENTATION,
                    format!("parameter ${} is not an array literal: {}", i + 1, String::from_utf8_lossy(raw)),
                )
            })?;
            let items: Vec<ScalarValue> = items.into_iter().map(ScalarValue::Utf8).collect();
            let list = ScalarValue::new_list(&items, &DataType::Utf8, true);
            param.value =
                ScalarValue::List(list).cast_to(&param.value.data_type()).map_err(|e| errors::from_datafusion(&e))?;
        }
    }
    Ok(values)
}

#[async_trait]
impl ExtendedQueryHandler for Session {
    type Statement = Prepared;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<StatementParser> {
        Arc::new(StatementParser::new(self))
    }

    /// pgwire's Execute, then the engine's warnings as notices (`notices`).
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self._on_execute(client, message).await?;
        for notice in crate::server::notices::take(&self.engine) {
            client.feed(notice).await?;
        }
        Ok(())
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Prepared>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = &portal.statement.statement;
        let (_, Some((statement, plan))) = prepared else {
            return Ok(Response::EmptyQuery);
        };
        let params = bind_parameters(plan, portal)?;
        if let Some(copy) = CopyOut::of(statement)? {
            let plan = plan.clone().replace_params_with_values(&params).map_err(|e| errors::from_datafusion(&e))?;
            self.engine.statement_started();
            return self.run_copy(&copy, plan, client).await;
        }
        for hook in &self.hooks {
            if let Some(result) = hook.handle_extended_query(statement, plan, &params, &self.ctx, client).await {
                return result.map_err(errors::relabel);
            }
        }
        let plan = plan.clone().replace_params_with_values(&params).map_err(|e| errors::from_datafusion(&e))?;
        self.engine.statement_started();
        if let (Some(dml), Some(items)) = (Dml::of(statement), returning_items(prepared)) {
            let batches =
                returning::run_planned(&self.ctx, plan, &items).await.map_err(|e| errors::from_datafusion(&e))?;
            return self.dml_response(dml, batches, &portal.result_column_format, client).await;
        }
        if let Some(dml) = Dml::of(statement) {
            let run = async {
                let df = self.ctx.execute_logical_plan(plan).await?;
                df.collect().await
            };
            let batches = run.await.map_err(|e| errors::from_datafusion(&e))?;
            return self.dml_response(dml, batches, &portal.result_column_format, client).await;
        }
        self.run_plan(plan, &portal.result_column_format, client, true).await
    }
}
