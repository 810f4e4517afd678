//! Writes: `INSERT`, `UPDATE` and `DELETE` on Stripe tables become create,
//! update and delete (or cancel) calls.
//!
//! DataFusion calls the DML hooks while *planning* (also for EXPLAIN), so the
//! hooks only build a [`exec::WriteExec`]; every API call happens when that plan
//! executes. [`guard::DmlGuard`] (a `QueryPlanner`) refuses UPDATE/DELETE plans
//! whose WHERE the provider cannot see (subqueries, `EXISTS`, `WHERE false`,
//! `LIMIT`, no WHERE at all unless `stripe.allow_unfiltered_dml`).
//!
//! - [`params`]: SQL values → Stripe params, validated against the catalog.
//! - [`insert`], [`update`], [`delete`]: the three verbs' jobs.
//! - [`exec`]: the execution plan that sends the calls (or only records them in dry run).
//! - [`report`]: what a write did, row by row; [`journal`]: `stripe_last_write()`.
//! - [`policy`]: live-key protection and the planning context shared by the verbs.

pub mod delete;
pub mod exact;
pub mod exec;
pub mod guard;
pub mod insert;
pub mod journal;
pub mod params;
pub mod policy;
pub mod report;
pub mod returning;
pub mod targets;
pub mod update;

pub use guard::DmlGuard;
pub use journal::Journal;
pub use policy::WritePolicy;
pub use report::{Call, RowOutcome, WriteReport};
