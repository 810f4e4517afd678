//! How a Stripe table's INSERT becomes create calls, seen from the providers.
//!
//! Writes live in `dml`, above the providers (which only read). A table's
//! `insert_into` hook therefore does not plan the write itself: it asks the
//! [`InsertPlanner`] that `engine::register` installs in the session, so the
//! providers never depend on `dml`. A session without one refuses INSERT.

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::ExecutionPlan;

use crate::catalog::TableDef;
use crate::stripe;

/// Plans `INSERT INTO def` of `input`'s rows (sending nothing until it runs).
pub trait InsertPlanner: Debug + Send + Sync {
    /// The plan that turns `input`'s rows into create calls of `def` through `client`.
    fn plan(
        &self,
        def: Arc<TableDef>,
        client: stripe::Client,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>>;
}

/// The session's [`InsertPlanner`], kept as a `SessionConfig` extension.
#[derive(Debug, Clone)]
pub struct Inserts(pub Arc<dyn InsertPlanner>);

/// Plans an INSERT through the session's planner, or refuses when it has none.
pub fn plan(
    def: Arc<TableDef>,
    client: stripe::Client,
    state: &dyn Session,
    input: Arc<dyn ExecutionPlan>,
    op: InsertOp,
) -> Result<Arc<dyn ExecutionPlan>> {
    match state.config().get_extension::<Inserts>() {
        Some(inserts) => inserts.0.plan(def, client, state, input, op),
        None => Err(DataFusionError::Plan(format!(
            "insert into {} refused: stripe-sql's tables were not registered in this session (stripe_sql::register), which installs how INSERT becomes create calls",
            def.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Schema;
    use datafusion::execution::session_state::SessionStateBuilder;
    use datafusion::physical_plan::empty::EmptyExec;

    #[test]
    fn a_session_without_an_insert_planner_refuses_and_says_why() {
        let def = Arc::new(crate::catalog::builtin().table("customers").expect("customers").clone());
        let key = stripe::ApiKey::parse("sk_test_inserts").expect("key");
        let client = stripe::Client::new(stripe::ClientConfig::new(key)).expect("client");
        let state = SessionStateBuilder::new().build();
        let input = Arc::new(EmptyExec::new(Arc::new(Schema::empty())));
        let err = plan(def, client, &state, input, InsertOp::Append).unwrap_err().to_string();
        assert!(err.contains("insert into customers refused") && err.contains("stripe_sql::register"), "{err}");
    }
}
