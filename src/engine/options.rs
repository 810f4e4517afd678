//! Session settings under `stripe.*` (`SET stripe.use_search = false`).

use datafusion::catalog::Session;
use datafusion::common::config::ConfigExtension;
use datafusion::common::extensions_options;

use crate::pushdown;

extensions_options! {
    /// Per-session settings of the Stripe tables.
    pub struct StripeOptions {
        /// Use Stripe's Search API for predicates list endpoints cannot express
        /// (search is eventually consistent: new objects appear after ~1 minute).
        pub use_search: bool, default = true
        /// Allow UPDATE/DELETE without a WHERE clause.
        pub allow_unfiltered_dml: bool, default = false
        /// Record the calls a write would make (see `stripe_last_write()`)
        /// instead of sending them; the statement's count is 0.
        pub dry_run: bool, default = false
        /// Concurrent requests one scan, or one write statement, may make.
        pub max_concurrency: u64, default = 8
    }
}

impl ConfigExtension for StripeOptions {
    const PREFIX: &'static str = "stripe";
}

impl StripeOptions {
    /// The session's settings (defaults when the extension is not registered).
    pub fn from_session(state: &dyn Session) -> Self {
        state.config_options().extensions.get::<StripeOptions>().cloned().unwrap_or_default()
    }

    /// The pushdown options these settings imply.
    pub fn pushdown(&self) -> pushdown::Options {
        pushdown::Options { use_search: self.use_search }
    }
}
