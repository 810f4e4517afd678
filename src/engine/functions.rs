//! The engine's own table functions: `stripe_tables()` and `stripe_request_log()`.

use datafusion::execution::context::SessionContext;

use crate::stripe;

/// Registers the engine's table functions.
pub fn register(ctx: &SessionContext, client: &stripe::Client) {
    let _ = (ctx, client);
}
