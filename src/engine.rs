//! Builds the DataFusion SessionContext: schema `stripe` (also the default
//! schema) with one `StripeTable` per catalog table, the `stripe.*` settings,
//! and the engine's table functions.

pub mod functions;
pub mod options;

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::execution::context::SessionContext;
use datafusion::prelude::SessionConfig;

use crate::catalog;
use crate::engine::options::StripeOptions;
use crate::provider::StripeTable;
use crate::stripe;
use crate::{Error, Result};

/// The default catalog name DataFusion uses; the Stripe tables live in its schema `stripe`.
pub const CATALOG: &str = "datafusion";
/// The schema holding the Stripe tables.
pub const SCHEMA: &str = "stripe";

/// A SQL session over one Stripe account (or the emulator).
pub struct Engine {
    ctx: SessionContext,
    client: stripe::Client,
}

impl Engine {
    /// A new session whose tables fetch through `client`.
    pub fn new(client: stripe::Client) -> Result<Self> {
        let ctx = SessionContext::new_with_config(session_config());
        register(&ctx, &client)?;
        Ok(Self { ctx, client })
    }

    /// The DataFusion context (for DataFrames, registering more tables, ...).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The Stripe client shared by every table of this engine.
    pub fn client(&self) -> &stripe::Client {
        &self.client
    }

    /// Runs one SQL statement and collects its result.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        let df = self.ctx.sql(sql).await?;
        Ok(df.collect().await?)
    }
}

/// The session configuration: information_schema on, `stripe` the default
/// schema, and the `stripe.*` settings registered.
pub fn session_config() -> SessionConfig {
    SessionConfig::new()
        .with_information_schema(true)
        .with_create_default_catalog_and_schema(true)
        .with_default_catalog_and_schema(CATALOG, SCHEMA)
        .with_option_extension(StripeOptions::default())
}

/// Registers schema `stripe` (every catalog table) and the engine's functions
/// into an existing context. Tables are reachable as `stripe.customers`, and
/// unqualified when `stripe` is the context's default schema.
pub fn register(ctx: &SessionContext, client: &stripe::Client) -> Result<()> {
    {
        let state = ctx.state_ref();
        let mut state = state.write();
        let extensions = &mut state.config_mut().options_mut().extensions;
        if extensions.get::<StripeOptions>().is_none() {
            extensions.insert(StripeOptions::default());
        }
    }
    let schema = Arc::new(MemorySchemaProvider::new());
    for def in &catalog::builtin().tables {
        let table = StripeTable::new(Arc::new(def.clone()), client.clone());
        schema.register_table(def.name.clone(), Arc::new(table))?;
    }
    let catalog_name = ctx.state().config().options().catalog.default_catalog.clone();
    let catalog = ctx
        .catalog(&catalog_name)
        .ok_or_else(|| Error::Config(format!("the session has no catalog named {catalog_name}")))?;
    catalog.register_schema(SCHEMA, schema)?;
    functions::register(ctx, client);
    Ok(())
}
