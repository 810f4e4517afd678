//! Registers one table function per catalog action (`capture_payment_intent`,
//! `refund_charge`, …). Calling one at planning time only validates the
//! arguments and checks the key and settings; the returned [`ActionTable`]
//! sends the requests when the statement executes.

use std::sync::{Arc, OnceLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::Result;
use datafusion::execution::context::SessionContext;

use super::args;
use super::call::PreparedCall;
use super::exec::AccountChoice;
use super::get::GetFunction;
use super::table::ActionTable;
use crate::catalog::{self, ActionDef, ColumnDef, ColumnType, TableDef};
use crate::provider::accounts::Routing;
use crate::settings::StripeOptions;
use crate::stripe;
use datafusion::error::DataFusionError;

/// Registers every action of the built-in catalog, and `stripe_get`, into `ctx`.
pub fn register(ctx: &SessionContext, client: &stripe::Client) {
    for (def, result) in builtin_actions() {
        ctx.register_udtf(
            &def.name,
            Arc::new(ActionFunction { def: Arc::clone(def), result: Arc::clone(result), client: client.clone() }),
        );
    }
    ctx.register_udtf("stripe_get", Arc::new(GetFunction::new(client.clone())));
}

/// Every built-in action with its result table, built once per process and
/// shared by every session.
fn builtin_actions() -> &'static [(Arc<ActionDef>, Arc<TableDef>)] {
    static ACTIONS: OnceLock<Vec<(Arc<ActionDef>, Arc<TableDef>)>> = OnceLock::new();
    ACTIONS.get_or_init(|| {
        catalog::builtin().actions.iter().map(|def| (Arc::new(def.clone()), result_table(def))).collect()
    })
}

/// The table function of one action.
#[derive(Debug)]
pub struct ActionFunction {
    def: Arc<ActionDef>,
    result: Arc<TableDef>,
    client: stripe::Client,
}

impl TableFunctionImpl for ActionFunction {
    fn call_with_args(&self, call: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let parsed = args::parse(&self.def, call.exprs())?;
        let options = StripeOptions::from_session(call.session());
        if !options.dry_run {
            check_live_key(&self.def.name, &self.client, call.session())?;
        }
        let mut ids = parsed.ids;
        let accounts = match (Routing::of_session(call.session())?, parsed.account) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(DataFusionError::Plan(format!(
                    "{}: account => names an account to act as, which needs stripe.accounts (SET stripe.accounts = 'all' or a list of acct_… ids)",
                    self.def.name
                )));
            }
            (Some(routing), named) => {
                if let Some(account) = &named {
                    routing.check_shape(&self.def.name, account)?;
                }
                ids = args::follow_rows(ids)?;
                Some(AccountChoice { routing, named })
            }
        };
        let prepared =
            PreparedCall::new(Arc::clone(&self.def), parsed.body).with_concurrency(options.max_concurrency as usize);
        let table = ActionTable::new(prepared, self.client.clone(), ids, Arc::clone(&self.result), options.dry_run);
        Ok(Arc::new(table.with_accounts(accounts)))
    }
}

/// With a live key, actions need the engine's write policy to allow it
/// (`--allow-live-writes`); no SQL statement can lift it.
fn check_live_key(name: &str, client: &stripe::Client, session: &dyn datafusion::catalog::Session) -> Result<()> {
    let policy = session.config().get_extension::<crate::dml::WritePolicy>().map(|p| *p).unwrap_or_default();
    if client.config().api_key.mode() == stripe::Mode::Live && !policy.allow_live_writes {
        return Err(datafusion::error::DataFusionError::Plan(format!(
            "{name} would change a live stripe account and writes with a live key are off: start with --allow-live-writes (SET stripe.dry_run = true shows the requests without sending them)"
        )));
    }
    Ok(())
}

/// The table whose schema the action's rows take; actions returning an
/// object without a table get `id`, `object` and `_raw`.
fn result_table(def: &ActionDef) -> Arc<TableDef> {
    if let Some(table) = def.result_table.as_deref().and_then(|t| catalog::builtin().table(t)) {
        return Arc::new(table.clone());
    }
    let column =
        |name: &str, ty| ColumnDef { name: name.into(), ty, source: vec![], expandable: false, enum_values: vec![] };
    Arc::new(TableDef {
        name: def.returns.clone(),
        object: def.returns.clone(),
        list_path: String::new(),
        retrieve_path: None,
        search: None,
        parent: None,
        id_prefix: None,
        columns: vec![
            column("id", ColumnType::Utf8),
            column("object", ColumnType::Utf8),
            column("_raw", ColumnType::Json),
        ],
        list_filters: vec![],
        create: None,
        update: None,
        delete: None,
        delete_hint: None,
        paginated: true,
    })
}
