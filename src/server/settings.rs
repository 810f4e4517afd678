//! `SET`/`SHOW` of the engine's own settings (`stripe.*`, `datafusion.*`):
//! they change this connection's session only, and a bad name or value is
//! an error (22023) rather than silently ignored.

use std::sync::Arc;

use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Set, Statement};
use datafusion_postgres::pgwire;
use futures::stream;
use pgwire::api::Type;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::PgWireResult;

use crate::server::errors;

/// SQLSTATE of an unknown setting or a bad value.
const INVALID_PARAMETER: &str = "22023";

/// Answers `statement` when it sets or shows an engine setting; None otherwise.
pub async fn handle(ctx: &SessionContext, statement: &Statement) -> Option<PgWireResult<Response>> {
    match statement {
        Statement::Set(Set::SingleAssignment { variable, .. }) if is_engine_setting(&variable.to_string()) => {
            Some(set(ctx, statement).await)
        }
        Statement::ShowVariable { variable } => {
            let name = variable.iter().map(|i| i.value.clone()).collect::<Vec<_>>().join(".");
            is_engine_setting(&name).then(|| show(ctx, &name))
        }
        _ => None,
    }
}

fn is_engine_setting(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.starts_with("stripe.") || lower.starts_with("datafusion.")
}

async fn set(ctx: &SessionContext, statement: &Statement) -> PgWireResult<Response> {
    let state = ctx.state();
    let plan = state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(statement.clone())))
        .await
        .map_err(|e| errors::user_error(INVALID_PARAMETER, format!("could not apply {statement}: {e}")))?;
    ctx.execute_logical_plan(plan)
        .await
        .map_err(|e| errors::user_error(INVALID_PARAMETER, format!("could not apply {statement}: {e}")))?;
    Ok(Response::Execution(Tag::new("SET")))
}

fn show(ctx: &SessionContext, name: &str) -> PgWireResult<Response> {
    let lower = name.to_lowercase();
    let entries = ctx.state().config().options().entries();
    let entry =
        entries.iter().find(|e| e.key == lower || lower.strip_prefix("stripe.") == Some(e.key.as_str())).ok_or_else(
            || errors::user_error(INVALID_PARAMETER, format!("unrecognized configuration parameter \"{name}\"")),
        )?;
    let value = entry.value.clone().unwrap_or_default();
    let fields = Arc::new(vec![FieldInfo::new(lower, None, None, Type::TEXT, FieldFormat::Text)]);
    let mut encoder = DataRowEncoder::new(Arc::clone(&fields));
    encoder.encode_field(&Some(value))?;
    let row = encoder.take_row();
    Ok(Response::Query(QueryResponse::new(fields, stream::iter(vec![Ok(row)]))))
}
