//! How values cross the Flight SQL wire: errors as gRPC statuses (their
//! SQLSTATE kept in the message), schemas and FlightInfo, one-batch answers,
//! basic-auth passwords, parameter schemas and write counts.

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket};
use base64::Engine as _;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::LogicalPlan;
use datafusion_postgres::pgwire::error::PgWireError;
use futures::TryStreamExt;
use tonic::{Response, Status};

use crate::server::errors;
use crate::server::flight::service::FlightSqlServiceImpl;

/// The stream a DoGet answers with.
pub type DoGetStream = <FlightSqlServiceImpl as FlightService>::DoGetStream;

/// The password of an HTTP basic `authorization` header.
pub fn basic_password(header: &str) -> Option<String> {
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
pub fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Field>, Status> {
    let types = plan.get_parameter_types().map_err(|e| status(errors::from_datafusion(&e)))?;
    let mut ordered: Vec<(u32, String, Option<datafusion::arrow::datatypes::DataType>)> =
        types.into_iter().map(|(k, v)| (k.trim_start_matches('$').parse::<u32>().unwrap_or(u32::MAX), k, v)).collect();
    ordered.sort_by_key(|(n, _, _)| *n);
    Ok(ordered
        .into_iter()
        .map(|(_, name, ty)| Field::new(name, ty.unwrap_or(datafusion::arrow::datatypes::DataType::Null), true))
        .collect())
}

/// `schema` as an IPC schema message (a prepared statement's schemas).
pub fn schema_bytes(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let message: IpcMessage = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e| Status::internal(format!("could not encode the schema: {e}")))?;
    Ok(message.0)
}

/// A FlightInfo of `schema` with one endpoint serving `ticket`.
pub fn flight_info(
    schema: &Schema,
    ticket: Vec<u8>,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(format!("could not encode the schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor);
    Ok(Response::new(info))
}

/// A DoGet answer of one batch.
pub fn one_batch(batch: RecordBatch) -> Response<DoGetStream> {
    let schema: SchemaRef = batch.schema();
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async { Ok(batch) }))
        .map_err(Status::from);
    Response::new(Box::pin(stream))
}

/// The affected-row count of a write's result (its one `count` value), or
/// the number of rows for anything else.
pub fn affected(batches: &[RecordBatch]) -> i64 {
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
