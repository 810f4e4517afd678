//! The one registry of the engine's table functions as users see them: name,
//! arguments and a line of description. The REPL's `\df`, psql's `\df` over
//! the Postgres server and completion all read it; a test checks it names
//! exactly the functions a session registers.

use crate::actions::signature;
use crate::catalog;

/// One table function or action, as `\df` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDoc {
    /// SQL name (`stripe_tables`, `capture_payment_intent`).
    pub name: String,
    /// The arguments as text (`()`, `(id text, amount_to_capture bigint)`).
    pub arguments: String,
    /// One line saying what it returns or does.
    pub description: String,
}

/// The engine's own functions, then every action of the catalog, in display order.
pub fn function_docs() -> Vec<FunctionDoc> {
    const OWN: &[(&str, &str, &str)] = &[
        ("stripe_tables", "()", "every table: pushdown, writes, actions"),
        ("stripe_columns", "(table)", "a table's columns and how each pushes down"),
        ("stripe_request_log", "()", "the Stripe API calls of this session (the last request_log_size)"),
        ("stripe_request_log_status", "()", "calls the request log keeps, has dropped, and may keep"),
        ("stripe_last_requests", "()", "the API calls of the previous statement"),
        ("stripe_last_write", "()", "every row of the last INSERT/UPDATE/DELETE: written, failed or not attempted"),
        ("stripe_mirror_status", "()", "per mirrored table: rows, cursor, last event, lag, reconciliation, last error"),
        ("stripe_get", "(path text, params json)", "the JSON of any GET endpoint (/v1/balance, /v1/invoices/upcoming)"),
    ];
    let own = OWN.iter().map(|(name, arguments, description)| FunctionDoc {
        name: (*name).to_owned(),
        arguments: (*arguments).to_owned(),
        description: (*description).to_owned(),
    });
    let actions = catalog::builtin().actions.iter().map(|action| FunctionDoc {
        name: action.name.clone(),
        arguments: signature::arguments(action),
        description: signature::description(action),
    });
    own.chain(actions).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_registry_names_exactly_the_functions_a_session_registers() {
        let ctx = datafusion::prelude::SessionContext::new();
        let builtin: BTreeSet<String> = ctx.state().table_functions().keys().cloned().collect();
        let key = crate::stripe::ApiKey::parse("sk_test_registry").unwrap();
        let client = crate::stripe::Client::new(crate::stripe::ClientConfig::new(key)).unwrap();
        crate::engine::register(&ctx, &client).unwrap();
        let all: BTreeSet<String> = ctx.state().table_functions().keys().cloned().collect();
        let registered: BTreeSet<String> = all.difference(&builtin).cloned().collect();
        let documented: BTreeSet<String> = function_docs().into_iter().map(|f| f.name).collect();
        assert_eq!(documented, registered);
        assert!(documented.contains("stripe_last_write"));
    }
}
