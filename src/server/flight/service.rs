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
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    Any, CommandGetCatalogs, CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandPreparedStatementQuery, CommandStatementQuery, CommandStatementUpdate, DoPutPreparedStatementResult,
    ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, IpcMessage, SchemaAsIpc, Ticket,
    flight_service_server::FlightService,
};
use base64::Engine as _;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::scalar::ScalarValue;
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::pgwire::error::PgWireError;
use futures::{Stream, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use crate::server::ServerPassword;
use crate::server::errors;
use crate::server::flight::metadata;
use crate::server::flight::sessions::{FlightSession, PreparedStatement, Sessions, handle_bytes};
use crate::server::policy;
use stripe_sql::engine::Engine;

type DoGetStream = <FlightSqlServiceImpl as FlightService>::DoGetStream;

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

    /// The calling connection's session, once its credentials pass.
    fn session<T>(&self, request: &Request<T>) -> Result<Arc<FlightSession>, Status> {
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

    /// Runs `plan` and streams its batches as Flight data.
    async fn execute(&self, session: &FlightSession, plan: LogicalPlan) -> Result<Response<DoGetStream>, Status> {
        let ctx = session.engine.context();
        let df = ctx.execute_logical_plan(plan).await.map_err(|e| status(errors::from_datafusion(&e)))?;
        let batches = df.execute_stream().await.map_err(|e| status(errors::from_datafusion(&e)))?;
        let schema = batches.schema();
        let batches = batches.map_err(|e| FlightError::Tonic(Box::new(status(errors::from_datafusion(&e)))));
        let stream = FlightDataEncoderBuilder::new().with_schema(schema).build(batches).map_err(Status::from);
        Ok(Response::new(Box::pin(stream)))
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
async fn run_now(session: &FlightSession, plan: LogicalPlan) -> Result<LogicalPlan, Status> {
    use datafusion::datasource::{MemTable, provider_as_source};
    use datafusion::logical_expr::LogicalPlanBuilder;
    session.engine.statement_started();
    let ctx = session.engine.context();
    let df = ctx.execute_logical_plan(plan).await.map_err(|e| status(errors::from_datafusion(&e)))?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| status(errors::from_datafusion(&e)))?;
    let schema = batches.first().map(RecordBatch::schema).unwrap_or(schema);
    let table = MemTable::try_new(schema, vec![batches]).map_err(|e| status(errors::from_datafusion(&e)))?;
    LogicalPlanBuilder::scan("result", provider_as_source(Arc::new(table)), None)
        .and_then(LogicalPlanBuilder::build)
        .map_err(|e| status(errors::from_datafusion(&e)))
}

/// The password of an HTTP basic `authorization` header.
fn basic_password(header: &str) -> Option<String> {
    let encoded = header.strip_prefix("Basic ")?;
    // Some clients (the Go Flight SQL client under ADBC) leave out the padding.
    let encoded = encoded.trim().trim_end_matches('=');
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, password)| password.to_owned())
}

/// A Postgres-style error as a gRPC status, its SQLSTATE kept in the message.
pub fn status(e: PgWireError) -> Status {
    let PgWireError::UserError(info) = e else {
        return Status::internal(e.to_string());
    };
    let message = format!("{} (SQLSTATE {})", info.message, info.code);
    match info.code.as_str() {
        "42501" | "25006" => Status::permission_denied(message),
        "57014" => Status::cancelled(message),
        "42P01" | "42704" => Status::not_found(message),
        code if code.starts_with("28") => Status::unauthenticated(message),
        code if code.starts_with("53") => Status::resource_exhausted(message),
        code if code.starts_with("42") || code.starts_with("22") || code.starts_with("0A") => {
            Status::invalid_argument(message)
        }
        _ => Status::internal(message),
    }
}

/// The plan's `$n` parameters in order, as fields `$1`, `$2`, ... (Null when unknown).
fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Field>, Status> {
    let types = plan.get_parameter_types().map_err(|e| status(errors::from_datafusion(&e)))?;
    let mut ordered: Vec<(u32, String, Option<datafusion::arrow::datatypes::DataType>)> =
        types.into_iter().map(|(k, v)| (k.trim_start_matches('$').parse::<u32>().unwrap_or(u32::MAX), k, v)).collect();
    ordered.sort_by_key(|(n, _, _)| *n);
    Ok(ordered
        .into_iter()
        .map(|(_, name, ty)| Field::new(name, ty.unwrap_or(datafusion::arrow::datatypes::DataType::Null), true))
        .collect())
}

fn schema_bytes(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let message: IpcMessage = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e| Status::internal(format!("could not encode the schema: {e}")))?;
    Ok(message.0)
}

fn flight_info(schema: &Schema, ticket: Vec<u8>, descriptor: FlightDescriptor) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(format!("could not encode the schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor);
    Ok(Response::new(info))
}

fn one_batch(batch: RecordBatch) -> Response<DoGetStream> {
    let schema: SchemaRef = batch.schema();
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async { Ok(batch) }))
        .map_err(Status::from);
    Response::new(Box::pin(stream))
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
        let ticket = TicketStatementQuery { statement_handle: format!("{id}\n{sql}").into_bytes().into() };
        flight_info(&schema, ticket.as_any().encode_to_vec(), request.into_inner())
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<arrow_flight::Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&request)?;
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
        self.execute(&session, plan).await
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
        if let Some(result) = session.ran(&query.prepared_statement_handle, None)? {
            return self.execute(&session, result).await;
        }
        let prepared = session.prepared(&query.prepared_statement_handle)?;
        let plan = Self::bound(&prepared)?;
        session.engine.statement_started();
        self.execute(&session, plan).await
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

/// The affected-row count of a write's result (its one `count` value), or
/// the number of rows for anything else.
fn affected(batches: &[RecordBatch]) -> i64 {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::UInt64Type;
    let counted = batches.first().is_some_and(|b| {
        b.num_columns() == 1
            && b.schema().field(0).name() == "count"
            && b.column(0).data_type() == &datafusion::arrow::datatypes::DataType::UInt64
    });
    if !counted {
        return batches.iter().map(|b| b.num_rows() as i64).sum();
    }
    batches
        .iter()
        .map(|b| {
            let values = b.column(0).as_primitive::<UInt64Type>();
            (0..values.len()).filter(|&i| !values.is_null(i)).map(|i| values.value(i) as i64).sum::<i64>()
        })
        .sum()
}
