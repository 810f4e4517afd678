//! The `stripe-sql` application: the front ends over the engine crate
//! (`stripe_sql`, in `crates/engine`).
//!
//! - [`cli`] and [`config`]: flags, environment and config file, and [`run`],
//!   the one place an engine is built from them;
//! - [`repl`]: the terminal REPL, `-c`, `-f` and piped scripts, and the
//!   output formats; [`backend`] adapts the engine to it;
//! - [`server`]: the Postgres wire protocol server (`serve`);
//! - [`watch_cmd`] and [`watch_feed`]: `stripe-sql watch` and the REPL's `\watch`;
//! - [`sync_cmd`]: `stripe-sql sync`, the local Delta Lake mirror.
//!
//! The layers below (engine, client, catalog, emulator) are crates of their
//! own, so nothing here can be reached from them: README "How it is built".

pub mod backend;
pub mod cli;
pub mod config;
pub mod repl;
pub mod run;
pub mod server;
pub mod sync_cmd;
pub mod watch_cmd;
pub mod watch_feed;

pub use stripe_sql::{Error, Result};
