//! The local mirror's storage: one Delta Lake table per Stripe table, where
//! each commit holds a table's rows and its cursor together (see [`state`]),
//! and the read side the engine uses to answer from it (`stripe.source`).
//! Filling and refreshing it is [`crate::sync`], a layer above the engine;
//! this module sits below the providers and writes, which read from it and
//! apply their results to it.
//!
//! ```text
//!  location (which folder, whose account)   fresh (when each table was last synced)
//!  store (Delta: append, merge, cursor in the commit)   state (cursors)
//!  partition (several accounts in one table, one partition each)
//!  read + read_exec (scans for stripe.source)   write_back (a write's objects)
//!  status (stripe_mirror_status())
//! ```

mod commit;
pub mod fresh;
pub mod location;
pub mod partition;
pub mod read;
pub mod read_exec;
pub mod state;
pub mod status;
pub mod store;
pub mod write_back;

pub use status::MirrorRoot;
