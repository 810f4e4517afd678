//! stripe-sql: a SQL engine whose tables are a Stripe account.
//!
//! ```text
//!           REPL (rustyline)      pgwire server        embedded Rust API
//!                  \                  |                    /
//!                   +------------- engine ---------------+      one DataFusion SessionContext,
//!                                     |                         schema `stripe`, options `stripe.*`
//!         +---------------+-----------+-----------+---------------+
//!      provider/        dml/       actions/     catalog/        (events/watch)
//!    TableProvider    INSERT/      table-valued  what exists
//!    + scan exec      UPDATE/      functions     in Stripe,
//!         |           DELETE          |          as data
//!      pushdown/          \           |          /
//!    Expr -> request plan  +------ stripe/ -----+     HTTP client: auth, pagination,
//!                                     |                retries, rate limits, idempotency
//!                            Stripe API  or  emulator/ (built-in fake, same HTTP)
//! ```
//!
//! Data flows one way: SQL -> DataFusion plan -> pushdown decides the API calls ->
//! `stripe/` makes them -> JSON pages -> Arrow batches -> DataFusion finishes the query.

pub mod actions;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod dml;
pub mod embedded;
pub mod emulator;
pub mod engine;
pub mod error;
pub mod provider;
pub mod pushdown;
pub mod repl;
pub mod server;
pub mod stripe;
pub mod watch;

pub use embedded::StripeSql;
pub use error::{Error, Result};
