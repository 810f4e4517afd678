//! `stripe-sql sync`: fills and refreshes the mirror ([`crate::mirror`]) —
//! backfilled with the parallel split scan, then kept fresh from the Events
//! API, by `created` cursors and by periodic reconciliation. It runs queries
//! through an [`crate::engine::Engine`], so it sits above the engine.
//!
//! ```text
//!  plan (which tables, how)  ->  Syncer::open (checks, location, stores)
//!        Syncer::step: backfill -> follow (events / created) -> reconcile -> maintain
//!                         \______ mirror::store (Delta: append, merge) ______/
//!  accounts: one Syncer per account (`--accounts`), each writing its partition
//! ```

pub mod accounts;
pub mod backfill;
pub mod events;
pub mod follow;
pub mod maintain;
pub mod plan;
pub mod progress;
pub mod reconcile;
pub mod syncer;

pub use accounts::AccountsSyncer;
pub use progress::{Observer, Progress};
pub use syncer::{SyncOptions, Syncer, Target};
