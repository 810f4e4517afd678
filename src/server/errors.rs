//! Maps engine failures to Postgres errors with an SQLSTATE code, so clients
//! can tell a typo (42601) from a missing table (42P01) from a Stripe refusal.
//!
//! Stripe answers are mapped by HTTP status (documented in the README):
//! 400 → 22023, 401 → 28000, 402 → 22000, 403 → 42501, 404 → 42704,
//! 409 → 40001, 429 → 53400, 5xx → 58000; an unreachable Stripe → 08006.

use datafusion::error::DataFusionError;
use datafusion_postgres::pgwire;
use pgwire::error::{ErrorInfo, PgWireError};

use stripe_sql::stripe::ApiError;

/// SQLSTATE of a query cancelled by the client.
pub const QUERY_CANCELED: &str = "57014";
/// SQLSTATE of a write refused by `--read-only`.
pub const READ_ONLY: &str = "25006";
/// SQLSTATE of a syntax error.
pub const SYNTAX_ERROR: &str = "42601";
/// SQLSTATE `invalid_text_representation`: a value's text is not of its type.
pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";
/// SQLSTATE of an unknown table.
pub const UNDEFINED_TABLE: &str = "42P01";
/// SQLSTATE of an unknown column.
pub const UNDEFINED_COLUMN: &str = "42703";
/// SQLSTATE of an unknown function.
pub const UNDEFINED_FUNCTION: &str = "42883";
/// SQLSTATE `out_of_memory`: a query (or a session's tables) past `--memory-limit`.
pub const OUT_OF_MEMORY: &str = "53200";
/// SQLSTATE `insufficient_privilege`: what would reach the server's own files.
pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
/// SQLSTATE for anything without a better code.
pub const INTERNAL: &str = "XX000";

/// A Postgres `ERROR` with `code` and `message`.
pub fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".to_owned(), code.to_owned(), message.into())))
}

/// The error a cancelled statement reports.
pub fn canceled() -> PgWireError {
    user_error(QUERY_CANCELED, "canceling statement due to user request")
}

/// Converts a DataFusion error (possibly wrapping a Stripe error) to a
/// Postgres error with the matching SQLSTATE; Stripe's request id goes to
/// the message and the DETAIL field.
pub fn from_datafusion(e: &DataFusionError) -> PgWireError {
    let message = e.to_string();
    if let Some(api) = stripe_sql::error::api_error_in(e) {
        let mut info = ErrorInfo::new("ERROR".to_owned(), stripe_sqlstate(api).to_owned(), clean(&message));
        if let ApiError::Status(status) = api
            && let Some(id) = &status.request_id
        {
            info.detail = Some(format!("stripe request id {id}"));
        }
        return PgWireError::UserError(Box::new(info));
    }
    // Some paths keep only the text of a Stripe error ("stripe answered 404 to ...").
    if let Some(status) = answered_status(&message) {
        let mut info = ErrorInfo::new("ERROR".to_owned(), status_sqlstate(status).to_owned(), clean(&message));
        info.detail = request_id(&message).map(|id| format!("stripe request id {id}"));
        return PgWireError::UserError(Box::new(info));
    }
    user_error(classify(e, &message), clean(&message))
}

/// Re-labels a pgwire error: DataFusion errors get their SQLSTATE; others pass.
pub fn relabel(e: PgWireError) -> PgWireError {
    let PgWireError::ApiError(inner) = e else {
        return e;
    };
    if let Some(df) = inner.downcast_ref::<DataFusionError>() {
        return from_datafusion(df);
    }
    match inner.downcast_ref::<crate::Error>() {
        Some(crate::Error::DataFusion(df)) => from_datafusion(df),
        Some(crate::Error::Stripe(api)) => user_error(stripe_sqlstate(api), api.to_string()),
        _ => user_error(INTERNAL, inner.to_string()),
    }
}

/// Converts a crate error to a Postgres error.
pub fn from_crate(e: crate::Error) -> PgWireError {
    match e {
        crate::Error::DataFusion(df) => from_datafusion(&df),
        crate::Error::Stripe(api) => user_error(stripe_sqlstate(&api), api.to_string()),
        crate::Error::Plan(m) => user_error(INTERNAL, m),
        other => user_error(INTERNAL, other.to_string()),
    }
}

