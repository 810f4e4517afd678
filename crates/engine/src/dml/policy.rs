//! Who may write, and the planning context every verb shares: the target
//! table, the client, the session's settings, the journal and, under
//! `stripe.accounts`, the routing of each row to its account.

use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::error::Result;

use crate::catalog::TableDef;
use crate::dml::journal::Journal;
use crate::dml::params::invalid;
use crate::provider::accounts::Routing;
use crate::settings::{StripeOptions, WritePolicy};
use crate::stripe;

/// Everything a write job needs, captured while planning (no API call here).
#[derive(Debug, Clone)]
pub struct WriteContext {
    /// The target table.
    pub def: Arc<TableDef>,
    /// The client that will send the calls.
    pub client: stripe::Client,
    /// The session's `stripe.*` settings at planning time.
    pub options: StripeOptions,
    /// Where the statement's report goes.
    pub journal: Arc<Journal>,
    /// The mirror the returned objects are merged into (read-your-writes).
    pub mirror: Option<crate::mirror::read::SessionMirror>,
    /// Under `stripe.accounts`: where each row's call goes (its `account`).
    pub routing: Option<Arc<Routing>>,
}

impl WriteContext {
    /// Checks the live-key policy and captures the session's settings.
    pub fn plan(def: Arc<TableDef>, client: stripe::Client, state: &dyn Session, verb: &str) -> Result<Self> {
        let policy = state.config().get_extension::<WritePolicy>().map(|p| *p).unwrap_or_default();
        if client.config().api_key.mode() == stripe::Mode::Live && !policy.allow_live_writes {
            return Err(invalid(format!(
                "{verb} {} refused: the api key is a live key and writes with live keys are off (start with --allow-live-writes to enable them)",
                def.name
            )));
        }
        let options = StripeOptions::from_session(state);
        let journal = state.config().get_extension::<Journal>().unwrap_or_default();
        let mirror = crate::mirror::read::session_mirror(state);
        let routing = Routing::of_session(state)?;
        Ok(Self { def, client, options, journal, mirror, routing })
    }
}
