//! Builds the DataFusion SessionContext: schema `stripe` (also the default
//! schema) with one `StripeTable` per catalog table, the `stripe.*` settings,
//! and the engine's table functions. Also the embedded API (`Engine`), whose
//! statement pipeline (`statement.rs`) every front end runs SQL through.

pub mod function_docs;
pub(crate) mod functions;
pub(crate) mod passes;
mod statement;

pub use statement::collect_with_schema;

use std::sync::Arc;

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::prelude::SessionConfig;

use crate::dml;
#[cfg(feature = "demo")]
use crate::emulator::{Emulator, EmulatorConfig};
use crate::engine::functions::StatementMarks;
use crate::provider::StripeTable;
use crate::provider::accounts::{AccountsTable, Fanout};
use crate::settings::{JOIN_KEYS_CEILING, StripeOptions};
use crate::stripe;
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};

pub use crate::catalog::{CATALOG, SCHEMA};
/// RETURNING for a front end that parses statements itself (the Postgres
/// extended protocol): split it off, type it, run it.
pub use crate::dml::returning;

/// A SQL session over one Stripe account (or the built-in emulator).
pub struct Engine {
    ctx: SessionContext,
    client: stripe::Client,
    marks: Arc<StatementMarks>,
    /// Shared by the tables under `stripe.accounts`.
    fanout: Arc<Fanout>,
    /// Whether the tables now have the `account` column.
    accounts_on: AtomicBool,
    // Keeps the in-process emulator of demo mode alive as long as the engine.
    #[cfg(feature = "demo")]
    emulator: Option<Emulator>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Engine");
        out.field("client", &self.client);
        #[cfg(feature = "demo")]
        out.field("demo", &self.emulator.is_some());
        out.finish()
    }
}

impl Engine {
    /// A new session whose tables fetch through `client`.
    pub fn new(client: stripe::Client) -> Result<Self> {
        Self::with_runtime(client, Arc::new(RuntimeEnv::default()))
    }

    /// A new session whose tables fetch through `client` and whose queries
    /// draw on `runtime` (its memory pool is shared by every session built
    /// with it: `serve` bounds all its connections together).
    pub fn with_runtime(client: stripe::Client, runtime: Arc<RuntimeEnv>) -> Result<Self> {
        let ctx = SessionContext::new_with_state(session_state_with(runtime));
        let marks = Arc::new(StatementMarks::default());
        register_with_marks(&ctx, &client, Arc::clone(&marks))?;
        let fanout = Fanout::new(client.clone());
        // Writes and actions find it there (see `provider::accounts::Routing`).
        ctx.state_ref().write().config_mut().set_extension(Arc::clone(&fanout));
        Ok(Self {
            ctx,
            client,
            marks,
            fanout,
            accounts_on: AtomicBool::new(false),
            #[cfg(feature = "demo")]
            emulator: None,
        })
    }

    #[cfg(feature = "demo")]
    /// A session over an in-process emulator serving `config`'s data (demo mode
    /// when `config` is [`EmulatorConfig::demo`]). `tune` adjusts the client.
    pub fn with_emulator(config: EmulatorConfig, tune: impl FnOnce(&mut stripe::ClientConfig)) -> Result<Self> {
        let emulator = Emulator::start(config)?;
        let key = stripe::ApiKey::parse(emulator.api_key()).map_err(|e| Error::Config(e.to_string()))?;
        let mut client_config = stripe::ClientConfig::new(key);
        client_config.api_base = emulator.base_url();
        // The emulator is local: no client-side budget unless a test asks for one.
        client_config.max_rps = 0.0;
        client_config.endpoint_rps = 0.0;
        tune(&mut client_config);
        let mut engine = Self::new(stripe::Client::new(client_config)?)?;
        engine.emulator = Some(emulator);
        Ok(engine)
    }

    /// A session over the built-in emulator's demo data.
    #[cfg(feature = "demo")]
    pub fn demo() -> Result<Self> {
        Self::with_emulator(EmulatorConfig::demo(), |_| {})
    }