/// The SQLSTATE of a non-Stripe engine error.
fn classify(e: &DataFusionError, message: &str) -> &'static str {
    let root = e.find_root();
    if matches!(root, DataFusionError::SQL(..)) {
        return SYNTAX_ERROR;
    }
    if matches!(root, DataFusionError::ResourcesExhausted(_)) {
        return OUT_OF_MEMORY;
    }
    let lower = message.to_lowercase();
    if lower.contains("sql error: parsererror") || lower.contains("parser error") {
        SYNTAX_ERROR
    } else if lower.contains("table '") && lower.contains("not found") || lower.contains("table not found") {
        UNDEFINED_TABLE
    } else if lower.contains("no field named") || lower.contains("column") && lower.contains("not found") {
        UNDEFINED_COLUMN
    } else if lower.contains("invalid function") || lower.contains("table function") && lower.contains("not found") {
        UNDEFINED_FUNCTION
    } else {
        INTERNAL
    }
}

/// The SQLSTATE a Stripe failure maps to.
pub fn stripe_sqlstate(e: &ApiError) -> &'static str {
    match e {
        ApiError::Status(s) => status_sqlstate(s.status),
        _ => "08006",
    }
}

/// The SQLSTATE of a Stripe HTTP status (the documented mapping).
pub fn status_sqlstate(status: u16) -> &'static str {
    match status {
        400 => "22023",
        401 => "28000",
        402 => "22000",
        403 => "42501",
        404 => "42704",
        409 => "40001",
        429 => "53400",
        500..=599 => "58000",
        _ => INTERNAL,
    }
}

/// The status in a "stripe answered NNN to ..." message.
fn answered_status(message: &str) -> Option<u16> {
    let rest = &message[message.find("stripe answered ")? + "stripe answered ".len()..];
    rest.get(..3)?.parse().ok()
}

/// The id in a "(request id req_...)" message.
fn request_id(message: &str) -> Option<&str> {
    let rest = &message[message.rfind("(request id ")? + "(request id ".len()..];
    rest.split(')').next().filter(|id| !id.is_empty())
}

/// Drops DataFusion's "Error during planning: " style prefixes that say nothing to a SQL user.
fn clean(message: &str) -> String {
    let mut m = message.trim();
    for prefix in ["External error: ", "Error during planning: ", "Execution error: ", "SQL error: "] {
        while let Some(rest) = m.strip_prefix(prefix) {
            m = rest;
        }
    }
    m.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    fn code(e: &PgWireError) -> String {
        match e {
            PgWireError::UserError(info) => info.code.clone(),
            other => panic!("not a user error: {other}"),
        }
    }

    #[tokio::test]
    async fn planner_errors_get_their_sqlstate() {
        let ctx = SessionContext::new();
        let syntax = ctx.sql("selec 1").await.unwrap_err();
        assert_eq!(code(&from_datafusion(&syntax)), SYNTAX_ERROR, "{syntax}");
        let table = ctx.sql("select * from nope").await.unwrap_err();
        assert_eq!(code(&from_datafusion(&table)), UNDEFINED_TABLE, "{table}");
        let column = ctx.sql("select nope from (select 1 as a)").await.unwrap_err();
        assert_eq!(code(&from_datafusion(&column)), UNDEFINED_COLUMN, "{column}");
    }

    #[test]
    fn stripe_statuses_map_to_documented_codes() {
        let status = |s: u16| {
            ApiError::Status(Box::new(stripe_sql::stripe::StatusError {
                method: "GET".into(),
                path: "/v1/customers/cus_x".into(),
                status: s,
                request_id: Some("req_123".into()),
                error_type: None,
                code: None,
                param: None,
                message: Some("No such customer".into()),
                decline_code: None,
                raw_body: None,
            }))
        };
        assert_eq!(stripe_sqlstate(&status(404)), "42704");
        assert_eq!(stripe_sqlstate(&status(400)), "22023");
        assert_eq!(stripe_sqlstate(&status(429)), "53400");
        let text = DataFusionError::Execution(format!("stripe_get('/v1/x') failed: {}", status(429)));
        match from_datafusion(&text) {
            PgWireError::UserError(info) => {
                assert_eq!(info.code, "53400");
                assert_eq!(info.detail.as_deref(), Some("stripe request id req_123"));
            }
            other => panic!("{other}"),
        }
        let wrapped = DataFusionError::External(Box::new(status(404)));
        match from_datafusion(&wrapped) {
            PgWireError::UserError(info) => {
                assert_eq!(info.code, "42704");
                assert!(info.message.contains("No such customer"), "{}", info.message);
                assert_eq!(info.detail.as_deref(), Some("stripe request id req_123"));
            }
            other => panic!("{other}"),
        }
    }
}
