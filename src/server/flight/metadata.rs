//! The Flight SQL metadata commands: GetCatalogs, GetDbSchemas, GetTables
//! (with each table's Arrow schema when asked), GetTableTypes and
//! GetSqlInfo, answered from the session's own catalog. Planning a Stripe
//! table's schema never calls Stripe, so listing costs no requests.

use std::sync::{Arc, OnceLock};

use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::{CommandGetCatalogs, CommandGetDbSchemas, CommandGetTableTypes, CommandGetTables, SqlInfo};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use tonic::Status;

/// What GetSqlInfo answers (server name and version, read-only, SQL syntax).
pub fn sql_info(read_only: bool) -> &'static SqlInfoData {
    static WRITABLE: OnceLock<SqlInfoData> = OnceLock::new();
    static READ_ONLY: OnceLock<SqlInfoData> = OnceLock::new();
    let cell = if read_only { &READ_ONLY } else { &WRITABLE };
    cell.get_or_init(|| {
        let mut info = SqlInfoDataBuilder::new();
        info.append(SqlInfo::FlightSqlServerName, "stripe-sql");
        info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        info.append(SqlInfo::FlightSqlServerArrowVersion, "59");
        info.append(SqlInfo::FlightSqlServerReadOnly, read_only);
        info.append(SqlInfo::FlightSqlServerSql, true);
        info.append(SqlInfo::FlightSqlServerSubstrait, false);
        info.append(SqlInfo::FlightSqlServerTransaction, 0i32);
        info.append(SqlInfo::FlightSqlServerCancel, false);
        info.append(SqlInfo::SqlDdlCatalog, false);
        info.append(SqlInfo::SqlDdlSchema, false);
        info.append(SqlInfo::SqlDdlTable, false);
        info.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
        info.append(SqlInfo::SqlQuotedIdentifierCase, 3i32);
        info.append(SqlInfo::SqlIdentifierCase, 2i32);
        info.build().expect("the server's SqlInfo values are well-formed")
    })
}

/// The kind of table `schema` holds, as Flight SQL names it.
fn table_type(schema: &str) -> &'static str {
    if schema == "information_schema" || schema == "pg_catalog" { "VIEW" } else { "TABLE" }
}

fn arrow_status(e: impl std::fmt::Display) -> Status {
    Status::internal(format!("could not build the metadata answer: {e}"))
}

/// GetCatalogs.
pub fn catalogs(ctx: &SessionContext, query: CommandGetCatalogs) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    let mut names = ctx.catalog_names();
    names.sort();
    for name in names {
        builder.append(name);
    }
    builder.build().map_err(arrow_status)
}

/// GetDbSchemas (the builder applies the client's catalog and pattern filters).
pub fn schemas(ctx: &SessionContext, query: CommandGetDbSchemas) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    for catalog in ctx.catalog_names() {
        let Some(provider) = ctx.catalog(&catalog) else { continue };
        for schema in provider.schema_names() {
            builder.append(&catalog, schema);
        }
    }
    builder.build().map_err(arrow_status)
}

/// GetTables (the builder applies the client's filters).
pub async fn tables(ctx: &SessionContext, query: CommandGetTables) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    let empty = datafusion::arrow::datatypes::Schema::empty();
    for catalog in ctx.catalog_names() {
        let Some(provider) = ctx.catalog(&catalog) else { continue };
        for schema_name in provider.schema_names() {
            let Some(schema) = provider.schema(&schema_name) else { continue };
            let mut names = schema.table_names();
            names.sort();
            for name in names {
                let table_schema = if builder.include_schema() {
                    match schema.table(&name).await {
                        Ok(Some(table)) => table.schema(),
                        _ => Arc::new(empty.clone()),
                    }
                } else {
                    Arc::new(empty.clone())
                };
                builder
                    .append(&catalog, &schema_name, &name, table_type(&schema_name), &table_schema)
                    .map_err(arrow_status)?;
            }
        }
    }
    builder.build().map_err(arrow_status)
}

/// GetTableTypes.
pub fn table_types(query: CommandGetTableTypes) -> Result<RecordBatch, Status> {
    let mut builder = query.into_builder();
    builder.append("TABLE");
    builder.append("VIEW");
    builder.build().map_err(arrow_status)
}
