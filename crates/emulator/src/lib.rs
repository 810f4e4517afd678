//! The built-in fake Stripe over real HTTP (demo mode, tests, benches).
//!
//! A stateful emulator of the Stripe API: lists with Stripe's pagination and list
//! filters, retrieve/create/update/delete, search, action endpoints with state
//! machines, balance transactions and events as side effects, Stripe-shaped errors,
//! idempotent replay, and fault knobs (latency, 429s, 5xx, dropped connections).
//! Its filtering and validation are written independently of `pushdown/` and of the
//! catalog, so one wrong table cannot make both sides agree.

#[cfg(feature = "cli")]
pub mod args;
pub mod auth;
pub mod config;
pub mod connect;
pub mod demo;
pub mod error;
pub mod errors;
pub mod events;
pub mod expand;
pub mod faults;
pub mod filters;
pub mod form;
pub mod handle;
pub mod idempotency;
pub mod limits;
pub mod list;
pub mod params;
pub mod resources;
pub mod rng;
pub mod router;
pub mod search;
pub mod server;
pub mod store;

#[cfg(feature = "cli")]
pub use args::EmulatorArgs;
pub use config::{DataSet, EmulatorConfig};
pub use error::{Error, Result};
pub use handle::{Emulator, TEST_API_KEY};
pub use limits::RateWindow;

/// Runs the emulator in the foreground until Ctrl-C (`stripe-sql emulator ...`).
#[cfg(feature = "cli")]
pub async fn run_standalone(args: EmulatorArgs) -> crate::Result<()> {
    let data = match args.data.as_str() {
        "demo" => DataSet::Demo,
        "empty" => DataSet::Empty,
        other => {
            return Err(crate::Error::Config(format!("unknown --data {other:?}: expected demo or empty")));
        }
    };
    if !(0.0..=1.0).contains(&args.fail_rate) {
        return Err(crate::Error::Config(format!("--fail-rate must be between 0 and 1, got {}", args.fail_rate)));
    }
    let config = EmulatorConfig {
        data,
        scale: args.scale.max(1),
        latency: std::time::Duration::from_millis(args.latency_ms),
        endpoint_rps: args.endpoint_rps,
        global_rps: args.global_rps,
        rate_window: args.rate_window,
        fail_rate: args.fail_rate,
        seed: args.seed,
        accounts: args.connected_accounts,
        listen: Some(args.listen),
        ..Default::default()
    };
    // Building the demo data and binding are blocking; keep them off the async workers.
    let emulator = tokio::task::spawn_blocking(move || Emulator::start(config))
        .await
        .map_err(|e| crate::Error::Config(format!("emulator failed to start: {e}")))??;
    println!(
        "stripe-sql emulator listening on {} (data: {}, {} customers, {} connected accounts); use any sk_test_ key; Ctrl-C stops it",
        emulator.base_url(),
        args.data,
        emulator.count("customers"),
        args.connected_accounts
    );
    tokio::signal::ctrl_c().await?;
    tokio::task::spawn_blocking(move || drop(emulator)).await.ok();
    Ok(())
}
