//! The Flight SQL service over the engine: statements and prepared
//! statements (parameters bound into the plan, so filters are still pushed
//! down), the metadata commands, results streamed as Arrow record batches
//! straight from the running plan (no row conversion), the same password,
//! read-only and file-access rules as the Postgres port. A client that
//! cancels its call (drops the stream) drops the running scan with it.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionCancelQueryRequest, ActionCancelQueryResult, ActionClosePreparedStatementRequest,
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any, CommandGetCatalogs,
    CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    ActionType, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, flight_service_server::FlightService,
};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::scalar::ScalarValue;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use crate::server::ServerPassword;
use crate::server::errors;
use crate::server::flight::sessions::{Call, FlightSession, PreparedStatement, Sessions, handle_bytes};
use crate::server::flight::wire::{
    DoGetStream, affected, basic_password, flight_info, one_batch, parameter_types, schema_bytes, status,
};
use crate::server::flight::{cancel, metadata};
use crate::server::policy;
use crate::server::session_tables::SessionTables;
use stripe_sql::engine::Engine;

/// The Flight action that cancels a query by its FlightInfo.
const CANCEL_FLIGHT_INFO: &str = "CancelFlightInfo";

/// The server's Flight SQL service.
pub struct FlightSqlServiceImpl {
    sessions: Arc<Sessions>,
    password: Option<ServerPassword>,
    tokens: Mutex<HashSet<String>>,
    read_only: bool,
    compat: PostgresCompatibilityParser,
}

impl FlightSqlServiceImpl {
    /// A service over `sessions`; `password` (when set) is required of every call.
    pub fn new(sessions: Arc<Sessions>, password: Option<ServerPassword>, read_only: bool) -> Self {
        Self {
            sessions,
            password,
            tokens: Mutex::new(HashSet::new()),
            read_only,
            compat: PostgresCompatibilityParser::new(),
        }
    }

