//! One client connection: its own [`Engine`] session (settings such as
//! `SET stripe.use_search` stay per connection) over the server's shared
//! Stripe client, answering the simple query protocol. The extended protocol
//! lives in `extended.rs`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::hooks::QueryHook;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire;
use datafusion_postgres::{DfSessionService, Parser};
use futures::channel::oneshot;
use futures::{Sink, SinkExt};
use pgwire::api::portal::Format;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{QueryResponse, Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, ConnectionHandle};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::simplequery::Query;
use pgwire::types::format::FormatOptions;

use datafusion::execution::runtime_env::RuntimeEnv;
use stripe_sql::engine::Engine;

use crate::Result;
use crate::server::copy::CopyOut;
use crate::server::encode;
use crate::server::errors;
use crate::server::policy::{self, Dml};
use crate::server::session_tables::SessionTables;
use crate::server::{pg_compat, settings};
use stripe_sql::stripe;

/// The per-connection query handler.
pub struct Session {
    pub(crate) engine: Arc<Engine>,
    functions: Vec<crate::repl::FunctionInfo>,
    pub(crate) ctx: Arc<SessionContext>,
    pub(crate) parser: Arc<Parser>,
    compat: PostgresCompatibilityParser,
    pub(crate) hooks: Vec<Arc<dyn QueryHook>>,
    pub(crate) read_only: bool,
    tables: SessionTables,
}

impl Session {
    /// Lets this session read tables from the mirror under `dir` (`--mirror`).
    pub fn set_mirror(&self, dir: std::path::PathBuf) {
        self.engine.set_mirror(dir);
    }

    /// A fresh session over `client` with the Stripe schema, the engine's
    /// functions and the `pg_catalog` emulation clients query at connect. It
    /// logs its own requests (a log of the size `client`'s has) and its
    /// queries draw on `runtime`'s memory pool.
    pub fn new(
        client: &stripe::Client,
        allow_live_writes: bool,
        read_only: bool,
        runtime: Arc<RuntimeEnv>,
    ) -> Result<Self> {
        let own_log = stripe::RequestLog::with_capacity(client.request_log().capacity());
        let engine = Arc::new(Engine::with_runtime(client.with_request_log(own_log), runtime)?);
        engine.set_allow_live_writes(allow_live_writes);
        crate::server::register_pg_catalog(engine.context())?;
        let ctx = Arc::new(engine.context().clone());
        let hooks: Vec<Arc<dyn QueryHook>> =
            vec![Arc::new(CursorStatementHook), Arc::new(SetShowHook), Arc::new(TransactionStatementHook)];
        let service = DfSessionService::new_with_hooks(Arc::clone(&ctx), hooks.clone());
        let parser = service.query_parser();
        let functions = crate::repl::Backend::functions(&crate::backend::EngineBackend::new(Arc::clone(&engine)));
        let tables = SessionTables::new(&ctx);
        Ok(Self {
            engine,
            functions,
            ctx,
            parser,
            compat: PostgresCompatibilityParser::new(),
            hooks,
            read_only,
            tables,
        })
    }

    /// Runs one parsed statement of a simple query. `text` is the statement's
    /// own SQL when the query held only it (DML keeps its RETURNING that way).
    /// `last`: no statement of the query follows, so its rows may arm the
    /// cancel handle (see `run_plan`).
    async fn run_simple<C>(
        &self,
        client: &mut C,
        statement: Statement,
        text: Option<&str>,
        last: bool,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        policy::check_file_access(&statement)?;
        if let Some(copy) = CopyOut::of(&statement)? {
            if self.read_only {
                policy::check_read_only(&copy.query)?;
            }
            let sql = copy.query.to_string();
            let plan = self.engine.plan_statement(copy.query.clone(), &sql).await.map_err(errors::from_crate)?;
            return self.run_copy(&copy, plan, client).await;
        }
        if let Some(result) = settings::handle(&self.ctx, &statement).await {
            return result;
        }
        if let Some(tag) = savepoint_tag(&statement) {
            return Ok(Response::Execution(Tag::new(tag)));
        }
        for hook in &self.hooks {
            if let Some(result) = hook.handle_simple_query(&statement, &self.ctx, client).await {
                return result.map_err(errors::relabel);
            }
        }
        if self.read_only {
            policy::check_read_only(&statement)?;
        }
        // pgwire races `do_query` against the client's cancel; the rows
        // streamed afterwards are covered by `run_plan`.
        if let Some(dml) = Dml::of(&statement) {
            let sql = text.map(str::to_owned).unwrap_or_else(|| statement.to_string());
            let batches = self.engine.sql(&sql).await.map_err(errors::from_crate)?;
            return self.dml_response(dml, batches, &Format::UnifiedText, client).await;
        }
        let sql = text.map(str::to_owned).unwrap_or_else(|| statement.to_string());
        let plan = self.engine.plan_statement(statement, &sql).await.map_err(errors::from_crate)?;
        self.run_plan(plan, &Format::UnifiedText, client, last).await
    }

