//! The one integration-test binary (one link of DataFusion instead of many).
//! Each component adds a module here.
mod accounts;
mod actions;
mod catalog;
mod cli;
mod client;
mod dml;
mod embedded;
mod emulator;
mod joins;
mod mirror_read;
mod peers;
mod pipeline;
mod read;
mod reliability;
mod repl;
mod serve;
mod slt;
mod speed;
mod sync;
mod watch;