    /// The DataFusion context (for DataFrames, registering more tables, ...).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The Stripe client shared by every table of this engine.
    pub fn client(&self) -> &stripe::Client {
        &self.client
    }

    /// The in-process emulator, in demo mode.
    #[cfg(feature = "demo")]
    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }

    /// Marks the start of a statement for `stripe_last_requests()`.
    pub fn statement_started(&self) {
        self.marks.start_statement(self.client.request_log().len() as u64);
        self.fanout.clear_warnings();
        if let Err(e) = self.sync_accounts() {
            tracing::warn!("stripe.accounts: {e}");
        }
    }

    /// What the last statement reported without failing: under
    /// `stripe.accounts`, the accounts that failed.
    pub fn warnings(&self) -> Vec<String> {
        self.fanout.warnings()
    }

    /// [`Self::warnings`], forgotten once taken (a front end that shows them
    /// once: the REPL after the result, `serve` as notices).
    pub fn take_warnings(&self) -> Vec<String> {
        self.fanout.take_warnings()
    }

    /// Gives every table the `account` column when `stripe.accounts` was set
    /// (and takes it away when it was emptied): the tables are registered again
    /// as [`AccountsTable`]s or as plain [`StripeTable`]s.
    fn sync_accounts(&self) -> Result<()> {
        let options =
            self.ctx.state().config().options().extensions.get::<StripeOptions>().cloned().unwrap_or_default();
        let on = !options.accounts.trim().is_empty();
        if on == self.accounts_on.swap(on, Ordering::SeqCst) {
            return Ok(());
        }
        let catalog_name = self.ctx.state().config().options().catalog.default_catalog.clone();
        let schema = self
            .ctx
            .catalog(&catalog_name)
            .and_then(|c| c.schema(SCHEMA))
            .ok_or_else(|| Error::Config(format!("the session has no schema {SCHEMA}")))?;
        for (def, table_schema) in crate::provider::builtin_tables() {
            let table = StripeTable::shared(Arc::clone(def), Arc::clone(table_schema), self.client.clone());
            let table: Arc<dyn datafusion::datasource::TableProvider> = match on {
                true => Arc::new(AccountsTable::new(table, Arc::clone(&self.fanout))),
                false => Arc::new(table),
            };
            schema.deregister_table(&def.name)?;
            schema.register_table(def.name.clone(), table)?;
        }
        Ok(())
    }

    /// Sets `stripe.accounts` (`--accounts`): `all`, a list of `acct_…` ids,
    /// or empty for the client's one account.
    pub fn set_accounts(&self, accounts: &str) -> Result<()> {
        crate::pushdown::accounts::AccountSet::parse(accounts).map_err(Error::Config)?;
        {
            let state = self.ctx.state_ref();
            let mut state = state.write();
            let extensions = &mut state.config_mut().options_mut().extensions;
            let mut options = extensions.get::<StripeOptions>().cloned().unwrap_or_default();
            options.accounts = accounts.to_string();
            extensions.insert(options);
        }
        self.sync_accounts()
    }

    /// Where `stripe_mirror_status()` reads mirrors: a mirror folder, or a root
    /// of `<account>/<api version>` folders (`--mirror DIR`, default the data dir).
    pub fn set_mirror_root(&self, root: std::path::PathBuf) {
        let state = self.ctx.state_ref();
        let mut state = state.write();
        state.config_mut().set_extension(Arc::new(crate::mirror::MirrorRoot(root)));
    }

    /// Lets `stripe.source` read tables from the mirror under `dir` (a mirror
    /// folder, or a root of `<account>/<api version>` folders): `--mirror DIR`.
    /// `stripe_mirror_status()` reads there too.
    pub fn set_mirror(&self, dir: std::path::PathBuf) {
        self.set_mirror_root(dir.clone());
        let state = self.ctx.state_ref();
        let mut state = state.write();
        state.config_mut().set_extension(Arc::new(crate::mirror::read::MirrorReads(dir)));
    }

    /// Allows (or forbids, the default) writes when the client's key is a live
    /// key (`sk_live_`, `rk_live_`); the CLI's `--allow-live-writes`.
    pub fn set_allow_live_writes(&self, allow: bool) {
        let state = self.ctx.state_ref();
        let mut state = state.write();
        state.config_mut().set_extension(Arc::new(dml::WritePolicy { allow_live_writes: allow }));
    }
}

