//! The one integration-test binary (one link of DataFusion instead of many).
//! Each component adds a module here.
mod pushdown;
mod watch;
mod readpath;
mod catalog;
mod emulator;
mod repl;
mod cli;
mod cli_repl;
mod client;
mod slt;
mod read_path;
mod dml;
mod actions;
mod peers;
mod reliability;
mod serve;
mod serve_limits;
mod embedded;
mod speed;
