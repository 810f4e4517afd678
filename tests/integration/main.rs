//! The one integration-test binary (one link of DataFusion instead of many).
//! Each component adds a module here.
mod actions;
mod catalog;
mod cli;
mod cli_repl;
mod client;
mod dml;
mod embedded;
mod emulator;
mod joins;
mod peers;
mod pushdown;
mod read_path;
mod readpath;
mod reliability;
mod repl;
mod serve;
mod serve_limits;
mod slt;
mod speed;
mod watch;