    /// Checks the call's credentials: a bearer token from the handshake, or
    /// the password itself as basic auth.
    fn authorize<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let Some(password) = &self.password else { return Ok(()) };
        let header = request.metadata().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if let Some(token) = header.strip_prefix("Bearer ")
            && self.tokens.lock().expect("tokens lock").contains(token.trim())
        {
            return Ok(());
        }
        if let Some(given) = basic_password(header)
            && password.matches(&given)
        {
            return Ok(());
        }
        Err(Status::unauthenticated("password authentication failed: connect with the server's password"))
    }

    /// The calling connection's session, once its credentials pass (the
    /// call counts as running until the returned [`Call`] drops).
    fn session<T>(&self, request: &Request<T>) -> Result<Call, Status> {
        self.authorize(request)?;
        self.sessions.get(request.remote_addr())
    }

    /// Plans one statement through the engine's pipeline, refusing what the
    /// Postgres port refuses (file access, writes under `--read-only`).
    async fn plan(&self, session: &FlightSession, sql: &str) -> Result<(String, LogicalPlan), Status> {
        policy::check_file_access_text(sql).map_err(status)?;
        let sql = Engine::rewrite(sql);
        let mut statements = self
            .compat
            .parse(&sql)
            .map_err(|e| status(errors::user_error(errors::SYNTAX_ERROR, format!("could not parse the query: {e}"))))?;
        if statements.len() != 1 {
            return Err(Status::invalid_argument("send one statement per call"));
        }
        let statement = statements.remove(0);
        policy::check_file_access(&statement).map_err(status)?;
        if self.read_only {
            policy::check_read_only(&statement).map_err(status)?;
        }
        if crate::server::copy::CopyOut::of(&statement).map_err(status)?.is_some() {
            return Err(Status::invalid_argument(
                "COPY … TO STDOUT belongs to the Postgres port; over Flight SQL send the query itself",
            ));
        }
        // Marked as a statement when it runs (`execute`), not here.
        let plan =
            session.engine.plan_statement_unmarked(statement, &sql).await.map_err(|e| status(errors::from_crate(e)))?;
        policy::check_plan_file_access(&plan).map_err(status)?;
        Ok((sql, plan))
    }

    /// Runs `plan` and streams its batches as Flight data, until the client
    /// drops the stream or cancels `ticket` (`cancel.rs`).
    async fn execute(&self, session: Call, plan: LogicalPlan, ticket: &[u8]) -> Result<Response<DoGetStream>, Status> {
        let ctx = session.engine.context();
        let df = ctx.execute_logical_plan(plan).await.map_err(|e| status(errors::from_datafusion(&e)))?;
        let batches = df.execute_stream().await.map_err(|e| status(errors::from_datafusion(&e)))?;
        let schema = batches.schema();
        let batches = batches.map_err(|e| FlightError::Tonic(Box::new(status(errors::from_datafusion(&e)))));
        let stream = FlightDataEncoderBuilder::new().with_schema(schema).build(batches).map_err(Status::from);
        let stream = session.running.watch(ticket.to_vec(), stream);
        // The call runs (the connection is not idle) until its stream ends.
        Ok(Response::new(Box::pin(stream.map(move |item| {
            let _running = &session;
            item
        }))))
    }

    /// Cancels the queries of `info` on the calling connection.
    fn cancel(session: &FlightSession, info: &FlightInfo) -> CancelStatus {
        let mut result = CancelStatus::NotCancellable;
        for ticket in cancel::tickets(info) {
            if let Some(id) = cancel::statement_id(&ticket) {
                session.take_planned(id);
            }
            if session.running.cancel(&ticket) == CancelStatus::Cancelled {
                result = CancelStatus::Cancelled;
            }
        }
        result
    }

    /// A prepared statement's plan with its bound parameters put in.
    fn bound(prepared: &PreparedStatement) -> Result<LogicalPlan, Status> {
        let Some(values) = &prepared.params else {
            if prepared.plan.get_parameter_types().map(|p| p.is_empty()).unwrap_or(true) {
                return Ok(prepared.plan.clone());
            }
            return Err(Status::invalid_argument("the prepared statement has parameters: bind them before executing"));
        };
        let types = parameter_types(&prepared.plan)?;
        let values = values
            .iter()
            .enumerate()
            .map(|(i, v)| match types.get(i).map(Field::data_type) {
                Some(ty) if !ty.is_null() && v.data_type() != *ty && !v.is_null() => v.cast_to(ty),
                _ => Ok(v.clone()),
            })
            .collect::<datafusion::error::Result<Vec<_>>>()
            .map_err(|e| Status::invalid_argument(format!("a bound parameter does not fit its placeholder: {e}")))?;
        prepared
            .plan
            .clone()
            .replace_params_with_values(&ParamValues::List(values.into_iter().map(Into::into).collect()))
            .map_err(|e| status(errors::from_datafusion(&e)))
    }
}

/// Whether `plan` is a SET, DDL or write (a command, not a query).
fn is_command(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Statement(_))
}

