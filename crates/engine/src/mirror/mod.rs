//! The local mirror (`stripe-sql sync`): one Delta Lake table per Stripe table,
//! backfilled with the parallel split scan, then kept fresh from the Events
//! API, by `created` cursors and by periodic reconciliation. Each commit holds
//! a table's rows and its cursor together (see [`state`]).
//!
//! ```text
//!  plan (which tables, how)  ->  Syncer::open (checks, location, stores)
//!        Syncer::step: backfill -> follow (events / created) -> reconcile
//!                         \______ store (Delta: append, merge) ______/
//! ```

pub mod backfill;
mod commit;
pub mod events;
pub mod follow;
pub mod fresh;
pub mod location;
pub mod plan;
pub mod progress;
pub mod read;
pub mod read_exec;
pub mod reconcile;
pub mod state;
pub mod status;
pub mod store;
pub mod sync;
pub mod write_back;

pub use progress::{Observer, Progress};
pub use status::MirrorRoot;
pub use sync::{SyncOptions, Syncer, Target};
