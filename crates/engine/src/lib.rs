//! stripe-sql's engine: a SQL engine whose tables are a Stripe account.
//!
//! ```text
//!      front ends (the `stripe-sql` application: REPL, -c/-f, pgwire server, watch)
//!      and embedders (StripeSql, register)
//!                                     |
//!                   +------------- engine ---------------+      one DataFusion SessionContext,
//!                                     |                         schema `stripe`, options `stripe.*`
//!         +---------------+-----------+-----------+---------------+
//!      provider/        dml/       actions/     catalog/        watch/
//!    TableProvider    INSERT/      table-valued  (crate          polling for new
//!    + scan exec      UPDATE/      functions     stripe-catalog  and changed rows
//!         |           DELETE          |          + Arrow types)
//!      pushdown/          \           |          /
//!    Expr -> request plan  +---- crate stripe-client ----+     HTTP client: auth, pagination,
//!                                     |                        retries, rate limits, idempotency
//!                      Stripe API  or  crate stripe-emulator (feature `demo`; same HTTP)
//! ```
//!
//! Data flows one way: SQL -> DataFusion plan -> pushdown decides the API calls ->
//! the client makes them -> JSON pages -> Arrow batches -> DataFusion finishes the query.
//!
//! Inside the crate, modules lean on the ones below them, never up:
//! `settings` (the `stripe.*` options and the write policy) and `time`
//! (leaves) <- `catalog` (Arrow and SQL types of the catalog) <- `decode`
//! (JSON -> Arrow, shared by scans, writes, actions, watch and the mirror) <-
//! `pushdown` (one pure function from filters to calls) and `mirror` (the
//! Delta tables' storage and reads) <- `provider` (the tables and their scans;
//! INSERT goes through the session's `provider::inserts::InsertPlanner`, so
//! reads never depend on writes) <- `dml` (writes; every UPDATE/DELETE selects
//! its rows through its own plan, `dml::exact`) <- `actions` <- `engine` (the
//! session and the one statement pipeline, `engine::statement`, every front
//! end's way in) <- `watch`, `sync` (fills the mirror), `embedded`.
//!
//! Public: [`StripeSql`] and [`register`] for embedders, `engine::Engine` (a
//! session; the front ends' way in), `settings`, `catalog`, `decode`, `watch`,
//! `sync` and `mirror`. `provider`, `pushdown`, `dml` and `actions` are
//! private: they are reached through SQL.
//!
//! The crates below this one (`stripe-client`, `stripe-catalog`, `stripe-emulator`)
//! know nothing of DataFusion; this crate knows nothing of terminals or wire
//! protocols (no rustyline, clap, pgwire or axum without `demo`).

pub(crate) mod actions;
pub mod catalog;
pub mod decode;
pub(crate) mod dml;
pub mod embedded;
pub mod engine;
pub mod error;
pub mod mirror;
pub(crate) mod provider;
pub(crate) mod pushdown;
pub mod settings;
pub mod sync;
mod time;
pub mod watch;

/// The Stripe HTTP client (crate `stripe-client`).
pub use stripe_client as stripe;
/// The built-in fake Stripe (crate `stripe-emulator`), with feature `demo`.
#[cfg(feature = "demo")]
pub use stripe_emulator as emulator;

pub use embedded::{StripeSql, StripeSqlBuilder, register, register_with_key};
pub use error::{Error, Result};