/// A session state with [`session_config`] and the DML guard as query planner
/// (it refuses UPDATE/DELETE whose WHERE the tables cannot see).
pub fn session_state() -> SessionState {
    session_state_with(Arc::new(RuntimeEnv::default()))
}

/// [`session_state`] over `runtime` (its memory pool, disk manager, ...).
pub fn session_state_with(runtime: Arc<RuntimeEnv>) -> SessionState {
    SessionStateBuilder::new()
        .with_config(session_config())
        .with_runtime_env(runtime)
        .with_default_features()
        .with_query_planner(Arc::new(dml::DmlGuard))
        .with_physical_optimizer_rules(physical_optimizer_rules())
        .build()
}

/// DataFusion's physical optimizer rules, after the provider's rule that turns a
/// scan split into ranges back into the ordered walk under `ORDER BY created DESC`,
/// and before the rule binding scans to their joins' keys.
fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> =
        vec![Arc::new(crate::provider::order::SequentialScanForCreatedOrder)];
    rules.extend(PhysicalOptimizer::new().rules);
    // Last: it binds scans to the dynamic filters DataFusion's late filter
    // pushdown has just placed.
    rules.push(Arc::new(crate::provider::join_rule::JoinKeysRule));
    rules
}

/// The session configuration: information_schema on, `stripe` the default
/// schema, and the `stripe.*` settings registered.
pub fn session_config() -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_create_default_catalog_and_schema(true)
        .with_default_catalog_and_schema(CATALOG, SCHEMA)
        .with_option_extension(StripeOptions::default())
        .with_extension(Arc::new(dml::Journal::default()))
        .with_extension(Arc::new(dml::WritePolicy::default()));
    // Join keys reach the scans as DataFusion's dynamic filters: on, and an IN
    // list (which names the keys) for every build side `stripe.join_max_keys`
    // may accept; the scan enforces the setting itself (see `join_key_limit`).
    let optimizer = &mut config.options_mut().optimizer;
    optimizer.enable_join_dynamic_filter_pushdown = true;
    optimizer.hash_join_inlist_pushdown_max_distinct_values = JOIN_KEYS_CEILING;
    // 10,000 ids of up to ~100 bytes each.
    optimizer.hash_join_inlist_pushdown_max_size = 1 << 20;
    config
}

/// Registers schema `stripe` (every catalog table) and the engine's functions
/// into an existing context. Tables are reachable as `stripe.customers`, and
/// unqualified when `stripe` is the context's default schema.
pub fn register(ctx: &SessionContext, client: &stripe::Client) -> Result<()> {
    register_with_marks(ctx, client, Arc::new(StatementMarks::default()))
}

fn register_with_marks(ctx: &SessionContext, client: &stripe::Client, marks: Arc<StatementMarks>) -> Result<()> {
    {
        let state = ctx.state_ref();
        let mut state = state.write();
        let extensions = &mut state.config_mut().options_mut().extensions;
        if extensions.get::<StripeOptions>().is_none() {
            extensions.insert(StripeOptions::default());
        }
        let inserts = crate::provider::inserts::Inserts(Arc::new(dml::insert::CreateCalls));
        state.config_mut().set_extension(Arc::new(inserts));
    }
    let schema = Arc::new(MemorySchemaProvider::new());
    for (def, table_schema) in crate::provider::builtin_tables() {
        let table = StripeTable::shared(Arc::clone(def), Arc::clone(table_schema), client.clone());
        schema.register_table(def.name.clone(), Arc::new(table))?;
    }
    let catalog_name = ctx.state().config().options().catalog.default_catalog.clone();
    let catalog = ctx
        .catalog(&catalog_name)
        .ok_or_else(|| Error::Config(format!("the session has no catalog named {catalog_name}")))?;
    catalog.register_schema(SCHEMA, schema)?;
    functions::register(ctx, client, marks);
    dml::journal::register(ctx);
    crate::actions::register(ctx, client);
    Ok(())
}