    /// Executes a planned (parameters bound) query and streams its rows; a
    /// client cancel while rows stream ends the stream with 57014 when
    /// `arm`. Arming replaces the cancel receiver pgwire races the whole
    /// statement against, and pgwire reads a replaced receiver as a cancel:
    /// only the last statement of a query may arm, after which nothing waits.
    pub(crate) async fn run_plan<C: ClientInfo>(
        &self,
        plan: LogicalPlan,
        format: &Format,
        client: &C,
        arm: bool,
    ) -> PgWireResult<Response> {
        policy::check_plan_file_access(&plan)?;
        if let Some(create) = SessionTables::as_create(&plan) {
            self.tables.create(&self.ctx, create).await.map_err(|e| errors::from_datafusion(&e))?;
            return Ok(Response::Execution(Tag::new("CREATE TABLE")));
        }
        if SessionTables::changes_tables(&plan) {
            // Collected here (a DDL or DML answer is a tag or a count) so the
            // session's tables can be counted once the statement is done.
            let df = self.ctx.execute_logical_plan(plan).await.map_err(|e| errors::from_datafusion(&e))?;
            let batches = df.collect().await.map_err(|e| errors::from_datafusion(&e))?;
            self.tables.recount(&self.ctx).await.map_err(|e| errors::from_datafusion(&e))?;
            let df = self.ctx.read_batches(batches).map_err(|e| errors::from_datafusion(&e))?;
            let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
            let (fields, rows) = encode::encode(df, format, Some(options)).await?;
            return Ok(Response::Query(QueryResponse::new(fields, rows)));
        }
        let df = self.ctx.execute_logical_plan(plan).await.map_err(|e| errors::from_datafusion(&e))?;
        let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
        let (fields, rows) = encode::encode(df, format, Some(options)).await?;
        // Armed last: re-arming replaces the receiver pgwire is racing
        // `do_query` against, so nothing may wait after this.
        let cancel = if arm { start_query(client).await } else { None };
        Ok(Response::Query(QueryResponse::new(fields, encode::cancellable(rows, cancel))))
    }

    /// Executes the planned query of a `COPY … TO STDOUT` and sends its rows
    /// as COPY data to `client` before answering with the `COPY n` tag.
    /// Sending inside the statement keeps it under pgwire's race against
    /// the client's cancel: a cancel drops the scan (no further Stripe
    /// calls) and the client gets 57014 with the connection ready for more.
    pub(crate) async fn run_copy<C>(&self, copy: &CopyOut, plan: LogicalPlan, client: &mut C) -> PgWireResult<Response>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        policy::check_plan_file_access(&plan)?;
        if matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Statement(_)) {
            return Err(errors::user_error("0A000", "COPY copies the rows of a query or a table"));
        }
        let df = self.ctx.execute_logical_plan(plan).await.map_err(|e| errors::from_datafusion(&e))?;
        let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
        let rows = copy.start(df, options).await?.send(client).await?;
        Ok(Response::Execution(Tag::new("COPY").with_rows(rows)))
    }

    /// The answer to a finished INSERT/UPDATE/DELETE: its command tag with the
    /// row count, or the rows themselves (RETURNING, dry-run plans).
    pub(crate) async fn dml_response<C: ClientInfo>(
        &self,
        dml: Dml,
        batches: Vec<RecordBatch>,
        format: &Format,
        client: &C,
    ) -> PgWireResult<Response> {
        if let Some(count) = count_of(&batches) {
            let tag = Tag::new(dml.tag()).with_rows(count as usize);
            let tag = if dml == Dml::Insert { tag.with_oid(0) } else { tag };
            return Ok(Response::Execution(tag));
        }
        if batches.is_empty() {
            return Ok(Response::Execution(Tag::new(dml.tag()).with_rows(0)));
        }
        let df = self.ctx.read_batches(batches).map_err(|e| errors::from_datafusion(&e))?;
        let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
        let (fields, rows) = encode::encode(df, format, Some(options)).await?;
        Ok(Response::Query(QueryResponse::new(fields, rows)))
    }
}