/// Runs `plan` (a SET, DDL or write) now; the plan returned reads its result.
/// The session's own tables are charged to the memory pool as on the
/// Postgres port: `CREATE TABLE … AS` batch by batch while it is read, any
/// other change by a recount.
async fn run_now(session: &FlightSession, plan: LogicalPlan) -> Result<LogicalPlan, Status> {
    use datafusion::datasource::{MemTable, provider_as_source};
    use datafusion::logical_expr::LogicalPlanBuilder;
    session.engine.statement_started();
    let ctx = session.engine.context();
    let fail = |e: datafusion::error::DataFusionError| status(errors::from_datafusion(&e));
    let (schema, batches) = if let Some(create) = SessionTables::as_create(&plan) {
        session.tables.create(ctx, create).await.map_err(fail)?;
        (Arc::new(datafusion::arrow::datatypes::Schema::empty()), vec![])
    } else {
        let df = ctx.execute_logical_plan(plan.clone()).await.map_err(fail)?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(fail)?;
        if SessionTables::changes_tables(&plan) {
            session.tables.recount(ctx).await.map_err(fail)?;
        }
        (batches.first().map(RecordBatch::schema).unwrap_or(schema), batches)
    };
    let table = MemTable::try_new(schema, vec![batches]).map_err(fail)?;
    LogicalPlanBuilder::scan("result", provider_as_source(Arc::new(table)), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(fail)
}

#[tonic::async_trait]
impl FlightSqlService for FlightSqlServiceImpl {
    type FlightService = FlightSqlServiceImpl;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>, Status> {
        self.authorize(&request)?;
        let token = if self.password.is_some() {
            let bytes: [u8; 24] = rand::random();
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            self.tokens.lock().expect("tokens lock").insert(token.clone());
            token
        } else {
            String::new()
        };
        let reply = HandshakeResponse { protocol_version: 0, payload: token.clone().into() };
        let mut response: Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>> =
            Response::new(Box::pin(futures::stream::iter(vec![Ok(reply)])));
        if !token.is_empty() {
            let value = format!("Bearer {token}").parse().map_err(|_| Status::internal("bad token"))?;
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(&request)?;
        let (sql, plan) = self.plan(&session, &query.query).await?;
        // SET, DDL and writes take effect now: clients run them with a plain
        // execute and may never fetch the (empty or count) result.
        let (plan, ran) = if is_command(&plan) { (run_now(&session, plan).await?, true) } else { (plan, false) };
        let schema = plan.schema().as_arrow().clone();
        // The ticket names the kept plan and carries the SQL, should the plan be gone.
        let id = session.keep_planned(plan, ran);
        flight_info(&schema, cancel::statement_ticket(id, &sql), request.into_inner())
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&request)?;
        let raw = request.get_ref().ticket.to_vec();
        if session.running.take_cancelled(&raw) {
            return Err(cancel::cancelled());
        }
        let text = String::from_utf8(ticket.statement_handle.to_vec()).ok();
        let (id, sql) = text
            .as_deref()
            .and_then(|t| t.split_once('\n'))
            .and_then(|(id, sql)| Some((id.parse::<u64>().ok()?, sql)))
            .ok_or_else(|| Status::invalid_argument("the ticket is not a statement of this server"))?;
        let (plan, ran) = match session.take_planned(id) {
            Some(kept) => kept,
            None => (self.plan(&session, sql).await?.1, false),
        };
        if !ran {
            session.engine.statement_started();
        }
        self.execute(session, plan, &raw).await
    }

    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let session = self.session(&request)?;
        let (_, plan) = self.plan(&session, &command.query).await?;
        session.engine.statement_started();
        let df = session
            .engine
            .context()
            .execute_logical_plan(plan)
            .await
            .map_err(|e| status(errors::from_datafusion(&e)))?;
        let batches = df.collect().await.map_err(|e| status(errors::from_datafusion(&e)))?;
        Ok(affected(&batches))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<arrow_flight::Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let session = self.session(&request)?;
        let (sql, plan) = self.plan(&session, &query.query).await?;
        let dataset_schema = schema_bytes(plan.schema().as_arrow())?;
        let parameter_schema = schema_bytes(&Schema::new(parameter_types(&plan)?))?;
        let handle = session.prepare(PreparedStatement { sql, plan, params: None, ran: None });
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle_bytes(handle),
            dataset_schema,
            parameter_schema,
        })
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let session = self.session(&request)?;
        // The stream itself, not its `into_inner()`: the peeked first message holds the schema.
        let data = request.into_inner().map_err(FlightError::from);
        let batches: Vec<RecordBatch> = arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(data)
            .try_collect()
            .await
            .map_err(|e| Status::invalid_argument(format!("could not read the bound parameters: {e}")))?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows > 1 {
            return Err(Status::invalid_argument("bind one row of parameters per execution of a query"));
        }
        let mut values = Vec::new();
        if let Some(batch) = batches.iter().find(|b| b.num_rows() == 1) {
            for column in batch.columns() {
                values.push(
                    ScalarValue::try_from_array(column, 0)
                        .map_err(|e| Status::invalid_argument(format!("unsupported parameter: {e}")))?,
                );
            }
        }
        session.bind(&query.prepared_statement_handle, values)?;
        Ok(DoPutPreparedStatementResult { prepared_statement_handle: Some(query.prepared_statement_handle) })
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let session = self.session(&request)?;
        let prepared = session.prepared(&query.prepared_statement_handle)?;
        let schema = if is_command(&prepared.plan) {
            // As for a plain statement: it takes effect now (ADBC prepares every statement).
            let result = run_now(&session, Self::bound(&prepared)?).await?;
            let schema = result.schema().as_arrow().clone();
            session.ran(&query.prepared_statement_handle, Some(result))?;
            schema
        } else {
            prepared.plan.schema().as_arrow().clone()
        };
        flight_info(&schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&request)?;
        let raw = request.get_ref().ticket.to_vec();
        if session.running.take_cancelled(&raw) {
            return Err(cancel::cancelled());
        }
        if let Some(result) = session.ran(&query.prepared_statement_handle, None)? {
            return self.execute(session, result, &raw).await;
        }
        let prepared = session.prepared(&query.prepared_statement_handle)?;
        let plan = Self::bound(&prepared)?;
        session.engine.statement_started();
        self.execute(session, plan, &raw).await
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<arrow_flight::Action>,
    ) -> Result<(), Status> {
        let session = self.session(&request)?;
        session.close(&query.prepared_statement_handle)
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        let schema = query.into_builder().schema();
        flight_info(&schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&request)?;
        Ok(one_batch(metadata::catalogs(session.engine.context(), query)?))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        let schema = query.clone().into_builder().schema();
        flight_info(&schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&request)?;
        Ok(one_batch(metadata::schemas(session.engine.context(), query)?))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        let schema = query.clone().into_builder().schema();
        flight_info(&schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&request)?;
        Ok(one_batch(metadata::tables(session.engine.context(), query).await?))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        let schema = query.into_builder().schema();
        flight_info(&schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        Ok(one_batch(metadata::table_types(query)?))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authorize(&request)?;
        let schema = query.clone().into_builder(metadata::sql_info(self.read_only)).schema();
        flight_info(&schema, query.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        let batch = query
            .into_builder(metadata::sql_info(self.read_only))
            .build()
            .map_err(|e| Status::internal(format!("could not build SqlInfo: {e}")))?;
        Ok(one_batch(batch))
    }

    async fn do_action_cancel_query(
        &self,
        query: ActionCancelQueryRequest,
        request: Request<arrow_flight::Action>,
    ) -> Result<ActionCancelQueryResult, Status> {
        let session = self.session(&request)?;
        let info = FlightInfo::decode(query.info)
            .map_err(|e| Status::invalid_argument(format!("CancelQuery carries no FlightInfo: {e}")))?;
        // CancelQuery's results have CancelFlightInfo's numbers.
        Ok(ActionCancelQueryResult { result: Self::cancel(&session, &info) as i32 })
    }

    async fn do_action_fallback(
        &self,
        request: Request<arrow_flight::Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        if request.get_ref().r#type != CANCEL_FLIGHT_INFO {
            self.authorize(&request)?;
            return Err(Status::invalid_argument(format!("unknown action {:?}", request.get_ref().r#type)));
        }
        let session = self.session(&request)?;
        let info = CancelFlightInfoRequest::decode(request.get_ref().body.clone())
            .ok()
            .and_then(|r| r.info)
            .ok_or_else(|| Status::invalid_argument("CancelFlightInfo carries no FlightInfo"))?;
        let result = CancelFlightInfoResult::new(Self::cancel(&session, &info));
        let body = arrow_flight::Result { body: result.encode_to_vec().into() };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(body)]))))
    }

    async fn list_custom_actions(&self) -> Option<Vec<Result<ActionType, Status>>> {
        Some(vec![Ok(ActionType {
            r#type: CANCEL_FLIGHT_INFO.to_owned(),
            description: "Cancel a query by its FlightInfo: its stream ends with CANCELLED".to_owned(),
        })])
    }

    async fn do_get_fallback(
        &self,
        request: Request<arrow_flight::Ticket>,
        message: Any,
    ) -> Result<Response<DoGetStream>, Status> {
        self.authorize(&request)?;
        Err(Status::unimplemented(format!("stripe-sql does not answer {}", message.type_url)))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
