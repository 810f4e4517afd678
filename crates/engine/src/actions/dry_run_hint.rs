//! Under `stripe.dry_run` an action function returns the requests it would
//! send (`method`, `path`, `params`, `idempotency_key`), not the object's
//! columns, so `SELECT id FROM capture_payment_intent(...)` fails to plan with
//! DataFusion's bare "No field named id". This adds why, and how to get the
//! object's columns.

use datafusion::error::DataFusionError;

use crate::catalog;

/// `error` with an explanation when it is a schema error of a statement
/// that calls an action function while `dry_run` is on; otherwise unchanged.
pub fn explain(error: DataFusionError, sql: &str, dry_run: bool) -> DataFusionError {
    if !dry_run || !matches!(error.find_root(), DataFusionError::SchemaError(..)) {
        return error;
    }
    let Some(action) = called_action(sql) else { return error };
    error.context(format!(
        "stripe.dry_run is on, so {action}(...) returns the requests it would send (columns method, path, params, \
         idempotency_key), not the object's columns; select those, or SET stripe.dry_run = false to run the action"
    ))
}

/// The first action function `sql` calls (`name(` or `name (`, any case).
fn called_action(sql: &str) -> Option<&'static str> {
    let compact: String = sql.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ").replace(" (", "(");
    catalog::builtin().actions.iter().map(|a| a.name.as_str()).find(|name| {
        compact.match_indices(&format!("{name}(")).any(|(at, _)| {
            // A whole name, not the tail of a longer identifier.
            compact[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::SchemaError;

    fn schema_error() -> DataFusionError {
        DataFusionError::SchemaError(
            Box::new(SchemaError::FieldNotFound {
                field: Box::new(datafusion::common::Column::from_name("id")),
                valid_fields: vec![],
            }),
            Box::new(None),
        )
    }

    #[test]
    fn a_dry_run_schema_error_on_an_action_says_why() {
        let sql = "SELECT id FROM Capture_Payment_Intent ('pi_1')";
        let message = explain(schema_error(), sql, true).to_string();
        assert!(
            message.contains("stripe.dry_run is on, so capture_payment_intent(...) returns the requests"),
            "{message}"
        );
        assert!(message.contains("No field named id"), "the original error stays: {message}");
    }

    #[test]
    fn other_errors_and_statements_are_left_alone() {
        let plain = |sql: &str, dry_run: bool, e: DataFusionError| explain(e, sql, dry_run).to_string();
        let original = schema_error().to_string();
        assert_eq!(plain("SELECT id FROM capture_payment_intent('pi_1')", false, schema_error()), original);
        assert_eq!(plain("SELECT nope FROM customers", true, schema_error()), original);
        assert_eq!(plain("SELECT id FROM my_capture_payment_intent('x')", true, schema_error()), original);
        let other = DataFusionError::Plan("bad".into());
        assert_eq!(plain("SELECT id FROM capture_payment_intent('pi_1')", true, other), "Error during planning: bad");
    }
}
