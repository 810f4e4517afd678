//! `stripe-sql watch` — triggers as SQL: new (and, with `--changes`, updated and
//! deleted) rows of one table as they happen, each printed exactly once.
//!
//! - [`query`]: checks the watched `SELECT` and recomposes it per poll with
//!   `created >= <high-water>` (pushed down as `created[gte]`).
//! - [`cursor`]: the high-water second plus the ids seen at it (no duplicates, no
//!   gaps when several objects share a second); [`state`]: the `--state` file.
//! - [`changes`]: updates and deletions from the `events` table.
//! - [`watcher`]: one poll over an [`crate::engine::Engine`] (also usable from Rust).
//! - [`budget`]: `--max-calls-per-minute`; [`interval`]: `500ms`, `15s`, `2m`.
//! - [`run`]: the command-line loop, output and signals.

pub mod budget;
pub(crate) mod changes;
pub(crate) mod cursor;
pub mod interval;
pub mod query;
pub mod state;
pub mod watcher;

pub use budget::CallBudget;
pub use changes::ChangeKind;
pub use cursor::Cursor;
pub use interval::parse_interval;
pub use query::WatchQuery;
pub use state::WatchState;
pub use watcher::{Poll, WatchOptions, Watcher};