/// Savepoints are accepted as no-ops like transactions (drivers such as
/// psycopg wrap their own catalog lookups in one), and so is DISCARD.
fn savepoint_tag(statement: &Statement) -> Option<&'static str> {
    match statement {
        Statement::Savepoint { .. } => Some("SAVEPOINT"),
        Statement::ReleaseSavepoint { .. } => Some("RELEASE"),
        Statement::Rollback { savepoint: Some(_), .. } => Some("ROLLBACK"),
        // Pools (Npgsql, pgbouncer) reset a connection with DISCARD ALL; a
        // session keeps no plans or temporary state it would drop.
        Statement::Discard { .. } => Some("DISCARD ALL"),
        _ => None,
    }
}

/// The affected-row count of a DML result (`count: UInt64`, one row).
fn count_of(batches: &[RecordBatch]) -> Option<u64> {
    let first = batches.first()?;
    if first.num_columns() != 1 || first.schema().field(0).name() != "count" {
        return None;
    }
    let mut total = 0;
    for b in batches {
        let col = b.column(0);
        if col.data_type() != &DataType::UInt64 {
            return None;
        }
        let values = col.as_primitive::<UInt64Type>();
        total += (0..values.len()).filter(|&i| !values.is_null(i)).map(|i| values.value(i)).sum::<u64>();
    }
    Some(total)
}

/// A query response of text columns `names` holding `rows`.
fn text_rows<const N: usize>(names: &[&str; N], rows: Vec<[String; N]>) -> PgWireResult<Response> {
    use pgwire::api::Type;
    use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo};
    let fields = Arc::new(
        names
            .iter()
            .map(|n| FieldInfo::new((*n).to_owned(), None, None, Type::TEXT, FieldFormat::Text))
            .collect::<Vec<_>>(),
    );
    let mut encoder = DataRowEncoder::new(Arc::clone(&fields));
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        for cell in row {
            encoder.encode_field(&Some(cell))?;
        }
        out.push(Ok(encoder.take_row()));
    }
    Ok(Response::Query(QueryResponse::new(fields, futures::stream::iter(out))))
}

/// Sends the answers of a simple query's earlier statements now (they
/// would otherwise follow a later COPY's rows).
async fn send_now<C>(client: &mut C, responses: &mut Vec<Response>) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: std::fmt::Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    use pgwire::api::query::{send_execution_response, send_query_response};
    for response in responses.drain(..) {
        match response {
            Response::Query(rows) => send_query_response(client, rows, true).await?,
            Response::Execution(tag) | Response::TransactionStart(tag) | Response::TransactionEnd(tag) => {
                send_execution_response(client, tag).await?
            }
            Response::EmptyQuery => {
                let empty = pgwire::messages::response::EmptyQueryResponse::new();
                client.feed(PgWireBackendMessage::EmptyQueryResponse(empty)).await?
            }
            _ => return Err(errors::user_error("0A000", "COPY cannot follow this statement in one query")),
        }
    }
    Ok(())
}

/// Arms the connection's cancel handle for a new statement.
pub(crate) async fn start_query<C: ClientInfo>(client: &C) -> Option<oneshot::Receiver<()>> {
    let handle = client.session_extensions().get::<Arc<ConnectionHandle>>()?;
    Some(handle.start_query().await)
}

#[async_trait]
impl SimpleQueryHandler for Session {
    /// pgwire's query loop over a client that adds the engine's warnings as
    /// notices after each result (`notices`).
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut noticed = crate::server::notices::Noticed::new(client, &self.engine);
        self._on_query(&mut noticed, query).await
    }

    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some(rows) = pg_compat::psql_functions(query, &self.functions) {
            return Ok(vec![text_rows(&["Schema", "Name", "Result data type", "Argument data types", "Type"], rows)?]);
        }
        policy::check_file_access_text(query)?;
        // Named arguments and RETURNING are AST passes of the engine's
        // pipeline (plan_statement, Engine::sql); the driver-query fixes are
        // this dialect's own, on the text.
        let query = crate::server::rewrite::driver_query(query).unwrap_or_else(|| query.to_string());
        let statements = self
            .compat
            .parse(&query)
            .map_err(|e| errors::user_error(errors::SYNTAX_ERROR, format!("could not parse the query: {e}")))?;
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let single = statements.len() == 1;
        let count = statements.len();
        let mut responses = Vec::with_capacity(statements.len());
        for (i, statement) in statements.into_iter().enumerate() {
            if matches!(statement, Statement::Copy { .. }) {
                // A COPY sends its rows itself, so what came before goes first.
                send_now(client, &mut responses).await?;
            }
            let text = single.then_some(query.as_str());
            match self.run_simple(client, statement, text, i + 1 == count).await {
                Ok(r) => responses.push(r),
                Err(e) if responses.is_empty() => return Err(e),
                Err(PgWireError::UserError(info)) => {
                    responses.push(Response::Error(info));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(responses)
    }
}
