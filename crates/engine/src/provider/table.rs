//! `StripeTable`: a catalog table as a DataFusion TableProvider.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

use crate::catalog::ArrowSchema;
use crate::catalog::TableDef;
use crate::provider::scan::{ScanSpec, StripeScanExec};
use crate::pushdown;
use crate::settings::StripeOptions;
use crate::stripe;

/// Every built-in catalog table's definition and Arrow schema, built once per
/// process: each session (a `serve` connection, say) shares them instead of
/// copying 95 definitions.
pub fn builtin_tables() -> &'static [(Arc<TableDef>, SchemaRef)] {
    static TABLES: OnceLock<Vec<(Arc<TableDef>, SchemaRef)>> = OnceLock::new();
    TABLES.get_or_init(|| {
        crate::catalog::builtin()
            .tables
            .iter()
            .map(|def| {
                let def = Arc::new(def.clone());
                let schema = def.arrow_schema();
                (def, schema)
            })
            .collect()
    })
}

/// One Stripe list endpoint as a SQL table.
#[derive(Debug)]
pub struct StripeTable {
    def: Arc<TableDef>,
    schema: SchemaRef,
    client: stripe::Client,
}

impl StripeTable {
    /// The built-in table `def` with its already-built `schema` (see
    /// [`builtin_tables`]), fetching through `client`.
    pub fn shared(def: Arc<TableDef>, schema: SchemaRef, client: stripe::Client) -> Self {
        Self { def, schema, client }
    }

    /// The catalog entry behind this table.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The client this table fetches through.
    pub fn client(&self) -> &stripe::Client {
        &self.client
    }
}

/// Pushdown decisions as declared to DataFusion. They never depend on session
/// settings (DataFusion asks without a session); `scan` re-plans with the
/// session's settings and filters locally whatever it could not send.
pub(crate) fn declared(def: &TableDef, filters: &[Expr], limit: Option<usize>) -> pushdown::Pushdown {
    pushdown::plan(def, filters, limit, &pushdown::Options::default())
}

#[async_trait]
impl TableProvider for StripeTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let owned: Vec<Expr> = filters.iter().map(|e| (*e).clone()).collect();
        Ok(declared(&self.def, &owned, None).support)
    }

    /// Builds the scan plan. No API call happens here: DataFusion also calls
    /// `scan` while planning DML and EXPLAIN.
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let options = StripeOptions::from_session(state);
        let source_note = match crate::mirror::read::choose(state, &self.def.name, &options).await? {
            crate::mirror::read::Choice::Mirror(picked) => {
                return crate::mirror::read::scan(state, picked, &self.schema, projection, filters, limit).await;
            }
            crate::mirror::read::Choice::Live(note) => note,
        };
        // A nested table without its parent filter still plans: a join may give
        // the parent keys (`provider::join_rule` raises the error otherwise).
        let mut spec =
            ScanSpec::deferred(&self.def, &self.schema, projection.map(|p| p.as_slice()), filters, limit, &options)?;
        spec.source_note = source_note;
        Ok(Arc::new(StripeScanExec::new(Arc::clone(&self.def), self.client.clone(), spec)))
    }

    /// INSERT: one create call per row, made when the plan executes; planned
    /// by the session's [`crate::provider::inserts::InsertPlanner`] (`dml::insert`).
    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        crate::provider::inserts::plan(Arc::clone(&self.def), self.client.clone(), state, input, insert_op)
    }

    /// UPDATE is planned by the engine's DML planner (`dml::guard`), which
    /// selects the rows with the statement's own plan; reaching this hook
    /// means a session built without it, which must not write.
    async fn update(
        &self,
        _state: &dyn Session,
        _assignments: Vec<(String, Expr)>,
        _filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(without_guard("update", &self.def.name))
    }

    /// DELETE: as [`Self::update`].
    async fn delete_from(&self, _state: &dyn Session, _filters: Vec<Expr>) -> Result<Arc<dyn ExecutionPlan>> {
        Err(without_guard("delete from", &self.def.name))
    }
}

/// The refusal of an UPDATE/DELETE that reached a table's own hook.
fn without_guard(verb: &str, table: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{verb} {table} refused: this session was built without the stripe-sql dml guard (dml::DmlGuard), which plans UPDATE and DELETE"
    ))
}
